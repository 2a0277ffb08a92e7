// Assembly of an ONNX graph from LibTorch tensors: initializers, nodes with
// their attributes, and the graph's inputs and outputs. Used by the exporter.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/export/onnx_library.hpp"

namespace nasq::exporting {

// Appends to one onnx::GraphProto and rejects duplicate tensor names, which
// ONNX forbids (every name has one producer).
class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto& graph) : graph_(graph) {}

  // Adds `tensor` (float32, int8 or uint8, any device) as the initializer
  // `name`, stored as little-endian raw data, and returns the name. Throws
  // std::logic_error for another dtype or a name already in use.
  std::string add_initializer(const std::string& name, const torch::Tensor& tensor);

  // Adds the node op_type(inputs) -> output, named like its output, and
  // returns it so that the caller can set attributes. An input "" is an
  // omitted optional input.
  onnx::NodeProto& add_node(const std::string& op_type, const std::vector<std::string>& inputs,
                            const std::string& output);

  // Declares a float32 graph input or output. A dimension of -1 becomes the
  // symbolic dimension "batch".
  void add_input(const std::string& name, const std::vector<std::int64_t>& dims);
  void add_output(const std::string& name, const std::vector<std::int64_t>& dims);

 private:
  void claim_name(const std::string& name);

  onnx::GraphProto& graph_;
  std::set<std::string> names_;
};

void set_attribute(onnx::NodeProto& node, const std::string& name, std::int64_t value);
void set_attribute(onnx::NodeProto& node, const std::string& name,
                   const std::vector<std::int64_t>& values);

}  // namespace nasq::exporting
