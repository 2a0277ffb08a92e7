// The supernet's MB block: one path per expansion ratio, kernels and bit-widths
// mixed inside each path, paths and skip mixed at the block output.
#include "core/model/mixed_block.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <utility>

#include "core/model/layers.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::model {
namespace {

using sdk::TensorRole;

// c * t for an activation [N, C, H, W]; c is 0-dim (whole batch) or [N].
torch::Tensor scale_activation(const torch::Tensor& t, const torch::Tensor& c) {
  return c.dim() == 0 ? t * c : t * c.view({-1, 1, 1, 1});
}

// sum + c * t, starting from an undefined sum.
torch::Tensor add_scaled_activation(const torch::Tensor& sum, const torch::Tensor& t,
                                    const torch::Tensor& c) {
  if (!sum.defined()) return scale_activation(t, c);
  return c.dim() == 0 ? sum.addcmul(t, c) : sum.addcmul(t, c.view({-1, 1, 1, 1}));
}

// sum + c * w for a conv weight w, [O, I, k, k] or per image [N, O, I, k, k].
// With a per-image c ([N]) the result has one weight per image; the sum
// broadcasts.
torch::Tensor add_scaled_weight(const torch::Tensor& sum, const torch::Tensor& w,
                                const torch::Tensor& c) {
  torch::Tensor term;
  if (c.dim() == 0) {
    term = w * c;
  } else {
    term = (w.dim() == 5 ? w : w.unsqueeze(0)) * c.view({-1, 1, 1, 1, 1});
  }
  return sum.defined() ? sum + term : term;
}

// Concatenates conv weights along their output channels (dim 0 of a shared
// weight, dim 1 of per-image weights).
torch::Tensor cat_weights(const std::vector<torch::Tensor>& weights) {
  return torch::cat(weights, weights.front().dim() - 4);
}

std::string shape_text(const torch::Tensor& t) {
  std::string text = "[";
  for (std::int64_t d = 0; d < t.dim(); ++d) {
    text += (d > 0 ? ", " : "") + std::to_string(t.size(d));
  }
  return text + "]";
}

// One coefficient per choice: weights[..., i], 0-dim or [N].
std::vector<torch::Tensor> coefficients(const torch::Tensor& weights, const std::string& decision,
                                        std::size_t choices, std::int64_t batch,
                                        torch::ScalarType dtype) {
  const std::string expected = "[" + std::to_string(choices) + "] or [N, " +
                               std::to_string(choices) + "] with N = " + std::to_string(batch) +
                               " (the batch size)";
  if (!weights.defined()) {
    throw sdk::Error("weights of decision '" + decision + "' are missing; pass a tensor of shape " +
                     expected);
  }
  const bool valid_dims = weights.dim() == 1 || (weights.dim() == 2 && weights.size(0) == batch);
  if (!valid_dims || weights.size(-1) != static_cast<std::int64_t>(choices)) {
    throw sdk::Error("weights of decision '" + decision + "' have shape " + shape_text(weights) +
                     "; expected " + expected);
  }
  const torch::Tensor typed = weights.to(dtype);
  std::vector<torch::Tensor> result;
  for (std::size_t i = 0; i < choices; ++i) result.push_back(typed.select(-1, i));
  return result;
}

// The rows [offset, offset + length) of dim 0 of every tensor, concatenated.
torch::Tensor cat_rows(const torch::Tensor& t, const std::vector<std::pair<std::int64_t,
                                                                          std::int64_t>>& rows) {
  std::vector<torch::Tensor> parts;
  for (const auto& [offset, length] : rows) parts.push_back(t.narrow(0, offset, length));
  return parts.size() == 1 ? parts.front() : torch::cat(parts);
}

}  // namespace

// The coefficient of every choice of the block's five decisions.
struct MixedBlockImpl::Mixing {
  std::vector<torch::Tensor> skip, expansion, kernel, bottleneck_bits, depthwise_bits;

  Mixing(const BlockWeights& weights, const space::BlockSlot& slot, std::int64_t batch,
         torch::ScalarType dtype) {
    const std::string block = "block" + std::to_string(slot.index) + ".";
    skip = coefficients(weights.skip, block + "s", slot.skip_choices.size(), batch, dtype);
    expansion = coefficients(weights.expansion, block + "m", slot.expansion_choices.size(), batch,
                             dtype);
    kernel = coefficients(weights.kernel, block + "k", slot.kernel_choices.size(), batch, dtype);
    bottleneck_bits = coefficients(weights.bottleneck_bits, block + "b1",
                                   slot.bottleneck_bits.size(), batch, dtype);
    depthwise_bits = coefficients(weights.depthwise_bits, block + "b2",
                                  slot.depthwise_bits.size(), batch, dtype);
  }
};

MixedBlockImpl::MixedBlockImpl(const space::BlockSlot& slot, const sdk::Quantizer& quantizer,
                               MixedBlockOptions options)
    : slot_(slot), options_(options) {
  for (const int kernel : slot_.kernel_choices) {
    max_kernel_ = std::max<std::int64_t>(max_kernel_, kernel);
  }
  build_paths();
  register_tensors();
  register_quantizers(quantizer);
}

void MixedBlockImpl::build_paths() {
  const bool shared = options_.shared_weights;
  std::int64_t expand_rows = 0, hidden_rows = 0;
  for (std::size_t p = 0; p < slot_.expansion_choices.size(); ++p) {
    ExpansionPath path;
    path.expansion = slot_.expansion_choices[p];
    path.hidden_channels = slot_.input_channels * path.expansion;
    path.expands = path.expansion > 1;
    if (path.expands) {
      path.expand_offset = shared ? 0 : expand_rows;
      path.expand_segment = expand_rows;
      expand_rows += path.hidden_channels;
    }
    path.hidden_offset = shared ? 0 : hidden_rows;
    path.hidden_segment = hidden_rows;
    hidden_rows += path.hidden_channels;
    const auto index = static_cast<std::int64_t>(p);
    path.project_offset = shared ? 0 : index * slot_.output_channels;
    path.project_segment = index * slot_.output_channels;
    paths_.push_back(std::move(path));
  }
}

void MixedBlockImpl::register_tensors() {
  const bool shared = options_.shared_weights;
  std::int64_t expand_segments = 0, hidden_segments = 0, max_expand = 0, max_hidden = 0;
  for (const ExpansionPath& path : paths_) {
    hidden_segments += path.hidden_channels;
    max_hidden = std::max(max_hidden, path.hidden_channels);
    if (!path.expands) continue;
    expand_segments += path.hidden_channels;
    max_expand = std::max(max_expand, path.hidden_channels);
  }
  const std::int64_t project_segments =
      static_cast<std::int64_t>(paths_.size()) * slot_.output_channels;

  if (expand_segments > 0) {
    const std::int64_t rows = shared ? max_expand : expand_segments;
    expand_weight = register_parameter("expand_weight",
                                       torch::empty({rows, slot_.input_channels, 1, 1}));
    init_conv_weight(expand_weight);
    expand_bn_weight = register_parameter("expand_bn_weight", torch::ones({rows}));
    expand_bn_bias = register_parameter("expand_bn_bias", torch::zeros({rows}));
    expand_running_mean = register_buffer("expand_running_mean", torch::zeros({expand_segments}));
    expand_running_var = register_buffer("expand_running_var", torch::ones({expand_segments}));
  }

  const std::int64_t hidden_rows = shared ? max_hidden : hidden_segments;
  for (const int kernel : slot_.kernel_choices) {
    torch::Tensor weight = register_parameter("dw_weight_k" + std::to_string(kernel),
                                              torch::empty({hidden_rows, 1, kernel, kernel}));
    init_conv_weight(weight);
    dw_weights.push_back(weight);
  }
  dw_bn_weight = register_parameter("dw_bn_weight", torch::ones({hidden_rows}));
  dw_bn_bias = register_parameter("dw_bn_bias", torch::zeros({hidden_rows}));
  dw_running_mean = register_buffer("dw_running_mean", torch::zeros({hidden_segments}));
  dw_running_var = register_buffer("dw_running_var", torch::ones({hidden_segments}));

  project_weight = register_parameter(
      "project_weight", torch::empty({slot_.output_channels, hidden_rows, 1, 1}));
  init_conv_weight(project_weight);
  const std::int64_t project_rows = shared ? slot_.output_channels : project_segments;
  project_bn_weight = register_parameter("project_bn_weight", torch::ones({project_rows}));
  project_bn_bias = register_parameter("project_bn_bias", torch::zeros({project_rows}));
  project_running_mean = register_buffer("project_running_mean", torch::zeros({project_segments}));
  project_running_var = register_buffer("project_running_var", torch::ones({project_segments}));
}

void MixedBlockImpl::register_quantizers(const sdk::Quantizer& quantizer) {
  const std::string group = "block" + std::to_string(slot_.index);
  const bool input_non_negative = block_input_non_negative(slot_);
  const std::vector<int>& b1 = slot_.bottleneck_bits;
  const std::vector<int>& b2 = slot_.depthwise_bits;
  const std::int64_t out = slot_.output_channels;

  std::int64_t max_expand = 0;
  for (const ExpansionPath& path : paths_) {
    if (path.expands) max_expand = std::max(max_expand, path.hidden_channels);
  }
  if (max_expand > 0) {
    expand_input_quantizer = register_module(
        "expand_input_quantizer",
        make_quantizer_op(quantizer, make_site(group + ".expand", TensorRole::activation,
                                               input_non_negative, max_expand, b1)));
  }

  for (ExpansionPath& path : paths_) {
    const std::string suffix = "_m" + std::to_string(path.expansion);
    const std::string path_name = ".m" + std::to_string(path.expansion);
    const std::int64_t hidden = path.hidden_channels;
    auto make = [&](const std::string& module_name, const std::string& layer, TensorRole role,
                    bool non_negative, std::int64_t channels, const std::vector<int>& bits) {
      return register_module(
          module_name + suffix,
          make_quantizer_op(quantizer, make_site(group + "." + layer + path_name, role,
                                                 non_negative, channels, bits)));
    };
    if (path.expands) {
      path.expand_weight_quantizer =
          make("expand_weight_quantizer", "expand", TensorRole::weight, false, hidden, b1);
    }
    path.dw_input_quantizer = make("dw_input_quantizer", "dw", TensorRole::activation,
                                   path.expands || input_non_negative, hidden, b2);
    path.dw_weight_quantizer =
        make("dw_weight_quantizer", "dw", TensorRole::weight, false, hidden, b2);
    path.project_input_quantizer =
        make("project_input_quantizer", "project", TensorRole::activation, true, out, b1);
    path.project_weight_quantizer =
        make("project_weight_quantizer", "project", TensorRole::weight, false, out, b1);
  }
}

torch::Tensor MixedBlockImpl::forward(const torch::Tensor& x, const BlockWeights& weights) {
  const Mixing mixing(weights, slot_, x.size(0), x.scalar_type());

  const std::vector<torch::Tensor> dw_inputs = expansion_outputs(x, mixing);
  const torch::Tensor hidden = depthwise_output(dw_inputs, mixing);
  const torch::Tensor residual_branch = projection_output(hidden, mixing);
  const torch::Tensor block = slot_.residual ? x + residual_branch : residual_branch;

  torch::Tensor output;
  for (std::size_t i = 0; i < slot_.skip_choices.size(); ++i) {
    const bool skip = slot_.skip_choices[i] == 1;
    output = add_scaled_activation(output, skip ? x : block, mixing.skip[i]);
  }
  return output;
}

// The depthwise input of every path: x for expansion 1, else
// ReLU6(BN(expansion conv)). All expanding paths run as one conv whose output
// channels are the paths' segments.
std::vector<torch::Tensor> MixedBlockImpl::expansion_outputs(const torch::Tensor& x,
                                                             const Mixing& mixing) {
  std::vector<torch::Tensor> inputs(paths_.size(), x);
  std::vector<std::pair<std::int64_t, std::int64_t>> weight_rows;
  for (const ExpansionPath& path : paths_) {
    if (path.expands) weight_rows.emplace_back(path.expand_offset, path.hidden_channels);
  }
  if (weight_rows.empty()) return inputs;

  const std::vector<int>& bits = slot_.bottleneck_bits;
  std::vector<torch::Tensor> quantized_inputs, quantized_weights;
  for (const int b : bits) {
    quantized_inputs.push_back(expand_input_quantizer->forward(x, b));
    std::vector<torch::Tensor> parts;
    for (const ExpansionPath& path : paths_) {
      if (!path.expands) continue;
      const torch::Tensor rows = expand_weight.narrow(0, path.expand_offset, path.hidden_channels);
      parts.push_back(path.expand_weight_quantizer->forward(rows, b));
    }
    quantized_weights.push_back(cat_weights(parts));
  }

  torch::Tensor y;
  if (options_.exact_bit_mixing) {
    for (std::size_t i = 0; i < bits.size(); ++i) {
      y = add_scaled_activation(
          y, pointwise_conv2d(quantized_inputs[i], quantized_weights[i]),
          mixing.bottleneck_bits[i]);
    }
  } else {
    // NOTE: an approximation when b1 is soft. b1 sets the bits of both the
    // input and the weight, and conv(sum_i g_i q_a(x, b_i), sum_i g_i q_w(W, b_i))
    // adds the cross terms g_i g_j conv(q_a(x, b_i), q_w(W, b_j)), i != j, to
    // the exact sum_i g_i conv(q_a(x, b_i), q_w(W, b_i)). Exact for one-hot b1.
    torch::Tensor mixed_input, mixed_weight;
    for (std::size_t i = 0; i < bits.size(); ++i) {
      mixed_input = add_scaled_activation(mixed_input, quantized_inputs[i],
                                          mixing.bottleneck_bits[i]);
      mixed_weight = add_scaled_weight(mixed_weight, quantized_weights[i],
                                       mixing.bottleneck_bits[i]);
    }
    y = pointwise_conv2d(mixed_input, mixed_weight);
  }

  y = batch_norm(y, cat_rows(expand_bn_weight, weight_rows), cat_rows(expand_bn_bias, weight_rows),
                 expand_running_mean, expand_running_var, is_training());
  y = relu6_in_place(y);
  for (std::size_t p = 0; p < paths_.size(); ++p) {
    const ExpansionPath& path = paths_[p];
    if (path.expands) inputs[p] = y.narrow(1, path.expand_segment, path.hidden_channels);
  }
  return inputs;
}

// sum_k w_k pad(q_w(W_k, bits)): the path's kernels at `bits`, zero-padded to
// the largest kernel and mixed by the k weights.
torch::Tensor MixedBlockImpl::depthwise_weight(const ExpansionPath& path, int bits,
                                               const Mixing& mixing) {
  torch::Tensor mixed;
  for (std::size_t k = 0; k < dw_weights.size(); ++k) {
    const torch::Tensor rows = dw_weights[k].narrow(0, path.hidden_offset, path.hidden_channels);
    const std::int64_t pad = (max_kernel_ - rows.size(-1)) / 2;
    torch::Tensor quantized = path.dw_weight_quantizer->forward(rows, bits);
    if (pad > 0) quantized = torch::constant_pad_nd(quantized, {pad, pad, pad, pad});
    mixed = add_scaled_weight(mixed, quantized, mixing.kernel[k]);
  }
  return mixed;
}

// ReLU6(BN(depthwise conv)) of every path, as one tensor whose channels are
// the paths' segments. The paths run as one depthwise conv.
torch::Tensor MixedBlockImpl::depthwise_output(const std::vector<torch::Tensor>& inputs,
                                               const Mixing& mixing) {
  const std::vector<int>& bits = slot_.depthwise_bits;
  // quantized[j][p]: path p's input at bits[j]; likewise for the weights.
  std::vector<std::vector<torch::Tensor>> quantized(bits.size()), weights(bits.size());
  for (std::size_t j = 0; j < bits.size(); ++j) {
    for (std::size_t p = 0; p < paths_.size(); ++p) {
      quantized[j].push_back(paths_[p].dw_input_quantizer->forward(inputs[p], bits[j]));
      weights[j].push_back(depthwise_weight(paths_[p], bits[j], mixing));
    }
  }

  torch::Tensor y;
  if (options_.exact_bit_mixing) {
    for (std::size_t j = 0; j < bits.size(); ++j) {
      const torch::Tensor conv =
          depthwise_conv2d(torch::cat(quantized[j], 1), cat_weights(weights[j]), slot_.stride);
      y = add_scaled_activation(y, conv, mixing.depthwise_bits[j]);
    }
  } else {
    // NOTE: an approximation when b2 is soft, for the reason given for b1 in
    // expansion_outputs(): b2 sets the bits of the input and of the weight.
    std::vector<torch::Tensor> mixed_inputs, mixed_weights;
    for (std::size_t p = 0; p < paths_.size(); ++p) {
      torch::Tensor input, weight;
      for (std::size_t j = 0; j < bits.size(); ++j) {
        input = add_scaled_activation(input, quantized[j][p], mixing.depthwise_bits[j]);
        weight = add_scaled_weight(weight, weights[j][p], mixing.depthwise_bits[j]);
      }
      mixed_inputs.push_back(input);
      mixed_weights.push_back(weight);
    }
    y = depthwise_conv2d(torch::cat(mixed_inputs, 1), cat_weights(mixed_weights), slot_.stride);
  }

  std::vector<std::pair<std::int64_t, std::int64_t>> rows;
  for (const ExpansionPath& path : paths_) rows.emplace_back(path.hidden_offset, path.hidden_channels);
  y = batch_norm(y, cat_rows(dw_bn_weight, rows), cat_rows(dw_bn_bias, rows), dw_running_mean,
                 dw_running_var, is_training());
  return relu6_in_place(y);
}

// sum_m w_m BN(projection of path m). Each path has its own projection conv,
// because the paths' inputs differ in width; one batch norm call covers all.
torch::Tensor MixedBlockImpl::projection_output(const torch::Tensor& hidden,
                                                const Mixing& mixing) {
  const std::vector<int>& bits = slot_.bottleneck_bits;
  std::vector<torch::Tensor> outputs;
  std::vector<std::pair<std::int64_t, std::int64_t>> rows;
  for (const ExpansionPath& path : paths_) {
    // One tensor object for every bit-width, so that activation quantizers
    // that track statistics see a single input per batch.
    const torch::Tensor input = hidden.narrow(1, path.hidden_segment, path.hidden_channels);
    const torch::Tensor columns =
        project_weight.narrow(1, path.hidden_offset, path.hidden_channels);
    torch::Tensor output, mixed_input, mixed_weight;
    for (std::size_t i = 0; i < bits.size(); ++i) {
      const torch::Tensor q_input = path.project_input_quantizer->forward(input, bits[i]);
      const torch::Tensor q_weight = path.project_weight_quantizer->forward(columns, bits[i]);
      const torch::Tensor& g = mixing.bottleneck_bits[i];
      if (options_.exact_bit_mixing) {
        output = add_scaled_activation(output, pointwise_conv2d(q_input, q_weight), g);
      } else {
        // NOTE: an approximation when b1 is soft; see expansion_outputs().
        mixed_input = add_scaled_activation(mixed_input, q_input, g);
        mixed_weight = add_scaled_weight(mixed_weight, q_weight, g);
      }
    }
    if (!options_.exact_bit_mixing) output = pointwise_conv2d(mixed_input, mixed_weight);
    outputs.push_back(output);
    rows.emplace_back(path.project_offset, slot_.output_channels);
  }

  const torch::Tensor normalized =
      batch_norm(torch::cat(outputs, 1), cat_rows(project_bn_weight, rows),
                 cat_rows(project_bn_bias, rows), project_running_mean, project_running_var,
                 is_training());
  torch::Tensor mixed;
  for (std::size_t p = 0; p < paths_.size(); ++p) {
    const torch::Tensor path_output =
        normalized.narrow(1, paths_[p].project_segment, slot_.output_channels);
    mixed = add_scaled_activation(mixed, path_output, mixing.expansion[p]);
  }
  return mixed;
}

}  // namespace nasq::model
