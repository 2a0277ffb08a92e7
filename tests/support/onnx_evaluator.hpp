// Test helpers: runs an ONNX graph with LibTorch ops and compares its logits
// with the C++ network's, to check an exported model without an ONNX runtime.
#pragma once

#include <torch/types.h>

#include <filesystem>
#include <map>
#include <string>

#include "core/export/onnx_library.hpp"

namespace nasq::test {

// Parses a serialized ModelProto; throws std::runtime_error when it is not one.
onnx::ModelProto parse_onnx_model(const std::string& bytes);
onnx::ModelProto read_onnx_model(const std::filesystem::path& file);

// Returns the LibTorch tensor of an initializer (float32, int8, uint8, int32
// or int64; raw_data or the typed fields).
torch::Tensor tensor_from_proto(const onnx::TensorProto& proto);

// Runs the nodes of the model's graph in order (ONNX requires topological
// order) on `inputs` and returns every value by name: initializers, inputs
// and node outputs. The ops are those of the nasq exporter at opset 13.
// QuantizeLinear and DequantizeLinear work per tensor or per axis, round ties
// to even and saturate to the zero point's type. Conv supports 2-D inputs,
// group, strides, pads and dilations. Clip, Add, GlobalAveragePool, Flatten,
// Gemm and MatMul complete the set. Throws std::runtime_error for another op
// or attribute value.
std::map<std::string, torch::Tensor> evaluate_onnx_graph(
    const onnx::ModelProto& model, const std::map<std::string, torch::Tensor>& inputs);

// Agreement of two logit batches [N, classes].
struct LogitAgreement {
  double max_abs_difference = 0.0;
  double max_abs_logit = 0.0;  // of the expected logits
  // Fraction of images whose max |difference| is at most the relative
  // tolerance times max_abs_logit.
  double images_within_tolerance = 0.0;
  double argmax_agreement = 0.0;  // fraction of images
};

LogitAgreement compare_logits(const torch::Tensor& expected, const torch::Tensor& actual,
                              double relative_tolerance);

}  // namespace nasq::test
