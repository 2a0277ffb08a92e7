// Lowering of the discrete network to an ONNX graph in QDQ form: quantizer
// grids as QuantizeLinear/DequantizeLinear, batch norm folded into the conv
// weights, and the checks that run before model.onnx is written.
#include "core/export/onnx_export.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

// onnx_graph.hpp includes onnx_library.hpp, which defines the macros that the
// other ONNX headers need, so it comes first.
#include "core/export/onnx_graph.hpp"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include "core/export/trained_network.hpp"
#include "core/model/layers.hpp"
#include "core/model/supernet.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/log.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::exporting {
namespace {

// IR version 7 is the version of ONNX 1.8, the release that introduced
// opset 13 (onnx.helper.VERSION_TABLE of python3-onnx 1.12), so runtimes from
// that release on read the file.
constexpr std::int64_t kIrVersion = 7;

// Largest distance, in steps, of a quantized weight from the integer grid
// that export_grid() states. Float rounding of k * s stays far below it.
constexpr double kGridTolerance = 1e-3;

// An integer type of QuantizeLinear at opset 13 and its range.
struct Container {
  torch::ScalarType dtype;
  std::int64_t low;
  std::int64_t high;
};
constexpr Container kInt8{torch::kChar, -128, 127};
constexpr Container kUint8{torch::kByte, 0, 255};

std::string grid_text(const sdk::QuantizationGrid& grid) {
  std::string text = "{";
  text += std::to_string(grid.min_level);
  text += ", ..., ";
  text += std::to_string(grid.max_level);
  text += "}";
  return text;
}

// int8 for a grid with negative integers, uint8 for a grid without.
Container container_for(const sdk::QuantizationGrid& grid, const std::string& site) {
  if (grid.min_level < 0 && grid.min_level >= kInt8.low && grid.max_level <= kInt8.high) {
    return kInt8;
  }
  if (grid.min_level >= 0 && grid.max_level <= kUint8.high) return kUint8;
  throw sdk::Error("cannot export " + site + " to ONNX: its grid " + grid_text(grid) +
                   " fits neither int8 nor uint8, the only integer types of QuantizeLinear at "
                   "opset 13; the quantizer must state grids of at most 8 bits");
}

// Calls op.export_grid() and checks that QuantizeLinear can express the
// result. The returned scale is float32.
sdk::QuantizationGrid export_grid_of(const sdk::QuantizerOp& op, const torch::Tensor& weight,
                                     int bits, const std::string& site) {
  sdk::QuantizationGrid grid;
  try {
    grid = op.export_grid(weight, bits);
  } catch (const sdk::Error& error) {
    throw sdk::Error("cannot export " + site + " to ONNX: " + error.what());
  }

  const std::string source = "cannot export " + site + " to ONNX: the quantizer's export_grid() ";
  if (!grid.scale.defined() || grid.scale.dim() > 1 || grid.scale.numel() == 0) {
    throw sdk::Error(source + "returned no scale, or one with more than one dimension");
  }
  grid.scale = grid.scale.detach().to(torch::kFloat);
  if (!(grid.scale > 0).all().item<bool>() || !torch::isfinite(grid.scale).all().item<bool>()) {
    throw sdk::Error(source + "returned a scale that is not positive and finite");
  }
  if (grid.min_level > 0 || grid.max_level < 0) {
    throw sdk::Error(source + "returned the grid " + grid_text(grid) +
                     ", which does not contain 0 (the zero point)");
  }
  return grid;
}

// `scale` (0-dim, or [C] for dim 0 of the weight) shaped to broadcast
// against a weight with `weight_dims` dimensions.
torch::Tensor per_channel_view(const torch::Tensor& scale, std::int64_t weight_dims) {
  if (scale.dim() == 0) return scale;
  std::vector<std::int64_t> shape(static_cast<std::size_t>(weight_dims), 1);
  shape[0] = scale.size(0);
  return scale.reshape(shape);
}

// The integers k of the quantized weight, shaped like the weight (double):
// forward(weight) / scale, rounded, after checking that forward() put every
// weight on the grid of export_grid().
torch::Tensor weight_levels(sdk::QuantizerOp& op, const torch::Tensor& weight, int bits,
                            const sdk::QuantizationGrid& grid, const std::string& site) {
  if (grid.scale.dim() == 1 && grid.scale.size(0) != weight.size(0)) {
    throw sdk::Error("cannot export " + site + " to ONNX: the quantizer's export_grid() returned " +
                     std::to_string(grid.scale.size(0)) + " scales for a weight with " +
                     std::to_string(weight.size(0)) + " output channels");
  }
  const torch::Tensor quantized = op.forward(weight.detach(), bits).detach().to(torch::kDouble);
  const torch::Tensor steps =
      quantized / per_channel_view(grid.scale.to(torch::kDouble), weight.dim());
  const torch::Tensor levels = torch::round(steps);

  const double off_grid = (steps - levels).abs().max().item<double>();
  const double low = levels.min().item<double>();
  const double high = levels.max().item<double>();
  if (off_grid > kGridTolerance || low < static_cast<double>(grid.min_level) ||
      high > static_cast<double>(grid.max_level)) {
    throw sdk::Error("cannot export " + site + " to ONNX: the quantizer's forward() does not put "
                     "the weights on the grid " + grid_text(grid) + " of its export_grid() (up to " +
                     std::to_string(off_grid) + " steps off, integers " + std::to_string(low) +
                     " to " + std::to_string(high) + "); the exported model would differ from the "
                     "trained one");
  }
  return levels;
}

// A conv weight with its batch norm folded in, as QuantizeLinear (axis 0)
// and DequantizeLinear receive it.
struct FoldedConv {
  torch::Tensor weight;      // float [O, I, k, k]: signed integers times the channel's scale
  torch::Tensor scale;       // float [O]
  torch::Tensor zero_point;  // int8 [O]
  torch::Tensor bias;        // float [O]
};

// The zero point of an output channel whose batch norm factor is negative,
// for a weight grid that fits int8. The channel's integers are -k, so the
// grid {min, ..., max} becomes {-max, ..., -min}. LSQ's -2^(b-1) at 8 bits
// becomes 128, beyond int8, so the zero point -1 stores -k - 1 instead and
// DequantizeLinear adds the 1 back. Every other grid gets 0.
std::int64_t mirrored_zero_point(const sdk::QuantizationGrid& grid) {
  return std::min<std::int64_t>(0, kInt8.high + grid.min_level);
}

// Folds the layer's batch norm y = (x - mean) * g + beta, with
// g = gamma / sqrt(var + eps), into the quantized weight and a bias. Channel c
// keeps its integers k (times the sign of g_c) with the scale s_c * |g_c|, so
// the folded weights still lie on a b-bit grid of their own. A channel with
// g_c = 0 gets the integers 0 and keeps the scale s_c.
FoldedConv fold_batch_norm(const model::QuantizedConvImpl& layer, const torch::Tensor& levels,
                           const sdk::QuantizationGrid& grid, const std::string& site) {
  if (grid.min_level < kInt8.low || grid.max_level > kInt8.high) {
    throw sdk::Error("cannot export " + site + " to ONNX: its weight grid " + grid_text(grid) +
                     " does not fit int8, the integer type of QuantizeLinear for signed weights "
                     "at opset 13");
  }
  const torch::nn::BatchNorm2dImpl& bn = *layer.bn;
  const torch::Tensor gamma = bn.weight.detach().to(torch::kDouble);
  const torch::Tensor beta = bn.bias.detach().to(torch::kDouble);
  const torch::Tensor mean = bn.running_mean.detach().to(torch::kDouble);
  const torch::Tensor variance = bn.running_var.detach().to(torch::kDouble);
  const torch::Tensor factor = gamma / torch::sqrt(variance + bn.options.eps());

  const std::int64_t channels = levels.size(0);
  const torch::Tensor step = grid.scale.to(torch::kDouble).expand({channels});
  const torch::Tensor magnitude = factor.abs();
  const torch::Tensor negative = factor < 0;
  const torch::Tensor sign = 1.0 - 2.0 * negative.to(torch::kDouble);
  const torch::Tensor nonzero_factor = (magnitude > 0).to(torch::kDouble);
  const torch::Tensor channel_levels =
      levels * per_channel_view(sign * nonzero_factor, levels.dim());

  FoldedConv folded;
  folded.scale = torch::where(magnitude > 0, step * magnitude, step).to(torch::kFloat);
  folded.weight = channel_levels.to(torch::kFloat) * per_channel_view(folded.scale, levels.dim());
  folded.zero_point = (negative.to(torch::kLong) * mirrored_zero_point(grid)).to(torch::kChar);
  folded.bias = (beta - mean * factor).to(torch::kFloat);
  return folded;
}

// Emits the graph of the network layer by layer and returns each output name.
class Lowering {
 public:
  explicit Lowering(GraphBuilder& graph) : graph_(graph) {
    relu6_min_ = graph_.add_initializer("relu6_min", torch::zeros({}));
    relu6_max_ = graph_.add_initializer("relu6_max", torch::full({}, 6.0));
  }

  std::string conv(model::QuantizedConvImpl& layer, const std::string& input);
  std::string block(model::DiscreteBlockImpl& block, const std::string& name,
                    const std::string& input);
  // Global average pooling, Flatten and the FC layer, whose output is the
  // graph's output.
  std::string classifier(model::QuantizedLinearImpl& fc, const std::string& input);

 private:
  std::string quantize_activation(const sdk::QuantizerOp& op, int bits, const std::string& layer,
                                  const std::string& input);
  std::string quantize_weight(const std::string& layer, const torch::Tensor& weight,
                              const torch::Tensor& scale, const torch::Tensor& zero_point);

  GraphBuilder& graph_;
  std::string relu6_min_;
  std::string relu6_max_;
};

std::string site_name(const std::string& layer, const char* tensor, int bits) {
  return "the " + std::string(tensor) + " of layer '" + layer + "' at " + std::to_string(bits) +
         " bits";
}

// [Clip] -> QuantizeLinear -> DequantizeLinear on a layer's input.
std::string Lowering::quantize_activation(const sdk::QuantizerOp& op, int bits,
                                          const std::string& layer, const std::string& input) {
  const std::string site = site_name(layer, "input activation", bits);
  const sdk::QuantizationGrid grid = export_grid_of(op, torch::Tensor(), bits, site);
  if (grid.scale.numel() != 1) {
    throw sdk::Error("cannot export " + site + " to ONNX: the quantizer's export_grid() returned " +
                     std::to_string(grid.scale.numel()) + " scales, but an activation takes one");
  }
  const Container container = container_for(grid, site);
  const torch::Tensor scale = grid.scale.reshape({});

  // QuantizeLinear saturates to the container's range, so a grid narrower
  // than that (fewer than 8 bits, or the symmetric signed grid without -128)
  // needs a Clip to its own range first.
  std::string value = input;
  if (grid.min_level > container.low || grid.max_level < container.high) {
    const std::string low = graph_.add_initializer(
        layer + ".input_clip_min", scale * static_cast<double>(grid.min_level));
    const std::string high = graph_.add_initializer(
        layer + ".input_clip_max", scale * static_cast<double>(grid.max_level));
    value = graph_.add_node("Clip", {value, low, high}, layer + ".input_clipped").output(0);
  }

  const std::string scale_name = graph_.add_initializer(layer + ".input_scale", scale);
  const std::string zero_point =
      graph_.add_initializer(layer + ".input_zero_point", torch::zeros({}, container.dtype));
  const std::string quantized =
      graph_.add_node("QuantizeLinear", {value, scale_name, zero_point}, layer + ".input_quantized")
          .output(0);
  return graph_
      .add_node("DequantizeLinear", {quantized, scale_name, zero_point},
                layer + ".input_dequantized")
      .output(0);
}

// Float weight initializer -> QuantizeLinear -> DequantizeLinear, per output
// channel (axis 0) when `scale` is 1-D.
std::string Lowering::quantize_weight(const std::string& layer, const torch::Tensor& weight,
                                      const torch::Tensor& scale,
                                      const torch::Tensor& zero_point) {
  const std::string weight_name = graph_.add_initializer(layer + ".weight", weight);
  const std::string scale_name = graph_.add_initializer(layer + ".weight_scale", scale);
  const std::string zero_name = graph_.add_initializer(layer + ".weight_zero_point", zero_point);
  onnx::NodeProto& quantize = graph_.add_node(
      "QuantizeLinear", {weight_name, scale_name, zero_name}, layer + ".weight_quantized");
  onnx::NodeProto& dequantize = graph_.add_node(
      "DequantizeLinear", {quantize.output(0), scale_name, zero_name},
      layer + ".weight_dequantized");
  if (scale.dim() == 1) {
    set_attribute(quantize, "axis", std::int64_t{0});
    set_attribute(dequantize, "axis", std::int64_t{0});
  }
  return dequantize.output(0);
}

std::string Lowering::conv(model::QuantizedConvImpl& layer, const std::string& input) {
  const model::QuantizedConvOptions& options = layer.options();
  const std::string site = site_name(options.name, "weight", options.bits);
  const sdk::QuantizationGrid grid =
      export_grid_of(*layer.weight_quantizer, layer.weight.detach(), options.bits, site);
  const torch::Tensor levels =
      weight_levels(*layer.weight_quantizer, layer.weight, options.bits, grid, site);
  const FoldedConv folded = fold_batch_norm(layer, levels, grid, site);

  const std::string activation =
      quantize_activation(*layer.input_quantizer, options.bits, options.name, input);
  const std::string weight =
      quantize_weight(options.name, folded.weight, folded.scale, folded.zero_point);
  const std::string bias = graph_.add_initializer(options.name + ".bias", folded.bias);
  onnx::NodeProto& node = graph_.add_node("Conv", {activation, weight, bias}, options.name + ".conv");
  const std::int64_t padding = options.kernel / 2;
  set_attribute(node, "kernel_shape", {options.kernel, options.kernel});
  set_attribute(node, "strides", {options.stride, options.stride});
  set_attribute(node, "pads", {padding, padding, padding, padding});
  set_attribute(node, "group",
                options.kind == model::ConvKind::depthwise ? options.out_channels : std::int64_t{1});
  const std::string output = node.output(0);
  if (!options.relu6) return output;
  return graph_.add_node("Clip", {output, relu6_min_, relu6_max_}, options.name + ".relu6").output(0);
}

std::string Lowering::block(model::DiscreteBlockImpl& block, const std::string& name,
                            const std::string& input) {
  std::string hidden = input;
  if (block.expand) hidden = conv(*block.expand, hidden);
  hidden = conv(*block.dw, hidden);
  hidden = conv(*block.project, hidden);
  if (!block.residual) return hidden;
  return graph_.add_node("Add", {input, hidden}, name + ".add").output(0);
}

std::string Lowering::classifier(model::QuantizedLinearImpl& fc, const std::string& input) {
  const int bits = space::kFixedLayerBits;
  const std::string pooled = graph_.add_node("GlobalAveragePool", {input}, "pool").output(0);
  onnx::NodeProto& flatten = graph_.add_node("Flatten", {pooled}, "flatten");
  set_attribute(flatten, "axis", std::int64_t{1});
  const std::string features = flatten.output(0);

  const std::string site = site_name("fc", "weight", bits);
  const sdk::QuantizationGrid grid =
      export_grid_of(*fc.weight_quantizer, fc.weight.detach(), bits, site);
  if (container_for(grid, site).dtype != kInt8.dtype) {
    throw sdk::Error("cannot export " + site + " to ONNX: its weight grid " + grid_text(grid) +
                     " has no negative integers, but weights are signed");
  }
  const torch::Tensor levels = weight_levels(*fc.weight_quantizer, fc.weight, bits, grid, site);
  const torch::Tensor weight = levels.to(torch::kFloat) * per_channel_view(grid.scale, 2);

  const std::string activation = quantize_activation(*fc.input_quantizer, bits, "fc", features);
  const std::string weight_name =
      quantize_weight("fc", weight, grid.scale, torch::zeros(grid.scale.sizes(), torch::kChar));
  const std::string bias = graph_.add_initializer("fc.bias", fc.bias.detach().to(torch::kFloat));
  onnx::NodeProto& gemm = graph_.add_node("Gemm", {activation, weight_name, bias}, kOnnxOutputName);
  set_attribute(gemm, "transB", std::int64_t{1});
  return gemm.output(0);
}

onnx::ModelProto build_model(model::DiscreteNetworkImpl& network) {
  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  model.set_producer_name("nasq");
  model.set_producer_version(NASQ_VERSION);
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  std::string labels;
  for (const space::BlockChoice& choice : network.architecture().blocks) {
    labels += (labels.empty() ? "" : "; ") + space::block_label(choice);
  }
  onnx::StringStringEntryProto* entry = model.add_metadata_props();
  entry->set_key("nasq.architecture");
  entry->set_value(labels);

  onnx::GraphProto& graph_proto = *model.mutable_graph();
  graph_proto.set_name("nasq");
  GraphBuilder graph(graph_proto);
  const space::SpaceOptions& options = network.space().options();
  graph.add_input(kOnnxInputName,
                  {-1, options.input_channels, options.input_size, options.input_size});

  Lowering lowering(graph);
  std::string x = lowering.conv(network.stem(), kOnnxInputName);
  for (const space::BlockSlot& slot : network.space().blocks()) {
    model::DiscreteBlockImpl* block = network.block(slot.index);
    if (block != nullptr) x = lowering.block(*block, "block" + std::to_string(slot.index), x);
  }
  x = lowering.conv(network.head(), x);
  lowering.classifier(network.fc(), x);
  graph.add_output(kOnnxOutputName, {-1, options.num_classes});
  return model;
}

// ONNX's checker and strict shape inference with type checks. A failure is
// a bug in the lowering above, not in the user's run.
void check_model(const onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto inferred = model;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type_val=*/true,
                                                                   /*strict_mode_val=*/1));
  } catch (const std::exception& error) {
    throw std::logic_error(std::string("the exported ONNX model failed the ONNX checker: ") +
                           error.what() + "; this is a bug in nasq's exporter");
  }
}

}  // namespace

std::string onnx_model_bytes(model::DiscreteNetworkImpl& network,
                             const std::vector<std::pair<std::string, std::string>>& metadata) {
  network.eval();
  torch::NoGradGuard no_grad;
  onnx::ModelProto model = build_model(network);
  for (const auto& [key, value] : metadata) {
    onnx::StringStringEntryProto* entry = model.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }
  check_model(model);
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    throw std::logic_error("failed to serialize the exported ONNX model; this is a bug in nasq");
  }
  return bytes;
}

std::filesystem::path export_onnx(const TrainedNetwork& trained,
                                  const std::filesystem::path& run_directory) {
  std::vector<std::pair<std::string, std::string>> metadata;
  if (trained.normalization) {
    auto join = [](const std::vector<float>& values) {
      std::string text;
      for (const float value : values) {
        char number[32];
        std::snprintf(number, sizeof number, "%.9g", value);
        if (!text.empty()) text += ',';
        text += number;
      }
      return text;
    };
    metadata.emplace_back("nasq.input_mean", join(trained.normalization->mean));
    metadata.emplace_back("nasq.input_std", join(trained.normalization->std));
  }
  const std::string bytes = onnx_model_bytes(*trained.network.ptr(), metadata);
  const std::filesystem::path target = run_directory / "model.onnx";
  write_file_atomically(target, bytes);
  log_info("wrote " + target.string() + " (ONNX opset " + std::to_string(kOnnxOpset) +
           ", QDQ form)");
  return target;
}

}  // namespace nasq::exporting
