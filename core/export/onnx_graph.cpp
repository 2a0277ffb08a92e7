// GraphBuilder: ONNX initializers, nodes and value infos from LibTorch tensors.
#include "core/export/onnx_graph.hpp"

#include <torch/torch.h>

#include <bit>
#include <stdexcept>

namespace nasq::exporting {
namespace {

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian; the exporter copies tensor memory as it is");

onnx::TensorProto_DataType onnx_type(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat:
      return onnx::TensorProto_DataType_FLOAT;
    case torch::kChar:
      return onnx::TensorProto_DataType_INT8;
    case torch::kByte:
      return onnx::TensorProto_DataType_UINT8;
    default:
      throw std::logic_error(std::string("the ONNX exporter stores float32, int8 and uint8 "
                                         "tensors only, not ") +
                             c10::toString(dtype) + "; this is a bug in nasq");
  }
}

void fill_value_info(onnx::ValueInfoProto& info, const std::string& name,
                     const std::vector<std::int64_t>& dims) {
  info.set_name(name);
  onnx::TypeProto_Tensor* type = info.mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  onnx::TensorShapeProto* shape = type->mutable_shape();
  for (const std::int64_t dim : dims) {
    onnx::TensorShapeProto_Dimension* entry = shape->add_dim();
    if (dim < 0) {
      entry->set_dim_param("batch");
    } else {
      entry->set_dim_value(dim);
    }
  }
}

}  // namespace

void GraphBuilder::claim_name(const std::string& name) {
  if (!names_.insert(name).second) {
    throw std::logic_error("the ONNX exporter named two tensors '" + name +
                           "'; this is a bug in nasq");
  }
}

std::string GraphBuilder::add_initializer(const std::string& name, const torch::Tensor& tensor) {
  const onnx::TensorProto_DataType type = onnx_type(tensor.scalar_type());
  claim_name(name);
  const torch::Tensor data = tensor.detach().cpu().contiguous();
  onnx::TensorProto* proto = graph_.add_initializer();
  proto->set_name(name);
  proto->set_data_type(type);
  for (const std::int64_t dim : data.sizes()) proto->add_dims(dim);
  proto->set_raw_data(data.data_ptr(), data.numel() * data.element_size());
  return name;
}

onnx::NodeProto& GraphBuilder::add_node(const std::string& op_type,
                                        const std::vector<std::string>& inputs,
                                        const std::string& output) {
  claim_name(output);
  onnx::NodeProto* node = graph_.add_node();
  node->set_op_type(op_type);
  node->set_name(output);
  for (const std::string& input : inputs) node->add_input(input);
  node->add_output(output);
  return *node;
}

void GraphBuilder::add_input(const std::string& name, const std::vector<std::int64_t>& dims) {
  claim_name(name);
  fill_value_info(*graph_.add_input(), name, dims);
}

void GraphBuilder::add_output(const std::string& name, const std::vector<std::int64_t>& dims) {
  fill_value_info(*graph_.add_output(), name, dims);
}

void set_attribute(onnx::NodeProto& node, const std::string& name, std::int64_t value) {
  onnx::AttributeProto* attribute = node.add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto_AttributeType_INT);
  attribute->set_i(value);
}

void set_attribute(onnx::NodeProto& node, const std::string& name,
                   const std::vector<std::int64_t>& values) {
  onnx::AttributeProto* attribute = node.add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (const std::int64_t value : values) attribute->add_ints(value);
}

}  // namespace nasq::exporting
