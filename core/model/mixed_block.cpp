// The supernet's MB block: one path per expansion ratio (or the expanding
// ratios as channel masks of one path), kernels and bit-widths mixed inside
// each path, paths and skip mixed at the block output.
#include "core/model/mixed_block.hpp"

#include <functional>

#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <utility>

#include "core/model/fused_ops.hpp"
#include "core/model/layers.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::model {
namespace {

using sdk::TensorRole;

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

std::string shape_text(const torch::Tensor& t) {
  std::string text = "[";
  for (std::int64_t d = 0; d < t.dim(); ++d) {
    text += (d > 0 ? ", " : "") + std::to_string(t.size(d));
  }
  return text + "]";
}

std::string expected_shape(std::size_t choices, std::int64_t batch) {
  const std::string count = std::to_string(choices);
  std::string text = "[";
  text.append(count).append("] or [N, ").append(count).append("] with N = ");
  text.append(std::to_string(batch)).append(" (the batch size)");
  return text;
}

// `weights` converted to `dtype` after checking its shape: [choices] or
// [batch, choices].
torch::Tensor checked(const torch::Tensor& weights, const std::string& decision,
                      std::size_t choices, std::int64_t batch, torch::ScalarType dtype) {
  if (!weights.defined()) {
    throw sdk::Error("weights of decision '" + decision + "' are missing; pass a tensor of shape " +
                     expected_shape(choices, batch));
  }
  const bool valid_dims = weights.dim() == 1 || (weights.dim() == 2 && weights.size(0) == batch);
  if (!valid_dims || weights.size(-1) != static_cast<std::int64_t>(choices)) {
    throw sdk::Error("weights of decision '" + decision + "' have shape " + shape_text(weights) +
                     "; expected " + expected_shape(choices, batch));
  }
  return weights.to(dtype);
}

// The choices of one decision that can change the output or a gradient:
// every choice whose weight is non-zero in some row, or all of them while
// the weights need a gradient (which reads every candidate's output). A
// choice left out has weight exactly 0, so leaving it out changes no value;
// only running statistics of its layers are not updated.
struct DecisionMix {
  std::vector<std::size_t> active;          // choice indices, ascending
  torch::Tensor weights;                    // weights[..., active]: [A] or [N, A]
  std::vector<torch::Tensor> coefficients;  // weights[..., active[i]]: 0-dim or [N]
};

DecisionMix decision_mix(const torch::Tensor& weights) {
  DecisionMix mix;
  const std::int64_t choices = weights.size(-1);
  if (!(weights.requires_grad() && torch::GradMode::is_enabled())) {
    torch::Tensor used = weights.detach().ne(0);
    if (used.dim() == 2) used = used.any(0);
    used = used.cpu().contiguous();
    const bool* flags = used.data_ptr<bool>();
    for (std::int64_t i = 0; i < choices; ++i) {
      if (flags[i]) mix.active.push_back(static_cast<std::size_t>(i));
    }
  }
  if (mix.active.empty() || static_cast<std::int64_t>(mix.active.size()) == choices) {
    mix.active.clear();
    for (std::int64_t i = 0; i < choices; ++i) mix.active.push_back(static_cast<std::size_t>(i));
    mix.weights = weights;
  } else {
    const std::vector<std::int64_t> indices(mix.active.begin(), mix.active.end());
    mix.weights =
        weights.index_select(-1, torch::tensor(indices, torch::kLong).to(weights.device()));
  }
  for (std::size_t i = 0; i < mix.active.size(); ++i) {
    mix.coefficients.push_back(mix.weights.select(-1, static_cast<std::int64_t>(i)));
  }
  return mix;
}

// sum_i g_i q(x, bits_i) over the active choices i of `mix`, from one
// forward_mixed() call, so that the quantizer can mix the bit-widths in one
// pass. A 4-D x is passed channels-last, the layout of the convs that read
// the result.
torch::Tensor mixed_quantized_input(sdk::QuantizerOp& quantizer, const torch::Tensor& x,
                                    const std::vector<int>& bit_choices, const DecisionMix& mix) {
  std::vector<int> bits;
  for (const std::size_t i : mix.active) bits.push_back(bit_choices[i]);
  const torch::Tensor input = x.dim() == 4 ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
  return quantizer.forward_mixed(input, bits, mix.weights);
}

// sum_i g_i q_w(w, bits_i) over the active choices i of `mix`. Weights g
// shared by the batch ([A]) take one forward_mixed() call on w. Per-image
// weights ([N, A]) take one forward() per bit-width and give one weight per
// image, because forward_mixed() would read their row n as the weights of
// slice n of w's dim 0.
torch::Tensor mixed_quantized_weight(sdk::QuantizerOp& quantizer, const torch::Tensor& w,
                                     const std::vector<int>& bit_choices, const DecisionMix& mix) {
  if (mix.weights.dim() == 1) {
    std::vector<int> bits;
    for (const std::size_t i : mix.active) bits.push_back(bit_choices[i]);
    return quantizer.forward_mixed(w, bits, mix.weights);
  }
  torch::Tensor sum;
  for (std::size_t i = 0; i < mix.active.size(); ++i) {
    sum = add_scaled_weight(sum, quantizer.forward(w, bit_choices[mix.active[i]]),
                            mix.coefficients[i]);
  }
  return sum;
}

}  // namespace

// The active choices and weights of the block's five decisions, in the
// activations' dtype.
struct MixedBlockImpl::Mixing {
  DecisionMix skip, expansion, kernel, bottleneck_bits, depthwise_bits;
  std::int64_t max_kernel = 0;  // largest active kernel

  Mixing(const BlockWeights& weights, const space::BlockSlot& slot, std::int64_t batch,
         torch::ScalarType dtype) {
    const std::string block = "block" + std::to_string(slot.index) + ".";
    skip = decision_mix(checked(weights.skip, block + "s", slot.skip_choices.size(), batch, dtype));
    expansion = decision_mix(
        checked(weights.expansion, block + "m", slot.expansion_choices.size(), batch, dtype));
    kernel = decision_mix(
        checked(weights.kernel, block + "k", slot.kernel_choices.size(), batch, dtype));
    bottleneck_bits = decision_mix(checked(weights.bottleneck_bits, block + "b1",
                                           slot.bottleneck_bits.size(), batch, dtype));
    depthwise_bits = decision_mix(checked(weights.depthwise_bits, block + "b2",
                                          slot.depthwise_bits.size(), batch, dtype));
    for (const std::size_t k : kernel.active) {
      max_kernel = std::max<std::int64_t>(max_kernel, slot.kernel_choices[k]);
    }
  }
};

MixedBlockImpl::MixedBlockImpl(const space::BlockSlot& slot, const sdk::Quantizer& quantizer,
                               MixedBlockOptions options)
    : slot_(slot), options_(options) {
  if (options_.masked_expansion && !options_.shared_weights) {
    throw sdk::Error("masked expansion needs shared weights: the channel masks select rows of "
                     "one set of parameters");
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
  bool keep = false;
  for (const std::size_t i : mixing.skip.active) keep = keep || slot_.skip_choices[i] == 0;

  torch::Tensor block;
  if (keep) {
    const torch::Tensor branch = residual_branch(x, mixing);
    block = slot_.residual ? x + branch : branch;
  }

  std::vector<torch::Tensor> candidates;
  for (const std::size_t i : mixing.skip.active) {
    candidates.push_back(slot_.skip_choices[i] == 1 ? x : block);
  }
  return weighted_sum(candidates, mixing.skip.weights);
}

// The projection of the depthwise conv of the path's hidden tensor, before
// the m weight.
torch::Tensor MixedBlockImpl::path_output(const ExpansionPath& path, const torch::Tensor& x,
                                          const ExpansionInputs& inputs, const Mixing& mixing,
                                          const torch::Tensor& column_scale) {
  const torch::Tensor hidden = path.expands ? expand(path, inputs, mixing) : x;
  return project(path, depthwise(path, hidden, mixing), mixing, column_scale);
}

// F(x): the outputs of the active paths mixed by the m weights. With masked
// expansion, the expanding paths up to the widest one with a non-zero weight
// (L) run as L, its projection reading the channel mask, and enter the
// mixture with the sum of their weights. Wider paths, active only because
// the weights need a gradient, run on their own: their weights are 0, so the
// output is the one of L, which keeps one-hot weights exact.
torch::Tensor MixedBlockImpl::residual_branch(const torch::Tensor& x, const Mixing& mixing) {
  const ExpansionInputs inputs = quantize_expansion_input(x, mixing);
  const DecisionMix& m = mixing.expansion;

  std::vector<std::size_t> masked;  // positions in m.active
  const ExpansionPath* widest = nullptr;
  if (options_.masked_expansion) {
    torch::Tensor used = m.weights.detach().ne(0);
    if (used.dim() == 2) used = used.any(0);
    used = used.cpu().contiguous();
    const bool* nonzero = used.data_ptr<bool>();
    for (std::size_t i = 0; i < m.active.size(); ++i) {
      const ExpansionPath& path = paths_[m.active[i]];
      if (!path.expands) continue;
      if (nonzero[i] && (widest == nullptr || path.hidden_channels > widest->hidden_channels)) {
        widest = &path;
      }
    }
    for (std::size_t i = 0; widest != nullptr && i < m.active.size(); ++i) {
      const ExpansionPath& path = paths_[m.active[i]];
      if (path.expands && path.hidden_channels <= widest->hidden_channels) masked.push_back(i);
    }
    if (masked.size() < 2) masked.clear();
  }
  if (masked.empty()) {
    std::vector<torch::Tensor> outputs;
    for (const std::size_t p : m.active) outputs.push_back(path_output(paths_[p], x, inputs, mixing));
    return weighted_sum(outputs, m.weights);
  }

  std::vector<torch::Tensor> outputs, coefficients;
  for (std::size_t i = 0; i < m.active.size(); ++i) {
    if (std::find(masked.begin(), masked.end(), i) != masked.end()) continue;
    outputs.push_back(path_output(paths_[m.active[i]], x, inputs, mixing));
    coefficients.push_back(m.coefficients[i]);
  }
  // mask[c] = sum of w_m over the masked paths with c < h_m: [h_L], or
  // [N, h_L] for per-image weights. The projection reads mask / total, whose
  // largest entry is 1, so that batch norm's eps does not damp a small mask.
  torch::Tensor mask, total;
  for (const std::size_t i : masked) {
    const torch::Tensor& w = m.coefficients[i];
    torch::Tensor prefix = torch::zeros({widest->hidden_channels}, x.options());
    prefix.narrow(0, 0, paths_[m.active[i]].hidden_channels).fill_(1);
    const torch::Tensor term = w.dim() == 0 ? w * prefix : w.unsqueeze(1) * prefix;
    mask = mask.defined() ? mask + term : term;
    total = total.defined() ? total + w : w;
  }
  const torch::Tensor column_scale = mask / (total.dim() == 0 ? total : total.unsqueeze(1));
  outputs.push_back(path_output(*widest, x, inputs, mixing, column_scale));
  coefficients.push_back(total);
  return weighted_sum(outputs, torch::stack(coefficients, -1));
}

// The quantized block input that the expanding paths share: q_a(x, b) for
// every active b1 choice in exact mode, their mixture in fast mode.
MixedBlockImpl::ExpansionInputs MixedBlockImpl::quantize_expansion_input(const torch::Tensor& x,
                                                                         const Mixing& mixing) {
  ExpansionInputs inputs;
  bool needed = false;
  for (const std::size_t p : mixing.expansion.active) needed = needed || paths_[p].expands;
  if (!needed) return inputs;

  if (!options_.exact_bit_mixing) {
    inputs.mixed = mixed_quantized_input(*expand_input_quantizer, x, slot_.bottleneck_bits,
                                         mixing.bottleneck_bits);
    return inputs;
  }
  for (const std::size_t i : mixing.bottleneck_bits.active) {
    inputs.quantized.push_back(expand_input_quantizer->forward(x, slot_.bottleneck_bits[i]));
  }
  return inputs;
}

// The path's batch norm, followed by ReLU6 when `relu6`: affine parameters
// at its rows of the layer's (shared or separate) tensors, running statistics
// at its segment. Training on the CPU takes the fused op.
torch::Tensor MixedBlockImpl::path_batch_norm(const torch::Tensor& y, const torch::Tensor& weight,
                                              const torch::Tensor& bias, std::int64_t offset,
                                              const torch::Tensor& running_mean,
                                              const torch::Tensor& running_var,
                                              std::int64_t segment, bool relu6) const {
  const std::int64_t channels = y.size(1);
  const torch::Tensor w = weight.narrow(0, offset, channels);
  const torch::Tensor b = bias.narrow(0, offset, channels);
  const torch::Tensor mean = running_mean.narrow(0, segment, channels);
  const torch::Tensor var = running_var.narrow(0, segment, channels);
  if (is_training() && y.device().is_cpu()) {
    return batch_norm_relu6(y, w, b, mean, var, kBatchNormMomentum, kBatchNormEps, relu6);
  }
  const torch::Tensor normalized = batch_norm(y, w, b, mean, var, is_training());
  return relu6 ? relu6_in_place(normalized) : normalized;
}

// ReLU6(BN(sum_i g_i conv(q_a(x, b_i), q_w(W_m, b_i)))): the expansion conv of
// an expanding path, mixed over b1.
torch::Tensor MixedBlockImpl::expand(const ExpansionPath& path, const ExpansionInputs& inputs,
                                     const Mixing& mixing) {
  const DecisionMix& b1 = mixing.bottleneck_bits;
  const torch::Tensor rows = expand_weight.narrow(0, path.expand_offset, path.hidden_channels);

  torch::Tensor y;
  if (options_.exact_bit_mixing) {
    std::vector<torch::Tensor> convs;
    for (std::size_t i = 0; i < b1.active.size(); ++i) {
      const torch::Tensor weight =
          path.expand_weight_quantizer->forward(rows, slot_.bottleneck_bits[b1.active[i]]);
      convs.push_back(pointwise_conv2d(inputs.quantized[i], weight));
    }
    y = weighted_sum(convs, b1.weights);
  } else {
    // NOTE: an approximation when b1 is soft. b1 sets the bits of both the
    // input and the weight, and conv(sum_i g_i q_a(x, b_i), sum_i g_i q_w(W, b_i))
    // adds the cross terms g_i g_j conv(q_a(x, b_i), q_w(W, b_j)), i != j, to
    // the exact sum_i g_i conv(q_a(x, b_i), q_w(W, b_i)). Exact for one-hot b1.
    const torch::Tensor weight =
        mixed_quantized_weight(*path.expand_weight_quantizer, rows, slot_.bottleneck_bits, b1);
    y = pointwise_conv2d(inputs.mixed, weight);
  }
  return path_batch_norm(y, expand_bn_weight, expand_bn_bias, path.expand_offset,
                         expand_running_mean, expand_running_var, path.expand_segment,
                         /*relu6=*/true);
}

// sum_k w_k pad(quantize(W_k)): the path's rows of each active kernel,
// quantized, zero-padded to the largest active kernel and mixed by the k weights.
torch::Tensor MixedBlockImpl::kernel_mixture(
    const ExpansionPath& path, const Mixing& mixing,
    const std::function<torch::Tensor(const torch::Tensor&)>& quantize) {
  const DecisionMix& k = mixing.kernel;
  torch::Tensor mixed;
  for (std::size_t i = 0; i < k.active.size(); ++i) {
    const torch::Tensor rows =
        dw_weights[k.active[i]].narrow(0, path.hidden_offset, path.hidden_channels);
    const std::int64_t pad = (mixing.max_kernel - rows.size(-1)) / 2;
    torch::Tensor quantized = quantize(rows);
    if (pad > 0) quantized = torch::constant_pad_nd(quantized, {pad, pad, pad, pad});
    mixed = add_scaled_weight(mixed, quantized, k.coefficients[i]);
  }
  return mixed;
}

// The kernel mixture with every kernel quantized at `bits`.
torch::Tensor MixedBlockImpl::depthwise_weight(const ExpansionPath& path, int bits,
                                               const Mixing& mixing) {
  return kernel_mixture(path, mixing, [&](const torch::Tensor& rows) {
    return path.dw_weight_quantizer->forward(rows, bits);
  });
}

// The kernel mixture with each kernel mixed over the b2 weights first. Both
// mixes are linear, so this equals the b2 mixture of depthwise_weight() up to
// float rounding.
torch::Tensor MixedBlockImpl::mixed_depthwise_weight(const ExpansionPath& path,
                                                     const Mixing& mixing) {
  return kernel_mixture(path, mixing, [&](const torch::Tensor& rows) {
    return mixed_quantized_weight(*path.dw_weight_quantizer, rows, slot_.depthwise_bits,
                                  mixing.depthwise_bits);
  });
}

// ReLU6(BN(depthwise conv)) of the path's hidden tensor, mixed over k and b2.
torch::Tensor MixedBlockImpl::depthwise(const ExpansionPath& path, const torch::Tensor& hidden,
                                        const Mixing& mixing) {
  const DecisionMix& b2 = mixing.depthwise_bits;

  torch::Tensor y;
  if (options_.exact_bit_mixing) {
    std::vector<torch::Tensor> convs;
    for (const std::size_t j : b2.active) {
      const int bits = slot_.depthwise_bits[j];
      const torch::Tensor input = path.dw_input_quantizer->forward(hidden, bits);
      convs.push_back(depthwise_conv2d(input, depthwise_weight(path, bits, mixing), slot_.stride));
    }
    y = weighted_sum(convs, b2.weights);
  } else {
    // NOTE: an approximation when b2 is soft, for the reason given for b1 in
    // expand(): b2 sets the bits of the input and of the weight.
    const torch::Tensor weight = mixed_depthwise_weight(path, mixing);
    const torch::Tensor input =
        mixed_quantized_input(*path.dw_input_quantizer, hidden, slot_.depthwise_bits, b2);
    y = depthwise_conv2d(input, weight, slot_.stride);
  }
  return path_batch_norm(y, dw_bn_weight, dw_bn_bias, path.hidden_offset, dw_running_mean,
                         dw_running_var, path.hidden_segment, /*relu6=*/true);
}

// BN(sum_i g_i conv(q_a(z, b_i), q_w(W_p, b_i) * s)): the path's linear
// projection, mixed over b1. s scales the weight's input columns: the channel
// mask of masked expansion ([h] or per image [N, h]), or none.
torch::Tensor MixedBlockImpl::project(const ExpansionPath& path, const torch::Tensor& hidden,
                                      const Mixing& mixing, const torch::Tensor& column_scale) {
  const DecisionMix& b1 = mixing.bottleneck_bits;
  const torch::Tensor columns = project_weight.narrow(1, path.hidden_offset, path.hidden_channels);
  // A [O, h, 1, 1] or per-image [N, O, h, 1, 1] weight times the column
  // scale; per-image scales give per-image weights.
  auto scaled = [&](const torch::Tensor& weight) {
    if (!column_scale.defined()) return weight;
    const std::int64_t h = path.hidden_channels;
    return column_scale.dim() == 1 ? weight * column_scale.view({h, 1, 1})
                                   : weight * column_scale.view({-1, 1, h, 1, 1});
  };

  torch::Tensor y;
  if (options_.exact_bit_mixing) {
    std::vector<torch::Tensor> convs;
    for (const std::size_t i : b1.active) {
      const int bits = slot_.bottleneck_bits[i];
      const torch::Tensor input = path.project_input_quantizer->forward(hidden, bits);
      const torch::Tensor weight = scaled(path.project_weight_quantizer->forward(columns, bits));
      convs.push_back(pointwise_conv2d(input, weight));
    }
    y = weighted_sum(convs, b1.weights);
  } else {
    // NOTE: an approximation when b1 is soft; see expand().
    const torch::Tensor weight = scaled(
        mixed_quantized_weight(*path.project_weight_quantizer, columns, slot_.bottleneck_bits, b1));
    const torch::Tensor input =
        mixed_quantized_input(*path.project_input_quantizer, hidden, slot_.bottleneck_bits, b1);
    y = pointwise_conv2d(input, weight);
  }
  return path_batch_norm(y, project_bn_weight, project_bn_bias, path.project_offset,
                         project_running_mean, project_running_var, path.project_segment,
                         /*relu6=*/false);
}

}  // namespace nasq::model
