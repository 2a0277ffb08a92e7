// ONNX graph evaluation with LibTorch ops, for the export tests.
#include "tests/support/onnx_evaluator.hpp"

#include <torch/torch.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace nasq::test {
namespace {

using Values = std::map<std::string, torch::Tensor>;
using OpFunction = torch::Tensor (*)(const onnx::NodeProto&, const Values&);

[[noreturn]] void fail(const onnx::NodeProto& node, const std::string& message) {
  throw std::runtime_error("ONNX node '" + node.name() + "' (" + node.op_type() + "): " + message);
}

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const onnx::AttributeProto& attribute : node.attribute()) {
    if (attribute.name() == name) return &attribute;
  }
  return nullptr;
}

std::int64_t int_attribute(const onnx::NodeProto& node, const std::string& name,
                           std::int64_t fallback) {
  const onnx::AttributeProto* attribute = find_attribute(node, name);
  return attribute == nullptr ? fallback : attribute->i();
}

float float_attribute(const onnx::NodeProto& node, const std::string& name, float fallback) {
  const onnx::AttributeProto* attribute = find_attribute(node, name);
  return attribute == nullptr ? fallback : attribute->f();
}

std::vector<std::int64_t> ints_attribute(const onnx::NodeProto& node, const std::string& name,
                                         std::vector<std::int64_t> fallback) {
  const onnx::AttributeProto* attribute = find_attribute(node, name);
  if (attribute == nullptr) return fallback;
  return {attribute->ints().begin(), attribute->ints().end()};
}

// Input `index` of the node, or an undefined tensor for an omitted optional
// input.
torch::Tensor input(const onnx::NodeProto& node, const Values& values, int index) {
  if (index >= node.input_size() || node.input(index).empty()) return {};
  const auto found = values.find(node.input(index));
  if (found == values.end()) fail(node, "input '" + node.input(index) + "' has no value yet");
  return found->second;
}

torch::Tensor required_input(const onnx::NodeProto& node, const Values& values, int index) {
  torch::Tensor tensor = input(node, values, index);
  if (!tensor.defined()) fail(node, "input " + std::to_string(index) + " is missing");
  return tensor;
}

// A scale or zero point: as it is when 0-dim (per tensor), else shaped to
// broadcast along `axis` of x (per axis).
torch::Tensor along_axis(const onnx::NodeProto& node, const torch::Tensor& parameter,
                         const torch::Tensor& x) {
  if (parameter.dim() == 0) return parameter;
  std::int64_t axis = int_attribute(node, "axis", 1);
  if (axis < 0) axis += x.dim();
  if (parameter.dim() != 1 || axis < 0 || axis >= x.dim() || parameter.size(0) != x.size(axis)) {
    fail(node, "a per-axis parameter needs one value per slice of axis " + std::to_string(axis));
  }
  std::vector<std::int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  shape[static_cast<std::size_t>(axis)] = parameter.size(0);
  return parameter.reshape(shape);
}

torch::Tensor quantize_linear(const onnx::NodeProto& node, const Values& values) {
  const torch::Tensor x = required_input(node, values, 0);
  const torch::Tensor scale = required_input(node, values, 1);
  torch::Tensor zero_point = input(node, values, 2);
  if (!zero_point.defined()) zero_point = torch::zeros({}, torch::kByte);

  double low = 0.0;
  double high = 255.0;
  if (zero_point.scalar_type() == torch::kChar) {
    low = -128.0;
    high = 127.0;
  } else if (zero_point.scalar_type() != torch::kByte) {
    fail(node, "the zero point must be int8 or uint8");
  }
  // torch::round rounds ties to even, as QuantizeLinear does.
  const torch::Tensor rounded = torch::round(x / along_axis(node, scale, x)) +
                                along_axis(node, zero_point.to(torch::kFloat), x);
  return rounded.clamp(low, high).to(zero_point.scalar_type());
}

torch::Tensor dequantize_linear(const onnx::NodeProto& node, const Values& values) {
  const torch::Tensor x = required_input(node, values, 0);
  const torch::Tensor scale = required_input(node, values, 1);
  torch::Tensor zero_point = input(node, values, 2);
  if (!zero_point.defined()) zero_point = torch::zeros({}, x.scalar_type());
  const torch::Tensor shifted = x.to(torch::kFloat) - along_axis(node, zero_point.to(torch::kFloat), x);
  return shifted * along_axis(node, scale, x);
}

torch::Tensor conv(const onnx::NodeProto& node, const Values& values) {
  torch::Tensor x = required_input(node, values, 0);
  const torch::Tensor weight = required_input(node, values, 1);
  const torch::Tensor bias = input(node, values, 2);
  if (x.dim() != 4 || weight.dim() != 4) fail(node, "only 2-D convolutions are supported");
  const onnx::AttributeProto* auto_pad = find_attribute(node, "auto_pad");
  if (auto_pad != nullptr && auto_pad->s() != "NOTSET") fail(node, "auto_pad is not supported");
  const std::vector<std::int64_t> kernel =
      ints_attribute(node, "kernel_shape", {weight.size(2), weight.size(3)});
  if (kernel != std::vector<std::int64_t>{weight.size(2), weight.size(3)}) {
    fail(node, "kernel_shape does not match the weight");
  }

  const std::vector<std::int64_t> strides = ints_attribute(node, "strides", {1, 1});
  const std::vector<std::int64_t> dilations = ints_attribute(node, "dilations", {1, 1});
  const std::vector<std::int64_t> pads = ints_attribute(node, "pads", {0, 0, 0, 0});
  if (pads.size() != 4) fail(node, "pads needs 4 values");
  std::vector<std::int64_t> padding{pads[0], pads[1]};
  if (pads[0] != pads[2] || pads[1] != pads[3]) {
    // ONNX orders pads as [top, left, bottom, right]; constant_pad_nd takes
    // [left, right, top, bottom].
    x = at::constant_pad_nd(x, {pads[1], pads[3], pads[0], pads[2]});
    padding = {0, 0};
  }
  return at::conv2d(x, weight, bias, strides, padding, dilations,
                    int_attribute(node, "group", 1));
}

torch::Tensor clip(const onnx::NodeProto& node, const Values& values) {
  torch::Tensor y = required_input(node, values, 0);
  const torch::Tensor low = input(node, values, 1);
  const torch::Tensor high = input(node, values, 2);
  if (low.defined()) y = y.clamp_min(low.item<double>());
  if (high.defined()) y = y.clamp_max(high.item<double>());
  return y;
}

torch::Tensor add(const onnx::NodeProto& node, const Values& values) {
  return required_input(node, values, 0) + required_input(node, values, 1);
}

torch::Tensor global_average_pool(const onnx::NodeProto& node, const Values& values) {
  const torch::Tensor x = required_input(node, values, 0);
  std::vector<std::int64_t> spatial;
  for (std::int64_t d = 2; d < x.dim(); ++d) spatial.push_back(d);
  return x.mean(spatial, /*keepdim=*/true);
}

torch::Tensor flatten(const onnx::NodeProto& node, const Values& values) {
  const torch::Tensor x = required_input(node, values, 0);
  std::int64_t axis = int_attribute(node, "axis", 1);
  if (axis < 0) axis += x.dim();
  std::int64_t outer = 1;
  for (std::int64_t d = 0; d < axis; ++d) outer *= x.size(d);
  return x.reshape({outer, x.numel() / std::max<std::int64_t>(outer, 1)});
}

torch::Tensor gemm(const onnx::NodeProto& node, const Values& values) {
  torch::Tensor a = required_input(node, values, 0);
  torch::Tensor b = required_input(node, values, 1);
  const torch::Tensor c = input(node, values, 2);
  if (int_attribute(node, "transA", 0) != 0) a = a.t();
  if (int_attribute(node, "transB", 0) != 0) b = b.t();
  const double alpha = float_attribute(node, "alpha", 1.0F);
  const double beta = float_attribute(node, "beta", 1.0F);
  if (!c.defined()) return torch::mm(a, b) * alpha;
  return at::addmm(c.expand({a.size(0), b.size(1)}), a, b, beta, alpha);
}

torch::Tensor matmul(const onnx::NodeProto& node, const Values& values) {
  return torch::matmul(required_input(node, values, 0), required_input(node, values, 1));
}

const std::map<std::string, OpFunction>& op_functions() {
  static const std::map<std::string, OpFunction> functions{
      {"QuantizeLinear", quantize_linear},
      {"DequantizeLinear", dequantize_linear},
      {"Conv", conv},
      {"Clip", clip},
      {"Add", add},
      {"GlobalAveragePool", global_average_pool},
      {"Flatten", flatten},
      {"Gemm", gemm},
      {"MatMul", matmul}};
  return functions;
}

torch::ScalarType scalar_type(std::int32_t data_type) {
  switch (data_type) {
    case onnx::TensorProto_DataType_FLOAT:
      return torch::kFloat;
    case onnx::TensorProto_DataType_INT8:
      return torch::kChar;
    case onnx::TensorProto_DataType_UINT8:
      return torch::kByte;
    case onnx::TensorProto_DataType_INT32:
      return torch::kInt;
    case onnx::TensorProto_DataType_INT64:
      return torch::kLong;
    default:
      throw std::runtime_error("unsupported ONNX tensor data type " + std::to_string(data_type));
  }
}

// Copies the typed field (float_data, int32_data or int64_data) into `tensor`.
void copy_typed_data(const onnx::TensorProto& proto, torch::Tensor& tensor) {
  std::vector<double> data;
  if (proto.data_type() == onnx::TensorProto_DataType_FLOAT) {
    data.assign(proto.float_data().begin(), proto.float_data().end());
  } else if (proto.data_type() == onnx::TensorProto_DataType_INT64) {
    data.assign(proto.int64_data().begin(), proto.int64_data().end());
  } else {
    data.assign(proto.int32_data().begin(), proto.int32_data().end());
  }
  if (static_cast<std::int64_t>(data.size()) != tensor.numel()) {
    throw std::runtime_error("ONNX tensor '" + proto.name() + "' holds " +
                             std::to_string(data.size()) + " values for " +
                             std::to_string(tensor.numel()) + " elements");
  }
  tensor.copy_(torch::tensor(data, torch::kDouble).reshape(tensor.sizes()));
}

}  // namespace

onnx::ModelProto parse_onnx_model(const std::string& bytes) {
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) {
    throw std::runtime_error("the bytes are not a serialized ONNX ModelProto");
  }
  return model;
}

onnx::ModelProto read_onnx_model(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) throw std::runtime_error("failed to open " + file.string());
  std::ostringstream bytes;
  bytes << stream.rdbuf();
  return parse_onnx_model(bytes.str());
}

torch::Tensor tensor_from_proto(const onnx::TensorProto& proto) {
  if (proto.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) {
    throw std::runtime_error("ONNX tensor '" + proto.name() + "' uses external data");
  }
  const std::vector<std::int64_t> dims(proto.dims().begin(), proto.dims().end());
  torch::Tensor tensor = torch::empty(dims, scalar_type(proto.data_type()));
  if (!proto.has_raw_data()) {
    copy_typed_data(proto, tensor);
    return tensor;
  }
  const std::size_t bytes = static_cast<std::size_t>(tensor.numel() * tensor.element_size());
  if (proto.raw_data().size() != bytes) {
    throw std::runtime_error("ONNX tensor '" + proto.name() + "' has " +
                             std::to_string(proto.raw_data().size()) + " bytes of raw data for " +
                             std::to_string(bytes) + " bytes of elements");
  }
  std::memcpy(tensor.data_ptr(), proto.raw_data().data(), bytes);
  return tensor;
}

std::map<std::string, torch::Tensor> evaluate_onnx_graph(
    const onnx::ModelProto& model, const std::map<std::string, torch::Tensor>& inputs) {
  const onnx::GraphProto& graph = model.graph();
  Values values;
  for (const onnx::TensorProto& initializer : graph.initializer()) {
    values[initializer.name()] = tensor_from_proto(initializer);
  }
  for (const onnx::ValueInfoProto& info : graph.input()) {
    if (values.count(info.name()) != 0) continue;
    const auto found = inputs.find(info.name());
    if (found == inputs.end()) {
      throw std::runtime_error("no value given for the graph input '" + info.name() + "'");
    }
    values[info.name()] = found->second;
  }

  torch::NoGradGuard no_grad;
  for (const onnx::NodeProto& node : graph.node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx") fail(node, "unsupported domain");
    const auto function = op_functions().find(node.op_type());
    if (function == op_functions().end()) fail(node, "unsupported op");
    if (node.output_size() != 1) fail(node, "only nodes with one output are supported");
    values[node.output(0)] = function->second(node, values);
  }
  return values;
}

LogitAgreement compare_logits(const torch::Tensor& expected, const torch::Tensor& actual,
                              double relative_tolerance) {
  const torch::Tensor difference = (expected - actual).abs();
  LogitAgreement agreement;
  agreement.max_abs_difference = difference.max().item<double>();
  agreement.max_abs_logit = expected.abs().max().item<double>();
  const torch::Tensor within =
      std::get<0>(difference.max(1)) <= relative_tolerance * agreement.max_abs_logit;
  agreement.images_within_tolerance = within.to(torch::kDouble).mean().item<double>();
  agreement.argmax_agreement =
      expected.argmax(1).eq(actual.argmax(1)).to(torch::kDouble).mean().item<double>();
  return agreement;
}

}  // namespace nasq::test
