// Quantizer sites, per-image and depthwise convolutions, and the fixed-bit
// quantized layers of the supernet and the discrete network.
#include "core/model/layers.hpp"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <utility>

#include "nasq/sdk/error.hpp"

namespace nasq::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Sizes of a depthwise convolution in channels-last layout.
struct DepthwiseShape {
  std::int64_t batch, channels, height, width, out_height, out_width, kernel, stride, padding;
};

// Adds x[n, ih, iw, :] * grad[n, oh, ow, :] to acc[(n - first_sample) *
// sample_stride + (i * K + j) * C + c] for every output row (n, oh) in
// [row_begin, row_end) and every tap (i, j) inside the input. Every access runs
// along the contiguous channel dimension, so the innermost loop vectorizes
// without reordering any sum.
template <typename T>
[[gnu::always_inline]] inline void accumulate_weight_grad(const T* x, const T* grad, T* acc,
                                                          const DepthwiseShape& s,
                                                          std::int64_t row_begin,
                                                          std::int64_t row_end,
                                                          std::int64_t first_sample,
                                                          std::int64_t sample_stride) {
  const std::int64_t C = s.channels;
  for (std::int64_t row = row_begin; row < row_end; ++row) {
    const std::int64_t n = row / s.out_height;
    const std::int64_t oh = row % s.out_height;
    T* sample_acc = acc + (n - first_sample) * sample_stride;
    for (std::int64_t ow = 0; ow < s.out_width; ++ow) {
      const T* g = grad + ((n * s.out_height + oh) * s.out_width + ow) * C;
      for (std::int64_t i = 0; i < s.kernel; ++i) {
        const std::int64_t ih = oh * s.stride - s.padding + i;
        if (ih < 0 || ih >= s.height) continue;
        for (std::int64_t j = 0; j < s.kernel; ++j) {
          const std::int64_t iw = ow * s.stride - s.padding + j;
          if (iw < 0 || iw >= s.width) continue;
          const T* xv = x + ((n * s.height + ih) * s.width + iw) * C;
          T* a = sample_acc + (i * s.kernel + j) * C;
          for (std::int64_t c = 0; c < C; ++c) a[c] += xv[c] * g[c];
        }
      }
    }
  }
}

// One entry point per dtype, each compiled for AVX2 and for the baseline ISA;
// the loader picks the variant the CPU supports.
__attribute__((target_clones("avx2", "default"))) void weight_grad_rows(
    const float* x, const float* grad, float* acc, const DepthwiseShape& s,
    std::int64_t row_begin, std::int64_t row_end, std::int64_t first_sample,
    std::int64_t sample_stride) {
  accumulate_weight_grad(x, grad, acc, s, row_begin, row_end, first_sample, sample_stride);
}

__attribute__((target_clones("avx2", "default"))) void weight_grad_rows(
    const double* x, const double* grad, double* acc, const DepthwiseShape& s,
    std::int64_t row_begin, std::int64_t row_end, std::int64_t first_sample,
    std::int64_t sample_stride) {
  accumulate_weight_grad(x, grad, acc, s, row_begin, row_end, first_sample, sample_stride);
}

// Weight gradient of a depthwise convolution: [C, 1, K, K], or
// [N, C, 1, K, K] when `per_sample`. Shared weights sum one partial
// accumulator per thread; per-image weights give each thread whole images.
template <typename T>
torch::Tensor depthwise_weight_grad(const torch::Tensor& input, const torch::Tensor& grad_output,
                                    const DepthwiseShape& s, bool per_sample) {
  const torch::Tensor x = input.contiguous(at::MemoryFormat::ChannelsLast);
  const torch::Tensor g = grad_output.contiguous(at::MemoryFormat::ChannelsLast);
  const T* x_data = x.data_ptr<T>();
  const T* g_data = g.data_ptr<T>();
  const std::int64_t taps = s.kernel * s.kernel * s.channels;
  const std::int64_t rows = s.batch * s.out_height;

  torch::Tensor acc;
  if (per_sample) {
    acc = torch::zeros({s.batch, s.kernel, s.kernel, s.channels}, x.options());
    T* acc_data = acc.data_ptr<T>();
    at::parallel_for(0, s.batch, 1, [&](std::int64_t begin, std::int64_t end) {
      weight_grad_rows(x_data, g_data, acc_data + begin * taps, s, begin * s.out_height,
                       end * s.out_height, begin, taps);
    });
    return acc.permute({0, 3, 1, 2}).unsqueeze(2).contiguous();
  }

  const int threads = at::get_num_threads();
  acc = torch::zeros({threads, s.kernel, s.kernel, s.channels}, x.options());
  T* acc_data = acc.data_ptr<T>();
  const std::int64_t grain = std::max<std::int64_t>(1, rows / (4 * threads));
  at::parallel_for(0, rows, grain, [&](std::int64_t begin, std::int64_t end) {
    T* partial = acc_data + at::get_thread_num() * taps;
    weight_grad_rows(x_data, g_data, partial, s, begin, end, 0, 0);
  });
  return acc.sum(0).permute({2, 0, 1}).unsqueeze(1).contiguous();
}

// Per-image weights run as one grouped convolution over a batch of one
// image with N * C channels.
torch::Tensor as_grouped_input(const torch::Tensor& input) {
  return input.contiguous().reshape({1, input.size(0) * input.size(1), input.size(2),
                                     input.size(3)});
}

class DepthwiseConvFunction : public torch::autograd::Function<DepthwiseConvFunction> {
 public:
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& input,
                               const torch::Tensor& weight, std::int64_t stride) {
    context->save_for_backward({input, weight});
    context->saved_data["stride"] = stride;
    const std::int64_t padding = weight.size(-1) / 2;
    if (weight.dim() == 4) {
      return at::conv2d(input.contiguous(at::MemoryFormat::ChannelsLast), weight, {}, stride,
                        padding, 1, input.size(1));
    }
    const std::int64_t groups = input.size(0) * input.size(1);
    const torch::Tensor output =
        at::conv2d(as_grouped_input(input), weight.reshape({groups, 1, weight.size(-2),
                                                            weight.size(-1)}),
                   {}, stride, padding, 1, groups);
    return output.view({input.size(0), input.size(1), output.size(2), output.size(3)})
        .contiguous(at::MemoryFormat::ChannelsLast);
  }

  static tensor_list backward(AutogradContext* context, tensor_list grad_outputs) {
    const tensor_list saved = context->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const torch::Tensor& weight = saved[1];
    const std::int64_t stride = context->saved_data["stride"].toInt();
    const torch::Tensor grad = grad_outputs[0];
    const bool per_sample = weight.dim() == 5;
    const std::int64_t kernel = weight.size(-1);
    const DepthwiseShape shape{input.size(0), input.size(1), input.size(2), input.size(3),
                               grad.size(2),  grad.size(3),  kernel,        stride,
                               kernel / 2};

    torch::Tensor grad_input;
    if (context->needs_input_grad(0)) grad_input = input_grad(input, weight, grad, shape);
    torch::Tensor grad_weight;
    if (context->needs_input_grad(1)) {
      grad_weight = weight_grad(input, weight, grad, shape, per_sample);
    }
    return {grad_input, grad_weight, torch::Tensor()};
  }

 private:
  static torch::Tensor input_grad(const torch::Tensor& input, const torch::Tensor& weight,
                                  const torch::Tensor& grad, const DepthwiseShape& s) {
    const std::vector<std::int64_t> stride{s.stride, s.stride};
    const std::vector<std::int64_t> padding{s.padding, s.padding};
    const std::vector<std::int64_t> dilation{1, 1};
    const std::vector<std::int64_t> output_padding{0, 0};
    if (weight.dim() == 4) {
      return std::get<0>(at::convolution_backward(
          grad.contiguous(at::MemoryFormat::ChannelsLast),
          input.contiguous(at::MemoryFormat::ChannelsLast), weight, c10::nullopt, stride,
          padding, dilation, false, output_padding, s.channels, {true, false, false}));
    }
    const std::int64_t groups = s.batch * s.channels;
    const torch::Tensor grouped = std::get<0>(at::convolution_backward(
        as_grouped_input(grad), as_grouped_input(input),
        weight.reshape({groups, 1, s.kernel, s.kernel}), c10::nullopt, stride, padding,
        dilation, false, output_padding, groups, {true, false, false}));
    return grouped.view(input.sizes()).contiguous(at::MemoryFormat::ChannelsLast);
  }

  static torch::Tensor weight_grad(const torch::Tensor& input, const torch::Tensor& weight,
                                   const torch::Tensor& grad, const DepthwiseShape& s,
                                   bool per_sample) {
    if (input.scalar_type() == torch::kFloat) {
      return depthwise_weight_grad<float>(input, grad, s, per_sample);
    }
    if (input.scalar_type() == torch::kDouble) {
      return depthwise_weight_grad<double>(input, grad, s, per_sample);
    }
    // Other dtypes (half, bfloat16) use LibTorch's kernel through autograd.
    torch::AutoGradMode enable(true);
    const torch::Tensor w = weight.detach().requires_grad_(true);
    const torch::Tensor output = DepthwiseConvFunction::forward_plain(input.detach(), w, s.stride);
    return torch::autograd::grad({output}, {w}, {grad})[0];
  }

 public:
  // The forward computation without this function's backward.
  static torch::Tensor forward_plain(const torch::Tensor& input, const torch::Tensor& weight,
                                     std::int64_t stride) {
    const std::int64_t padding = weight.size(-1) / 2;
    if (weight.dim() == 4) {
      return at::conv2d(input, weight, {}, stride, padding, 1, input.size(1));
    }
    const std::int64_t groups = input.size(0) * input.size(1);
    const torch::Tensor output = at::conv2d(
        as_grouped_input(input), weight.reshape({groups, 1, weight.size(-2), weight.size(-1)}),
        {}, stride, padding, 1, groups);
    return output.view({input.size(0), input.size(1), output.size(2), output.size(3)});
  }
};

}  // namespace

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

torch::Tensor depthwise_conv2d(const torch::Tensor& input, const torch::Tensor& weight,
                               std::int64_t stride) {
  TORCH_CHECK(input.dim() == 4 && (weight.dim() == 4 || weight.dim() == 5),
              "depthwise_conv2d: input must be [N, C, H, W] and weight [C, 1, K, K] or "
              "[N, C, 1, K, K]; got ", input.sizes(), " and ", weight.sizes(),
              " (a bug in the caller)");
  return DepthwiseConvFunction::apply(input, weight, stride);
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

torch::Tensor relu6_in_place(torch::Tensor x) { return at::hardtanh_(x, 0.0, 6.0); }

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
  y = bn->forward(y);
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
