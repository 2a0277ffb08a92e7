// Quantizer sites, per-image 1x1 convolutions, and the fixed-bit quantized
// layers of the supernet and the discrete network.
#include "core/model/layers.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "nasq/sdk/error.hpp"

namespace nasq::model {

sdk::QuantizerSite make_site(std::string name, sdk::TensorRole role, bool non_negative,
                             std::int64_t channels, std::vector<int> bit_choices) {
  sdk::QuantizerSite site;
  site.name = std::move(name);
  site.role = role;
  site.non_negative = non_negative;
  site.channels = channels;
  site.bit_choices = std::move(bit_choices);
  return site;
}

std::shared_ptr<sdk::QuantizerOp> make_quantizer_op(const sdk::Quantizer& quantizer,
                                                    const sdk::QuantizerSite& site) {
  std::shared_ptr<sdk::QuantizerOp> op = quantizer.make_op(site);
  if (op == nullptr) {
    const char* role = site.role == sdk::TensorRole::weight ? "weight" : "activation";
    throw sdk::Error("the quantizer returned no op for the " + std::string(role) +
                     " site of layer '" + site.name + "'; its make_op() must return an op or "
                     "throw");
  }
  return op;
}

torch::Tensor pointwise_conv2d(const torch::Tensor& input, const torch::Tensor& weight) {
  if (weight.dim() == 4) return at::conv2d(input, weight);

  // Per-image weights: one batched matrix product over the NHWC view.
  const std::int64_t n = input.size(0), in = input.size(1), h = input.size(2), w = input.size(3);
  const std::int64_t out = weight.size(1);
  const torch::Tensor pixels = input.permute({0, 2, 3, 1}).reshape({n, h * w, in});
  const torch::Tensor matrices = weight.reshape({n, out, in}).transpose(1, 2);
  return torch::bmm(pixels, matrices).view({n, h, w, out}).permute({0, 3, 1, 2});
}

torch::Tensor batch_norm(const torch::Tensor& input, const torch::Tensor& weight,
                         const torch::Tensor& bias, const torch::Tensor& running_mean,
                         const torch::Tensor& running_var, bool training) {
  return torch::batch_norm(input, weight, bias, running_mean, running_var, training,
                           kBatchNormMomentum, kBatchNormEps, /*cudnn_enabled=*/false);
}

torch::Tensor range_batch_norm(const torch::Tensor& input, torch::nn::BatchNorm2dImpl& bn) {
  const std::int64_t channels = input.size(1);
  const double values_per_channel = std::max<double>(2.0, static_cast<double>(input.numel() / channels));
  const double range_scale = 1.0 / std::sqrt(2.0 * std::log(values_per_channel));

  const torch::Tensor mean = input.mean({0, 2, 3});
  const torch::Tensor centered = input - mean.view({1, channels, 1, 1});
  const torch::Tensor sigma = (centered.amax({0, 2, 3}) - centered.amin({0, 2, 3})) * range_scale;
  const torch::Tensor variance = sigma.square();
  {
    torch::NoGradGuard no_grad;
    bn.running_mean.mul_(1.0 - kBatchNormMomentum).add_(mean.detach(), kBatchNormMomentum);
    bn.running_var.mul_(1.0 - kBatchNormMomentum).add_(variance.detach(), kBatchNormMomentum);
    bn.num_batches_tracked.add_(1);
  }
  const torch::Tensor scale = bn.weight * torch::rsqrt(variance + kBatchNormEps);
  return centered * scale.view({1, channels, 1, 1}) + bn.bias.view({1, channels, 1, 1});
}

namespace {

// ReLU6 in place whose backward reads the output y. hardtanh_backward(grad,
// y, 0, 6) passes the gradient where 0 < y < 6, which is exactly where
// 0 < x < 6, so it equals the gradient from x. LibTorch 1.13's hardtanh_
// instead saves a copy of x, which costs a pass and keeps x's memory alive.
class Relu6InPlaceFunction : public torch::autograd::Function<Relu6InPlaceFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* context, torch::Tensor x) {
    context->mark_dirty({x});
    at::hardtanh_(x, 0.0, 6.0);
    context->save_for_backward({x});
    return x;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* context,
                                               torch::autograd::tensor_list grad_outputs) {
    const torch::Tensor output = context->get_saved_variables()[0];
    return {at::hardtanh_backward(grad_outputs[0], output, 0.0, 6.0)};
  }
};

}  // namespace

torch::Tensor relu6_in_place(torch::Tensor x) { return Relu6InPlaceFunction::apply(x); }

void init_conv_weight(torch::Tensor& weight) {
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(weight, 0.0, torch::kFanOut, torch::kReLU);
}

QuantizedConvImpl::QuantizedConvImpl(const sdk::Quantizer& quantizer,
                                     QuantizedConvOptions options)
    : options_(std::move(options)) {
  const QuantizedConvOptions& o = options_;
  const std::int64_t in_per_group = o.kind == ConvKind::depthwise ? 1 : o.in_channels;
  weight = register_parameter("weight",
                              torch::empty({o.out_channels, in_per_group, o.kernel, o.kernel}));
  init_conv_weight(weight);
  bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(o.out_channels)
                                                        .eps(kBatchNormEps)
                                                        .momentum(kBatchNormMomentum)));
  input_quantizer = register_module(
      "input_quantizer",
      make_quantizer_op(quantizer, make_site(o.name, sdk::TensorRole::activation,
                                             o.input_non_negative, o.out_channels, {o.bits})));
  weight_quantizer = register_module(
      "weight_quantizer", make_quantizer_op(quantizer, make_site(o.name, sdk::TensorRole::weight,
                                                                 false, o.out_channels, {o.bits})));
}

torch::Tensor QuantizedConvImpl::forward(const torch::Tensor& x) {
  const QuantizedConvOptions& o = options_;
  const torch::Tensor input = input_quantizer->forward(x, o.bits);
  const torch::Tensor w = weight_quantizer->forward(weight, o.bits);
  torch::Tensor y = o.kind == ConvKind::depthwise
                        ? depthwise_conv2d(input, w, o.stride)
                        : at::conv2d(input, w, {}, o.stride, o.kernel / 2);
  if (is_training() && batch_norm_mode_ == BatchNormMode::range) {
    y = range_batch_norm(y, *bn);
  } else if (is_training() && y.device().is_cpu()) {
    // What bn->forward() does in training, with ReLU6 in the same op.
    {
      torch::NoGradGuard no_grad;
      bn->num_batches_tracked.add_(1);
    }
    return batch_norm_relu6(y, bn->weight, bn->bias, bn->running_mean, bn->running_var,
                            bn->options.momentum().value(), bn->options.eps(), o.relu6);
  } else {
    y = bn->forward(y);
  }
  return o.relu6 ? relu6_in_place(y) : y;
}

QuantizedLinearImpl::QuantizedLinearImpl(const sdk::Quantizer& quantizer, std::string name,
                                         std::int64_t in_features, std::int64_t out_features) {
  weight = register_parameter("weight", torch::empty({out_features, in_features}));
  bias = register_parameter("bias", torch::zeros({out_features}));
  {
    torch::NoGradGuard no_grad;
    weight.normal_(0.0, 0.01);
  }
  const std::vector<int> bits{space::kFixedLayerBits};
  input_quantizer = register_module(
      "input_quantizer",
      make_quantizer_op(quantizer,
                        make_site(name, sdk::TensorRole::activation, true, out_features, bits)));
  weight_quantizer = register_module(
      "weight_quantizer",
      make_quantizer_op(quantizer,
                        make_site(name, sdk::TensorRole::weight, false, out_features, bits)));
}

torch::Tensor QuantizedLinearImpl::forward(const torch::Tensor& x) {
  const torch::Tensor input = input_quantizer->forward(x, space::kFixedLayerBits);
  const torch::Tensor w = weight_quantizer->forward(weight, space::kFixedLayerBits);
  return at::linear(input, w, bias);
}

bool block_input_non_negative(const space::BlockSlot& slot) { return slot.index == 0; }

DiscreteBlockImpl::DiscreteBlockImpl(const space::BlockSlot& slot,
                                     const space::BlockChoice& choice,
                                     const sdk::Quantizer& quantizer)
    : residual(slot.residual) {
  const std::string group = "block" + std::to_string(slot.index);
  const bool input_non_negative = block_input_non_negative(slot);
  std::int64_t hidden = slot.input_channels;

  if (choice.expansion > 1) {
    hidden = slot.input_channels * choice.expansion;
    QuantizedConvOptions options;
    options.name = group + ".expand";
    options.in_channels = slot.input_channels;
    options.out_channels = hidden;
    options.bits = choice.bottleneck_bits;
    options.input_non_negative = input_non_negative;
    expand = register_module("expand", QuantizedConv(quantizer, options));
  }

  QuantizedConvOptions dw_options;
  dw_options.name = group + ".dw";
  dw_options.kind = ConvKind::depthwise;
  dw_options.in_channels = hidden;
  dw_options.out_channels = hidden;
  dw_options.kernel = choice.kernel;
  dw_options.stride = slot.stride;
  dw_options.bits = choice.depthwise_bits;
  dw_options.input_non_negative = choice.expansion > 1 || input_non_negative;
  dw = register_module("dw", QuantizedConv(quantizer, dw_options));

  QuantizedConvOptions project_options;
  project_options.name = group + ".project";
  project_options.in_channels = hidden;
  project_options.out_channels = slot.output_channels;
  project_options.bits = choice.bottleneck_bits;
  project_options.input_non_negative = true;
  project_options.relu6 = false;
  project = register_module("project", QuantizedConv(quantizer, project_options));
}

torch::Tensor DiscreteBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = expand ? expand->forward(x) : x;
  h = dw->forward(h);
  h = project->forward(h);
  return residual ? x + h : h;
}

}  // namespace nasq::model
