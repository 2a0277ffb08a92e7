// CPU kernels and autograd function of the linear quantizer's mixed fake
// quantization.
#include "linear/fused_fake_quant.hpp"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace nasq::quantizers {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Elements per inner block. The kernels make one pass per bit-width over a
// block, which stays in the L1 cache.
constexpr std::int64_t kBlock = 256;
// Elements per parallel task.
constexpr std::int64_t kGrain = 16384;

// The per-call constants of the kernels, all in the compute dtype T.
template <typename T>
struct MixLayout {
  const T* low = nullptr;           // [terms]
  const T* high = nullptr;          // [terms]
  const T* step = nullptr;          // [terms]
  const T* coefficients = nullptr;  // [rows, terms], one row when shared by all samples
  std::int64_t terms = 0;
  std::int64_t row_elements = 0;  // elements that share one row of coefficients
};

// round(clamp(v, low, high) / step) * step. The comparisons keep NaN as NaN,
// as torch::clamp does, and std::nearbyint rounds ties to even, as
// torch::round does in the default rounding mode.
template <typename T>
[[gnu::always_inline]] inline T quantize(T v, T low, T high, T step) {
  const T clipped = v < low ? low : (v > high ? high : v);
  return std::nearbyint(clipped / step) * step;
}

// A block of at most kBlock elements that lies within one row of coefficients.
struct Block {
  std::int64_t first = 0;
  std::int64_t count = 0;
  std::int64_t row = 0;
};

// Returns the block that starts at `first`, which must be below `end`.
[[gnu::always_inline]] inline Block block_at(std::int64_t first, std::int64_t end,
                                             std::int64_t row_elements) {
  const std::int64_t row = first / row_elements;
  const std::int64_t row_end = std::min(end, (row + 1) * row_elements);
  return Block{first, std::min(kBlock, row_end - first), row};
}

// out = sum_b c_b * q_b(x) on the elements [begin, end), summed in order of b.
template <typename T>
[[gnu::always_inline]] inline void mix_forward(const T* x, T* out, const MixLayout<T>& m,
                                               std::int64_t begin, std::int64_t end) {
  for (std::int64_t first = begin; first < end;) {
    const auto [start, count, row] = block_at(first, end, m.row_elements);
    first += count;
    const T* xs = x + start;
    T* o = out + start;
    const T* c = m.coefficients + row * m.terms;
    const T c0 = c[0], low0 = m.low[0], high0 = m.high[0], step0 = m.step[0];
    for (std::int64_t i = 0; i < count; ++i) o[i] = c0 * quantize(xs[i], low0, high0, step0);
    for (std::int64_t b = 1; b < m.terms; ++b) {
      const T cb = c[b], low = m.low[b], high = m.high[b], step = m.step[b];
      for (std::int64_t i = 0; i < count; ++i) o[i] += cb * quantize(xs[i], low, high, step);
    }
  }
}

// Sums values[0, count) with 8 independent partial sums, so the loop
// vectorizes without -ffast-math.
template <typename T>
[[gnu::always_inline]] inline double lane_sum(const T* values, std::int64_t count) {
  constexpr std::int64_t kLanes = 8;
  T lanes[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= count; i += kLanes) {
    for (std::int64_t l = 0; l < kLanes; ++l) lanes[l] += values[i + l];
  }
  double total = 0.0;
  for (; i < count; ++i) total += values[i];
  for (std::int64_t l = 0; l < kLanes; ++l) total += lanes[l];
  return total;
}

// The gradients of mix_forward() on the elements [begin, end). grad_x (when
// not null) gets grad * sum_b c_b * [low_b <= x <= high_b]. grad_coef (when
// not null) accumulates sum grad * q_b(x) into [row, b].
template <typename T>
[[gnu::always_inline]] inline void mix_backward(const T* x, const T* grad, T* grad_x,
                                                double* grad_coef, const MixLayout<T>& m,
                                                std::int64_t begin, std::int64_t end) {
  for (std::int64_t first = begin; first < end;) {
    const auto [start, count, row] = block_at(first, end, m.row_elements);
    first += count;
    const T* xs = x + start;
    const T* g = grad + start;
    const T* c = m.coefficients + row * m.terms;
    T scratch[kBlock];
    if (grad_x != nullptr) {
      for (std::int64_t i = 0; i < count; ++i) scratch[i] = 0;
      for (std::int64_t b = 0; b < m.terms; ++b) {
        const T cb = c[b], low = m.low[b], high = m.high[b];
        for (std::int64_t i = 0; i < count; ++i) {
          scratch[i] += (xs[i] >= low && xs[i] <= high) ? cb : T(0);
        }
      }
      T* gx = grad_x + start;
      for (std::int64_t i = 0; i < count; ++i) gx[i] = g[i] * scratch[i];
    }
    if (grad_coef != nullptr) {
      for (std::int64_t b = 0; b < m.terms; ++b) {
        const T low = m.low[b], high = m.high[b], step = m.step[b];
        for (std::int64_t i = 0; i < count; ++i) scratch[i] = g[i] * quantize(xs[i], low, high, step);
        grad_coef[row * m.terms + b] += lane_sum(scratch, count);
      }
    }
  }
}

// One entry point per dtype, each compiled for AVX2 and for the baseline ISA;
// the loader picks the variant the CPU supports.
__attribute__((target_clones("avx2", "default"))) void mix_forward_range(
    const float* x, float* out, const MixLayout<float>& m, std::int64_t begin, std::int64_t end) {
  mix_forward(x, out, m, begin, end);
}

__attribute__((target_clones("avx2", "default"))) void mix_forward_range(
    const double* x, double* out, const MixLayout<double>& m, std::int64_t begin,
    std::int64_t end) {
  mix_forward(x, out, m, begin, end);
}

__attribute__((target_clones("avx2", "default"))) void mix_backward_range(
    const float* x, const float* grad, float* grad_x, double* grad_coef,
    const MixLayout<float>& m, std::int64_t begin, std::int64_t end) {
  mix_backward(x, grad, grad_x, grad_coef, m, begin, end);
}

__attribute__((target_clones("avx2", "default"))) void mix_backward_range(
    const double* x, const double* grad, double* grad_x, double* grad_coef,
    const MixLayout<double>& m, std::int64_t begin, std::int64_t end) {
  mix_backward(x, grad, grad_x, grad_coef, m, begin, end);
}

// grid_table is [3, terms] (low, high, step) and coefficients [rows, terms],
// both contiguous in x's dtype.
template <typename T>
MixLayout<T> mix_layout(const torch::Tensor& x, const torch::Tensor& grid_table,
                        const torch::Tensor& coefficients) {
  MixLayout<T> m;
  m.terms = grid_table.size(1);
  m.low = grid_table.data_ptr<T>();
  m.high = m.low + m.terms;
  m.step = m.high + m.terms;
  m.coefficients = coefficients.data_ptr<T>();
  m.row_elements = x.numel() / coefficients.size(0);
  return m;
}

template <typename T>
torch::Tensor forward_typed(const torch::Tensor& x, const torch::Tensor& grid_table,
                            const torch::Tensor& coefficients) {
  torch::Tensor out = torch::empty_like(x);
  const MixLayout<T> m = mix_layout<T>(x, grid_table, coefficients);
  const T* x_data = x.data_ptr<T>();
  T* out_data = out.data_ptr<T>();
  at::parallel_for(0, x.numel(), kGrain, [&](std::int64_t begin, std::int64_t end) {
    mix_forward_range(x_data, out_data, m, begin, end);
  });
  return out;
}

// Fills grad_x when it is defined and returns the coefficients' gradient
// [rows, terms], or an undefined tensor when `coef_grad` is false.
template <typename T>
torch::Tensor backward_typed(const torch::Tensor& x, const torch::Tensor& grid_table,
                             const torch::Tensor& coefficients, const torch::Tensor& grad,
                             torch::Tensor& grad_x, bool coef_grad) {
  const MixLayout<T> m = mix_layout<T>(x, grid_table, coefficients);
  const std::int64_t table_size = coefficients.numel();
  const int threads = at::get_num_threads();
  std::vector<double> partial(coef_grad ? static_cast<std::size_t>(threads * table_size) : 0,
                              0.0);
  const T* x_data = x.data_ptr<T>();
  const T* g_data = grad.data_ptr<T>();
  T* gx_data = grad_x.defined() ? grad_x.data_ptr<T>() : nullptr;
  at::parallel_for(0, x.numel(), kGrain, [&](std::int64_t begin, std::int64_t end) {
    double* acc = coef_grad ? partial.data() + at::get_thread_num() * table_size : nullptr;
    mix_backward_range(x_data, g_data, gx_data, acc, m, begin, end);
  });
  if (!coef_grad) return {};

  torch::Tensor sums = torch::zeros(coefficients.sizes(), torch::kDouble);
  double* total = sums.data_ptr<double>();
  for (int t = 0; t < threads; ++t) {
    for (std::int64_t i = 0; i < table_size; ++i) total[i] += partial[t * table_size + i];
  }
  return sums.to(coefficients.scalar_type());
}

// Autograd op of mixed_fake_quantize(). x is contiguous in its memory format,
// coefficients is [rows, terms] and grid_table [3, terms], both contiguous in
// x's dtype. grid_table gets no gradient.
class MixedFakeQuantFunction : public torch::autograd::Function<MixedFakeQuantFunction> {
 public:
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& x,
                               const torch::Tensor& coefficients, const torch::Tensor& grid_table) {
    context->save_for_backward({x, coefficients, grid_table});
    if (x.scalar_type() == torch::kDouble) return forward_typed<double>(x, grid_table, coefficients);
    return forward_typed<float>(x, grid_table, coefficients);
  }

  static tensor_list backward(AutogradContext* context, tensor_list grad_outputs) {
    const tensor_list saved = context->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& coefficients = saved[1];
    const torch::Tensor& grid_table = saved[2];
    // The kernels index grad like x, so grad must have x's strides.
    const torch::Tensor grad = grad_outputs[0].contiguous(x.suggest_memory_format());

    torch::Tensor grad_x;
    if (context->needs_input_grad(0)) grad_x = torch::empty_like(x);
    const bool coef_grad = context->needs_input_grad(1);
    const torch::Tensor grad_coef =
        x.scalar_type() == torch::kDouble
            ? backward_typed<double>(x, grid_table, coefficients, grad, grad_x, coef_grad)
            : backward_typed<float>(x, grid_table, coefficients, grad, grad_x, coef_grad);
    return {grad_x, grad_coef, torch::Tensor()};
  }
};

// The [3, terms] table of the grids' low, high and step in T, each bound
// rounded to T as Tensor::to() rounds it.
template <typename T>
torch::Tensor make_grid_table(const std::vector<GridBounds>& grids) {
  const auto terms = static_cast<std::int64_t>(grids.size());
  torch::Tensor table = torch::empty({3, terms}, torch::CppTypeToScalarType<T>::value);
  T* low = table.data_ptr<T>();
  T* high = low + terms;
  T* step = high + terms;
  for (std::size_t b = 0; b < grids.size(); ++b) {
    low[b] = static_cast<T>(grids[b].low);
    high[b] = static_cast<T>(grids[b].high);
    step[b] = static_cast<T>(grids[b].step);
  }
  return table;
}

}  // namespace

torch::Tensor mixed_fake_quantize(const torch::Tensor& x, const std::vector<GridBounds>& grids,
                                  const torch::Tensor& mixing_weights) {
  const auto terms = static_cast<std::int64_t>(grids.size());
  const bool valid_x = x.numel() > 0 &&
                       (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble);
  const bool valid_weights =
      terms > 0 && mixing_weights.size(-1) == terms &&
      (mixing_weights.dim() == 1 ||
       (mixing_weights.dim() == 2 && x.dim() > 0 && mixing_weights.size(0) == x.size(0)));
  if (!valid_x || !valid_weights) {
    throw std::logic_error("mixed_fake_quantize: expected a non-empty float or double x and "
                           "mixing weights [B] or [x.size(0), B] for B = " +
                           std::to_string(terms) + " grids; this is a bug in the caller");
  }

  // A 4-D x keeps its memory format; the kernels need it dense in that format.
  const torch::Tensor input = x.contiguous(x.suggest_memory_format());
  const torch::Tensor coefficients =
      mixing_weights.to(x.scalar_type()).reshape({-1, terms}).contiguous();
  const torch::Tensor grid_table = x.scalar_type() == torch::kDouble
                                       ? make_grid_table<double>(grids)
                                       : make_grid_table<float>(grids);
  return MixedFakeQuantFunction::apply(input, coefficients, grid_table);
}

}  // namespace nasq::quantizers
