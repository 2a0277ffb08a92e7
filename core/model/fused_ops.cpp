// CPU kernels and autograd functions of the depthwise convolution and the
// weighted sum.
#include "core/model/fused_ops.hpp"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace nasq::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

torch::Tensor channels_last(const torch::Tensor& t) {
  return t.contiguous(at::MemoryFormat::ChannelsLast);
}

// Sizes of a depthwise convolution in channels-last layout.
struct DepthwiseShape {
  std::int64_t batch, channels, height, width, out_height, out_width, kernel, stride, padding;
};

// 256 bits of T as a GCC vector, the width of one AVX2 register. In code
// built for the baseline ISA the compiler splits it into narrower ops.
template <typename T>
struct Lanes {
  static constexpr std::int64_t size = 32 / sizeof(T);
  typedef T Vector __attribute__((vector_size(32)));
  Vector v;
  // Operands by reference: passing a 32-byte vector by value makes GCC
  // print a note about an ABI change in GCC 4.6.
  [[gnu::always_inline]] Lanes& operator+=(const Lanes& other) {
    v += other.v;
    return *this;
  }
  [[gnu::always_inline]] friend Lanes operator+(const Lanes& a, const Lanes& b) {
    return {a.v + b.v};
  }
  [[gnu::always_inline]] friend Lanes operator*(const Lanes& a, const Lanes& b) {
    return {a.v * b.v};
  }
};

template <typename T>
[[gnu::always_inline]] inline Lanes<T> load_lanes(const T* p) {
  Lanes<T> lanes;
  std::memcpy(&lanes.v, p, sizeof(lanes.v));
  return lanes;
}

template <typename T>
[[gnu::always_inline]] inline void store_lanes(T* p, const Lanes<T>& lanes) {
  std::memcpy(p, &lanes.v, sizeof(lanes.v));
}

// Adds x[n, ih, iw, :] * grad[n, oh, ow, :] to the accumulator row
// acc[(n - first_sample) * sample_stride + (i * K + j) * C]. It does so for
// every output row (n, oh) in [row_begin, row_end) and every tap (i, j) that
// falls inside the input. For one output row and tap, each block of
// 2 * kLanes channels (then one of kLanes) sums over the row's output pixels
// in vector registers and adds that sum to acc once. A loop that updated acc for every
// pixel would load and store it each time.
template <typename T>
[[gnu::always_inline]] inline void accumulate_weight_grad(const T* x, const T* grad, T* acc,
                                                          const DepthwiseShape& s,
                                                          std::int64_t row_begin,
                                                          std::int64_t row_end,
                                                          std::int64_t first_sample,
                                                          std::int64_t sample_stride) {
  constexpr std::int64_t kLanes = Lanes<T>::size;
  const std::int64_t C = s.channels;
  for (std::int64_t row = row_begin; row < row_end; ++row) {
    const std::int64_t n = row / s.out_height;
    const std::int64_t oh = row % s.out_height;
    T* sample_acc = acc + (n - first_sample) * sample_stride;
    const T* g_row = grad + (n * s.out_height + oh) * s.out_width * C;
    for (std::int64_t i = 0; i < s.kernel; ++i) {
      const std::int64_t ih = oh * s.stride - s.padding + i;
      if (ih < 0 || ih >= s.height) continue;
      const T* x_row = x + (n * s.height + ih) * s.width * C;
      for (std::int64_t j = 0; j < s.kernel; ++j) {
        // Output columns ow whose input column ow * stride - padding + j
        // lies in [0, width).
        const std::int64_t low = s.padding - j;
        const std::int64_t high = s.width - 1 + s.padding - j;
        if (high < 0) continue;
        const std::int64_t ow_begin = low > 0 ? (low + s.stride - 1) / s.stride : 0;
        const std::int64_t ow_end = std::min(s.out_width, high / s.stride + 1);
        if (ow_begin >= ow_end) continue;
        const T* x_tap = x_row + (ow_begin * s.stride - s.padding + j) * C;
        const T* g_tap = g_row + ow_begin * C;
        const std::int64_t x_step = s.stride * C;
        T* a = sample_acc + (i * s.kernel + j) * C;

        const std::int64_t pixels = ow_end - ow_begin;
        std::int64_t c = 0;
        for (; c + 2 * kLanes <= C; c += 2 * kLanes) {
          Lanes<T> sum0{}, sum1{};
          for (std::int64_t q = 0; q < pixels; ++q) {
            const T* xv = x_tap + q * x_step + c;
            const T* gv = g_tap + q * C + c;
            sum0 += load_lanes(xv) * load_lanes(gv);
            sum1 += load_lanes(xv + kLanes) * load_lanes(gv + kLanes);
          }
          store_lanes(a + c, load_lanes(a + c) + sum0);
          store_lanes(a + c + kLanes, load_lanes(a + c + kLanes) + sum1);
        }
        if (c + kLanes <= C) {
          Lanes<T> sum{};
          for (std::int64_t q = 0; q < pixels; ++q) {
            sum += load_lanes(x_tap + q * x_step + c) * load_lanes(g_tap + q * C + c);
          }
          store_lanes(a + c, load_lanes(a + c) + sum);
          c += kLanes;
        }
        for (; c < C; ++c) {
          T sum = 0;
          for (std::int64_t q = 0; q < pixels; ++q) sum += x_tap[q * x_step + c] * g_tap[q * C + c];
          a[c] += sum;
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
  const torch::Tensor x = channels_last(input);
  const torch::Tensor g = channels_last(grad_output);
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
      return at::conv2d(channels_last(input), weight, {}, stride, padding, 1, input.size(1))
          .contiguous(at::MemoryFormat::ChannelsLast);
    }
    const std::int64_t groups = input.size(0) * input.size(1);
    const torch::Tensor output =
        at::conv2d(as_grouped_input(input),
                   weight.reshape({groups, 1, weight.size(-2), weight.size(-1)}), {}, stride,
                   padding, 1, groups);
    return channels_last(
        output.view({input.size(0), input.size(1), output.size(2), output.size(3)}));
  }

  static tensor_list backward(AutogradContext* context, tensor_list grad_outputs) {
    const tensor_list saved = context->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const torch::Tensor& weight = saved[1];
    const std::int64_t stride = context->saved_data["stride"].toInt();
    const torch::Tensor grad = grad_outputs[0];
    const std::int64_t kernel = weight.size(-1);
    const DepthwiseShape shape{input.size(0), input.size(1), input.size(2), input.size(3),
                               grad.size(2),  grad.size(3),  kernel,        stride,
                               kernel / 2};

    torch::Tensor grad_input, grad_weight;
    if (context->needs_input_grad(0)) grad_input = input_grad(input, weight, grad, shape);
    if (context->needs_input_grad(1)) {
      const bool per_sample = weight.dim() == 5;
      grad_weight = input.scalar_type() == torch::kDouble
                        ? depthwise_weight_grad<double>(input, grad, shape, per_sample)
                        : depthwise_weight_grad<float>(input, grad, shape, per_sample);
    }
    return {grad_input, grad_weight, torch::Tensor()};
  }

 private:
  // LibTorch's input gradient, which is fast channels-last.
  static torch::Tensor input_grad(const torch::Tensor& input, const torch::Tensor& weight,
                                  const torch::Tensor& grad, const DepthwiseShape& s) {
    const std::vector<std::int64_t> stride{s.stride, s.stride};
    const std::vector<std::int64_t> padding{s.padding, s.padding};
    const std::vector<std::int64_t> dilation{1, 1};
    const std::vector<std::int64_t> output_padding{0, 0};
    if (weight.dim() == 4) {
      return std::get<0>(at::convolution_backward(
          channels_last(grad), channels_last(input), weight, c10::nullopt, stride, padding,
          dilation, false, output_padding, s.channels, {true, false, false}));
    }
    const std::int64_t groups = s.batch * s.channels;
    const torch::Tensor grouped = std::get<0>(at::convolution_backward(
        as_grouped_input(grad), as_grouped_input(input),
        weight.reshape({groups, 1, s.kernel, s.kernel}), c10::nullopt, stride, padding,
        dilation, false, output_padding, groups, {true, false, false}));
    return channels_last(grouped.view(input.sizes()));
  }
};

// A weighted sum of `terms` tensors viewed as [pixels, channels]
// (channels-last), with one coefficient per term for the whole batch or per
// image.
struct MixShape {
  std::int64_t pixels = 0;            // N * H * W
  std::int64_t pixels_per_image = 0;  // H * W
  std::int64_t channels = 0;
  std::int64_t terms = 0;
  bool per_image = false;
};

// out[pixel, :] = sum_b coef[b] * in[b][pixel, :] for the pixels [begin, end).
template <typename T>
[[gnu::always_inline]] inline void mix_forward(const T* const* in, const T* coef, T* out,
                                               const MixShape& s, std::int64_t begin,
                                               std::int64_t end) {
  const std::int64_t width = s.channels;
  for (std::int64_t pixel = begin; pixel < end; ++pixel) {
    const T* c = coef + (s.per_image ? pixel / s.pixels_per_image * s.terms : 0);
    T* dst = out + pixel * width;
    const T c0 = c[0];
    const T* first = in[0] + pixel * width;
    for (std::int64_t k = 0; k < width; ++k) dst[k] = c0 * first[k];
    for (std::int64_t b = 1; b < s.terms; ++b) {
      const T cb = c[b];
      const T* term = in[b] + pixel * width;
      for (std::int64_t k = 0; k < width; ++k) dst[k] += cb * term[k];
    }
  }
}

// The gradients of mix_forward() for the pixels [begin, end): grad_in[b] (when
// not null) gets coef[b] * grad_out, and grad_coef[image or 0][b] (when not
// null) accumulates sum grad_out * in[b].
template <typename T>
[[gnu::always_inline]] inline void mix_backward(const T* const* in, const T* coef,
                                                const T* grad_out, T* const* grad_in,
                                                double* grad_coef, const MixShape& s,
                                                std::int64_t begin, std::int64_t end) {
  const std::int64_t width = s.channels;
  for (std::int64_t pixel = begin; pixel < end; ++pixel) {
    const std::int64_t image = s.per_image ? pixel / s.pixels_per_image : 0;
    const T* c = coef + image * s.terms;
    const T* g = grad_out + pixel * width;
    for (std::int64_t b = 0; b < s.terms; ++b) {
      if (grad_in[b] != nullptr) {
        T* dst = grad_in[b] + pixel * width;
        const T cb = c[b];
        for (std::int64_t k = 0; k < width; ++k) dst[k] = cb * g[k];
      }
      if (grad_coef != nullptr) {
        const T* term = in[b] + pixel * width;
        T dot = 0;
        for (std::int64_t k = 0; k < width; ++k) dot += g[k] * term[k];
        grad_coef[image * s.terms + b] += dot;
      }
    }
  }
}

__attribute__((target_clones("avx2", "default"))) void mix_forward_range(
    const float* const* in, const float* coef, float* out, const MixShape& s,
    std::int64_t begin, std::int64_t end) {
  mix_forward(in, coef, out, s, begin, end);
}

__attribute__((target_clones("avx2", "default"))) void mix_forward_range(
    const double* const* in, const double* coef, double* out, const MixShape& s,
    std::int64_t begin, std::int64_t end) {
  mix_forward(in, coef, out, s, begin, end);
}

__attribute__((target_clones("avx2", "default"))) void mix_backward_range(
    const float* const* in, const float* coef, const float* grad_out, float* const* grad_in,
    double* grad_coef, const MixShape& s, std::int64_t begin, std::int64_t end) {
  mix_backward(in, coef, grad_out, grad_in, grad_coef, s, begin, end);
}

__attribute__((target_clones("avx2", "default"))) void mix_backward_range(
    const double* const* in, const double* coef, const double* grad_out, double* const* grad_in,
    double* grad_coef, const MixShape& s, std::int64_t begin, std::int64_t end) {
  mix_backward(in, coef, grad_out, grad_in, grad_coef, s, begin, end);
}

constexpr std::int64_t kMixGrain = 64;  // pixels per task

template <typename T>
torch::Tensor mix_forward_typed(const std::vector<torch::Tensor>& inputs,
                                const torch::Tensor& coef, const MixShape& s) {
  torch::Tensor out = torch::empty_like(inputs.front(), at::MemoryFormat::ChannelsLast);
  std::vector<const T*> in;
  for (const torch::Tensor& t : inputs) in.push_back(t.data_ptr<T>());
  const T* c = coef.data_ptr<T>();
  T* o = out.data_ptr<T>();
  at::parallel_for(0, s.pixels, kMixGrain, [&](std::int64_t begin, std::int64_t end) {
    mix_forward_range(in.data(), c, o, s, begin, end);
  });
  return out;
}

// Fills the defined entries of grad_inputs and returns the coefficient
// gradient, or an undefined tensor when `coef_grad` is false.
template <typename T>
torch::Tensor mix_backward_typed(const std::vector<torch::Tensor>& inputs,
                                 const torch::Tensor& coef, const torch::Tensor& grad_out,
                                 std::vector<torch::Tensor>& grad_inputs, bool coef_grad,
                                 const MixShape& s) {
  std::vector<const T*> in;
  std::vector<T*> grad_in;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    in.push_back(inputs[i].data_ptr<T>());
    grad_in.push_back(grad_inputs[i].defined() ? grad_inputs[i].data_ptr<T>() : nullptr);
  }
  const std::int64_t rows = s.per_image ? s.pixels / s.pixels_per_image : 1;
  const std::int64_t row_size = rows * s.terms;
  const int threads = at::get_num_threads();
  std::vector<double> partial(coef_grad ? static_cast<std::size_t>(threads * row_size) : 0, 0.0);
  const T* c = coef.data_ptr<T>();
  const T* g = grad_out.data_ptr<T>();
  at::parallel_for(0, s.pixels, kMixGrain, [&](std::int64_t begin, std::int64_t end) {
    double* acc = coef_grad ? partial.data() + at::get_thread_num() * row_size : nullptr;
    mix_backward_range(in.data(), c, g, grad_in.data(), acc, s, begin, end);
  });
  if (!coef_grad) return {};

  torch::Tensor sums = torch::zeros({rows, s.terms}, torch::kDouble);
  double* total = sums.data_ptr<double>();
  for (int t = 0; t < threads; ++t) {
    for (std::int64_t i = 0; i < row_size; ++i) total[i] += partial[t * row_size + i];
  }
  sums = sums.to(coef.scalar_type());
  return s.per_image ? sums : sums.view({s.terms});
}

class WeightedSumFunction : public torch::autograd::Function<WeightedSumFunction> {
 public:
  static torch::Tensor forward(AutogradContext* context, at::TensorList tensors,
                               const torch::Tensor& coefficients) {
    std::vector<torch::Tensor> inputs;
    for (const torch::Tensor& t : tensors) inputs.push_back(channels_last(t));
    const torch::Tensor coef = coefficients.contiguous();
    const MixShape shape = mix_shape(inputs.front(), coef);
    const torch::Tensor out = inputs.front().scalar_type() == torch::kDouble
                                  ? mix_forward_typed<double>(inputs, coef, shape)
                                  : mix_forward_typed<float>(inputs, coef, shape);
    // The tensors are needed only for the coefficients' gradient.
    if (!coefficients.requires_grad()) inputs.clear();
    inputs.push_back(coef);
    context->save_for_backward(inputs);
    context->saved_data["terms"] = static_cast<std::int64_t>(tensors.size());
    return out;
  }

  static tensor_list backward(AutogradContext* context, tensor_list grad_outputs) {
    std::vector<torch::Tensor> inputs = context->get_saved_variables();
    const torch::Tensor coef = inputs.back();
    inputs.pop_back();
    const auto terms = static_cast<std::size_t>(context->saved_data["terms"].toInt());
    const torch::Tensor grad = channels_last(grad_outputs[0]);
    const MixShape shape = mix_shape(grad, coef);
    const bool coef_grad = context->needs_input_grad(terms);
    if (!coef_grad) {
      // Every term's gradient is coef[b] * grad; the kernel reads no input.
      inputs.assign(terms, grad);
    }

    std::vector<torch::Tensor> grad_inputs(terms);
    for (std::size_t i = 0; i < terms; ++i) {
      if (context->needs_input_grad(i)) grad_inputs[i] = torch::empty_like(grad);
    }
    torch::Tensor grad_coef =
        coef.scalar_type() == torch::kDouble
            ? mix_backward_typed<double>(inputs, coef, grad, grad_inputs, coef_grad, shape)
            : mix_backward_typed<float>(inputs, coef, grad, grad_inputs, coef_grad, shape);
    grad_inputs.push_back(grad_coef);
    return grad_inputs;
  }

 private:
  static MixShape mix_shape(const torch::Tensor& first, const torch::Tensor& coefficients) {
    MixShape s;
    s.pixels_per_image = first.size(2) * first.size(3);
    s.pixels = first.size(0) * s.pixels_per_image;
    s.channels = first.size(1);
    s.terms = coefficients.size(-1);
    s.per_image = coefficients.dim() == 2;
    return s;
  }
};

// grad where 0 < y < 6, else +0: ReLU6's gradient read from its output y.
// The mask is a bitwise AND with all ones or all zeros, which GCC 12
// vectorizes; a select (cond ? grad : 0) stayed a branch per element.
template <typename T>
[[gnu::always_inline]] inline T relu6_gradient(T grad, T y) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  const Bits mask = Bits(0) - static_cast<Bits>((y > T(0)) & (y < T(6)));
  return std::bit_cast<T>(std::bit_cast<Bits>(grad) & mask);
}

// Adds per-channel sums over the pixels [begin, end) of channels-last tensors
// viewed as [pixels, C] to sums[0, C) (sum a) and sums[C, 2C) (sum a * x).
// Here a = x without `grad`, or grad masked by 0 < y < 6 (when y is not null).
template <typename T>
[[gnu::always_inline]] inline void channel_sums(const T* x, const T* grad, const T* y,
                                                std::int64_t channels, std::int64_t begin,
                                                std::int64_t end, double* sums) {
  double* first = sums;
  double* second = sums + channels;
  for (std::int64_t p = begin; p < end; ++p) {
    const T* xr = x + p * channels;
    if (grad == nullptr) {
      for (std::int64_t c = 0; c < channels; ++c) {
        const double v = xr[c];
        first[c] += v;
        second[c] += v * v;
      }
      continue;
    }
    const T* gr = grad + p * channels;
    if (y == nullptr) {
      for (std::int64_t c = 0; c < channels; ++c) {
        first[c] += gr[c];
        second[c] += static_cast<double>(gr[c]) * xr[c];
      }
      continue;
    }
    const T* yr = y + p * channels;
    for (std::int64_t c = 0; c < channels; ++c) {
      const T g = relu6_gradient(gr[c], yr[c]);
      first[c] += g;
      second[c] += static_cast<double>(g) * xr[c];
    }
  }
}

// Per-channel constants of channel_affine(), each [C].
template <typename T>
struct ChannelAffine {
  const T* a = nullptr;  // gradient factor; unused without a gradient
  const T* b = nullptr;  // factor of in - m
  const T* m = nullptr;  // center
  const T* d = nullptr;  // offset
};

// Writes out[p, c] = b[c] * (in[p, c] - m[c]) + d[c], clamped to [0, 6] with
// `relu6`, without `grad`. With `grad`, out[p, c] = a[c] * g +
// b[c] * (in[p, c] - m[c]) + d[c], where g is grad masked by 0 < y < 6 when
// y is not null. Centering first keeps float precision when |m| is large
// against the spread of `in`.
template <typename T>
[[gnu::always_inline]] inline void channel_affine(const T* in, const T* grad, const T* y,
                                                  const ChannelAffine<T>& k, std::int64_t channels,
                                                  bool relu6, std::int64_t begin, std::int64_t end,
                                                  T* out) {
  for (std::int64_t p = begin; p < end; ++p) {
    const T* ir = in + p * channels;
    T* orow = out + p * channels;
    if (grad == nullptr) {
      for (std::int64_t c = 0; c < channels; ++c) {
        T v = k.b[c] * (ir[c] - k.m[c]) + k.d[c];
        if (relu6) v = std::min(std::max(v, T(0)), T(6));
        orow[c] = v;
      }
      continue;
    }
    const T* gr = grad + p * channels;
    if (y == nullptr) {
      for (std::int64_t c = 0; c < channels; ++c) {
        orow[c] = k.a[c] * gr[c] + k.b[c] * (ir[c] - k.m[c]) + k.d[c];
      }
      continue;
    }
    const T* yr = y + p * channels;
    for (std::int64_t c = 0; c < channels; ++c) {
      const T g = relu6_gradient(gr[c], yr[c]);
      orow[c] = k.a[c] * g + k.b[c] * (ir[c] - k.m[c]) + k.d[c];
    }
  }
}

__attribute__((target_clones("avx2", "default"))) void channel_sums_range(
    const float* x, const float* grad, const float* y, std::int64_t channels, std::int64_t begin,
    std::int64_t end, double* sums) {
  channel_sums(x, grad, y, channels, begin, end, sums);
}

__attribute__((target_clones("avx2", "default"))) void channel_sums_range(
    const double* x, const double* grad, const double* y, std::int64_t channels,
    std::int64_t begin, std::int64_t end, double* sums) {
  channel_sums(x, grad, y, channels, begin, end, sums);
}

__attribute__((target_clones("avx2", "default"))) void channel_affine_range(
    const float* in, const float* grad, const float* y, const ChannelAffine<float>& k,
    std::int64_t channels, bool relu6, std::int64_t begin, std::int64_t end, float* out) {
  channel_affine(in, grad, y, k, channels, relu6, begin, end, out);
}

__attribute__((target_clones("avx2", "default"))) void channel_affine_range(
    const double* in, const double* grad, const double* y, const ChannelAffine<double>& k,
    std::int64_t channels, bool relu6, std::int64_t begin, std::int64_t end, double* out) {
  channel_affine(in, grad, y, k, channels, relu6, begin, end, out);
}

// Pixels per parallel task of the batch norm kernels.
constexpr std::int64_t kPixelGrain = 512;

// Returns the two per-channel sums of channel_sums() over all pixels of the
// channels-last x as [2, C] in double, added up from one partial per thread.
template <typename T>
torch::Tensor all_channel_sums(const torch::Tensor& x, const torch::Tensor& grad,
                               const torch::Tensor& y) {
  const std::int64_t channels = x.size(1);
  const std::int64_t pixels = x.numel() / channels;
  const int threads = at::get_num_threads();
  std::vector<double> partial(static_cast<std::size_t>(threads * 2 * channels), 0.0);
  const T* x_data = x.data_ptr<T>();
  const T* g_data = grad.defined() ? grad.data_ptr<T>() : nullptr;
  const T* y_data = y.defined() ? y.data_ptr<T>() : nullptr;
  at::parallel_for(0, pixels, kPixelGrain, [&](std::int64_t begin, std::int64_t end) {
    double* sums = partial.data() + at::get_thread_num() * 2 * channels;
    channel_sums_range(x_data, g_data, y_data, channels, begin, end, sums);
  });
  torch::Tensor total = torch::zeros({2, channels}, torch::kDouble);
  double* t = total.data_ptr<double>();
  for (int thread = 0; thread < threads; ++thread) {
    for (std::int64_t i = 0; i < 2 * channels; ++i) t[i] += partial[thread * 2 * channels + i];
  }
  return total;
}

// Applies channel_affine() to all pixels and returns a new channels-last
// tensor. The constants a, b, m, d are [C] tensors (a undefined without grad).
template <typename T>
torch::Tensor all_channel_affine(const torch::Tensor& in, const torch::Tensor& grad,
                                 const torch::Tensor& y, const torch::Tensor& a,
                                 const torch::Tensor& b, const torch::Tensor& m,
                                 const torch::Tensor& d, bool relu6) {
  torch::Tensor out = torch::empty_like(in, at::MemoryFormat::ChannelsLast);
  const std::int64_t channels = in.size(1);
  const std::int64_t pixels = in.numel() / channels;
  auto in_dtype = [&](const torch::Tensor& t) {
    return t.defined() ? t.to(in.scalar_type()).contiguous() : torch::Tensor();
  };
  const torch::Tensor ta = in_dtype(a), tb = in_dtype(b), tm = in_dtype(m), td = in_dtype(d);
  ChannelAffine<T> k;
  k.a = ta.defined() ? ta.data_ptr<T>() : nullptr;
  k.b = tb.data_ptr<T>();
  k.m = tm.data_ptr<T>();
  k.d = td.data_ptr<T>();
  const T* in_data = in.data_ptr<T>();
  const T* g_data = grad.defined() ? grad.data_ptr<T>() : nullptr;
  const T* y_data = y.defined() ? y.data_ptr<T>() : nullptr;
  T* out_data = out.data_ptr<T>();
  at::parallel_for(0, pixels, kPixelGrain, [&](std::int64_t begin, std::int64_t end) {
    channel_affine_range(in_data, g_data, y_data, k, channels, relu6, begin, end, out_data);
  });
  return out;
}

// Batch norm in training mode with batch statistics, optionally followed by
// ReLU6, as one op. The forward pass reads x twice (statistics, then the
// normalized and clamped output). The backward pass reads its inputs twice
// (the per-channel sums of the gradient, then the input gradient).
class BatchNormRelu6Function : public torch::autograd::Function<BatchNormRelu6Function> {
 public:
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& input,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::Tensor running_mean, torch::Tensor running_var,
                               double momentum, double eps, bool relu6) {
    const torch::Tensor x = channels_last(input);
    const std::int64_t channels = x.size(1);
    const double pixels = static_cast<double>(x.numel() / channels);
    const torch::Tensor sums = x.scalar_type() == torch::kDouble
                                   ? all_channel_sums<double>(x, {}, {})
                                   : all_channel_sums<float>(x, {}, {});
    const torch::Tensor mean = sums[0] / pixels;
    const torch::Tensor variance = (sums[1] / pixels - mean * mean).clamp_min(0.0);
    const torch::Tensor inverse_std = (variance + eps).rsqrt();
    {
      torch::NoGradGuard no_grad;
      const double unbiased = pixels / (pixels - 1.0);
      running_mean.mul_(1.0 - momentum).add_(mean.to(running_mean.scalar_type()), momentum);
      running_var.mul_(1.0 - momentum)
          .add_((variance * unbiased).to(running_var.scalar_type()), momentum);
    }
    const torch::Tensor scale = weight.detach().to(torch::kDouble) * inverse_std;
    const torch::Tensor shift = bias.detach().to(torch::kDouble);
    const torch::Tensor y =
        x.scalar_type() == torch::kDouble
            ? all_channel_affine<double>(x, {}, {}, {}, scale, mean, shift, relu6)
            : all_channel_affine<float>(x, {}, {}, {}, scale, mean, shift, relu6);
    context->save_for_backward({x, relu6 ? y : torch::Tensor(), weight, mean, inverse_std});
    context->saved_data["relu6"] = relu6;
    return y;
  }

  static tensor_list backward(AutogradContext* context, tensor_list grad_outputs) {
    const tensor_list saved = context->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& y = saved[1];
    const torch::Tensor& weight = saved[2];
    const torch::Tensor& mean = saved[3];
    const torch::Tensor& inverse_std = saved[4];
    const torch::Tensor grad = channels_last(grad_outputs[0]);
    const double pixels = static_cast<double>(x.numel() / x.size(1));

    // sum_g = sum g', sum_gx = sum g' x, with g' the gradient behind ReLU6.
    const torch::Tensor sums = x.scalar_type() == torch::kDouble
                                   ? all_channel_sums<double>(x, grad, y)
                                   : all_channel_sums<float>(x, grad, y);
    const torch::Tensor sum_g = sums[0];
    const torch::Tensor centered_sum = sums[1] - mean * sum_g;  // sum g' (x - mean)

    torch::Tensor grad_input;
    if (context->needs_input_grad(0)) {
      // dx = gamma / sigma * (g' - sum_g / M - (x - mean) / sigma^2 * centered_sum / M)
      //    = a g' + b (x - mean) + d.
      const torch::Tensor a = weight.detach().to(torch::kDouble) * inverse_std;
      const torch::Tensor b = -a * inverse_std * inverse_std * centered_sum / pixels;
      const torch::Tensor d = -a * sum_g / pixels;
      grad_input = x.scalar_type() == torch::kDouble
                       ? all_channel_affine<double>(x, grad, y, a, b, mean, d, false)
                       : all_channel_affine<float>(x, grad, y, a, b, mean, d, false);
    }
    torch::Tensor grad_weight, grad_bias;
    if (context->needs_input_grad(1)) {
      grad_weight = (centered_sum * inverse_std).to(weight.scalar_type());
    }
    if (context->needs_input_grad(2)) grad_bias = sum_g.to(weight.scalar_type());
    return {grad_input,      grad_weight,     grad_bias,       torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor depthwise_conv2d(const torch::Tensor& input, const torch::Tensor& weight,
                               std::int64_t stride) {
  TORCH_CHECK(input.dim() == 4 && (weight.dim() == 4 || weight.dim() == 5),
              "depthwise_conv2d: input must be [N, C, H, W] and weight [C, 1, K, K] or "
              "[N, C, 1, K, K]; got ", input.sizes(), " and ", weight.sizes(),
              " (a bug in the caller)");
  TORCH_CHECK(input.scalar_type() == torch::kFloat || input.scalar_type() == torch::kDouble,
              "depthwise_conv2d supports float and double tensors, got ", input.scalar_type());
  return DepthwiseConvFunction::apply(input, weight, stride);
}

torch::Tensor weighted_sum(const std::vector<torch::Tensor>& tensors,
                           const torch::Tensor& coefficients) {
  TORCH_CHECK(!tensors.empty() && static_cast<std::int64_t>(tensors.size()) == coefficients.size(-1),
              "weighted_sum: ", tensors.size(), " tensors but ", coefficients.size(-1),
              " coefficients (a bug in the caller)");
  const torch::Tensor& first = tensors.front();
  TORCH_CHECK(first.dim() == 4 && (coefficients.dim() == 1 ||
                                   (coefficients.dim() == 2 && coefficients.size(0) == first.size(0))),
              "weighted_sum: tensors must be [N, C, H, W] and coefficients [B] or [N, B]; got ",
              first.sizes(), " and ", coefficients.sizes(), " (a bug in the caller)");
  for (const torch::Tensor& t : tensors) {
    TORCH_CHECK(t.sizes() == first.sizes() && t.scalar_type() == first.scalar_type(),
                "weighted_sum: tensors differ in shape or dtype: ", first.sizes(), " and ",
                t.sizes(), " (a bug in the caller)");
  }

  // A single term with coefficient exactly 1 and no gradient to track is the
  // term itself.
  const bool coefficient_gradient = coefficients.requires_grad() && torch::GradMode::is_enabled();
  if (tensors.size() == 1 && !coefficient_gradient && coefficients.eq(1).all().item<bool>()) {
    return tensors.front();
  }

  const torch::ScalarType dtype = first.scalar_type();
  TORCH_CHECK(dtype == torch::kFloat || dtype == torch::kDouble,
              "weighted_sum supports float and double tensors, got ", dtype);
  return WeightedSumFunction::apply(at::TensorList(tensors), coefficients.to(dtype));
}

torch::Tensor batch_norm_relu6(const torch::Tensor& input, const torch::Tensor& weight,
                               const torch::Tensor& bias, const torch::Tensor& running_mean,
                               const torch::Tensor& running_var, double momentum, double eps,
                               bool relu6) {
  TORCH_CHECK(input.dim() == 4 && weight.dim() == 1 && weight.size(0) == input.size(1) &&
                  bias.sizes() == weight.sizes() && running_mean.sizes() == weight.sizes() &&
                  running_var.sizes() == weight.sizes(),
              "batch_norm_relu6: input must be [N, C, H, W] and the other tensors [C]; got ",
              input.sizes(), " and ", weight.sizes(), " (a bug in the caller)");
  const torch::ScalarType dtype = input.scalar_type();
  TORCH_CHECK(dtype == torch::kFloat || dtype == torch::kDouble,
              "batch_norm_relu6 supports float and double tensors, got ", dtype);
  TORCH_CHECK(input.device().is_cpu(), "batch_norm_relu6 runs on the CPU only");
  TORCH_CHECK(input.numel() > input.size(1),
              "batch norm in training needs more than one value per channel, got input ",
              input.sizes(), "; use a batch size above 1");
  return BatchNormRelu6Function::apply(input, weight, bias, running_mean, running_var, momentum,
                                       eps, relu6);
}


}  // namespace nasq::model
