// Fake-quantization math shared by the quantizer plugins: integer grids,
// clipping-level floors, straight-through rounding and bit-width checks.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nasq/sdk/error.hpp>
#include <nasq/sdk/quantizer.hpp>

namespace nasq::quantizers {

// Largest integer of the symmetric signed grid {-L, ..., L}: 2^(b-1) - 1.
inline std::int64_t signed_levels(int bits) { return (std::int64_t{1} << (bits - 1)) - 1; }

// Largest integer of the unsigned grid {0, ..., L}: 2^b - 1.
inline std::int64_t unsigned_levels(int bits) { return (std::int64_t{1} << bits) - 1; }

// Returns true when an op at `site` uses the unsigned grid. That is the case
// for activations that the core declares non-negative, unless the plugin's
// config requests the signed formula.
inline bool use_unsigned_grid(const sdk::QuantizerSite& site, bool signed_activations) {
  return site.role == sdk::TensorRole::activation && site.non_negative && !signed_activations;
}

// Converts half and bfloat16 inputs to float32, whose 24-bit significand
// represents every grid up to 16 bits exactly. Other dtypes are returned
// unchanged. The ops cast their result back to the input's dtype.
inline torch::Tensor to_compute_dtype(const torch::Tensor& x) {
  if (x.scalar_type() == torch::kHalf || x.scalar_type() == torch::kBFloat16) {
    return x.to(torch::kFloat);
  }
  return x;
}

// Returns the smallest positive normal number of float64 for kDouble, else of float32.
inline double smallest_normal(torch::ScalarType dtype) {
  if (dtype == torch::kDouble) return std::numeric_limits<double>::min();
  return std::numeric_limits<float>::min();
}

// Returns the smallest clipping level the ops use at `bits` bits. At or above it, the step
// c / (2^b - 1) is a normal number, so x / step never divides by zero (all-zero
// tensors) or by a subnormal. A larger c is used unchanged, so tensors with
// max |x| = 1e-30 keep their own scale in float32 (floor about 8e-34 at 16 bits).
inline double min_clip_level(torch::ScalarType dtype, int bits) {
  return smallest_normal(dtype) * std::ldexp(1.0, bits);
}

// Returns max(value, floor) in the forward pass while the gradient still
// reaches `value` everywhere, so the optimizer can still move a learned level
// that fell below the floor.
inline torch::Tensor floor_keep_gradient(const torch::Tensor& value, double floor) {
  return value + (floor - value).clamp_min(0.0).detach();
}

// Returns max |x| without gradient: a 0-dim tensor, or with `per_channel` one
// value per slice of dim 0, shaped [C, 1, ..., 1] to broadcast against x.
// Tensors with fewer than 2 dimensions always get one value. x must not be empty.
// It is computed as max(-min x, max x) from one pass of aminmax(), which
// allocates no |x| tensor. NaN in x gives NaN.
inline torch::Tensor max_abs(const torch::Tensor& x, bool per_channel) {
  torch::NoGradGuard no_grad;
  const torch::Tensor values = x.detach();
  if (!per_channel || x.dim() < 2) {
    // The order of the elements does not matter, so a dense tensor in any
    // layout (channels-last) is read as the 1-D range of its storage;
    // LibTorch 1.13's aminmax() would first copy it to the contiguous layout.
    const torch::Tensor flat = values.is_non_overlapping_and_dense()
                                   ? values.as_strided({values.numel()}, {1})
                                   : values;
    const auto [min, max] = torch::aminmax(flat);
    return torch::maximum(min.neg(), max);
  }

  std::vector<std::int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  shape[0] = x.size(0);
  const auto [min, max] = torch::aminmax(values.flatten(1), 1);
  return torch::maximum(min.neg(), max).view(shape);
}

// Rounds clamp(x, low, high) / step to the nearest integer (ties to even, as
// torch::round does) and multiplies by step. The forward value is exactly that
// grid value. The gradient w.r.t. x is the upstream gradient where
// low <= x <= high and zero outside (straight-through estimator); `low`, `high`
// and `step` receive none, so callers pass detached tensors.
inline torch::Tensor fake_quantize_ste(const torch::Tensor& x, const torch::Tensor& low,
                                       const torch::Tensor& high, const torch::Tensor& step) {
  const torch::Tensor clipped = torch::clamp(x, low, high);
  const torch::Tensor grid_value = torch::round(clipped.detach() / step) * step;
  // clipped - clipped.detach() is exactly zero, so the sum is the grid value
  // bit for bit while autograd computes d(output)/d(clipped) = 1.
  return grid_value + (clipped - clipped.detach());
}

// Returns the clipping level `clip` (detached, 0-dim or broadcastable per
// channel) in `dtype`, raised to at least min_clip_level().
inline torch::Tensor clip_level(const torch::Tensor& clip, torch::ScalarType dtype, int bits) {
  return clip.to(dtype).clamp_min(min_clip_level(dtype, bits));
}

// Returns the largest integer of the grid that quantize_with_clip() uses.
inline std::int64_t grid_levels(int bits, bool unsigned_grid) {
  return unsigned_grid ? unsigned_levels(bits) : signed_levels(bits);
}

// Quantizes x with the reference formula for clipping level `clip` (detached,
// 0-dim or broadcastable per channel), raised to at least min_clip_level().
// Signed grid: clamp to [-c, c], step c / (2^(b-1) - 1). Unsigned grid: clamp
// to [0, c], step c / (2^b - 1).
inline torch::Tensor quantize_with_clip(const torch::Tensor& x, const torch::Tensor& clip,
                                        int bits, bool unsigned_grid) {
  const torch::Tensor level = clip_level(clip, x.scalar_type(), bits);
  const double levels = static_cast<double>(grid_levels(bits, unsigned_grid));
  const torch::Tensor step = level / levels;
  if (unsigned_grid) return fake_quantize_ste(x, torch::zeros_like(level), level, step);
  return fake_quantize_ste(x, -level, level, step);
}

// Returns the grid of quantize_with_clip() for the same clipping level, with
// the step computed by the same float operations. A per-channel clip
// [C, 1, ..., 1] gives a 1-D scale [C].
inline sdk::QuantizationGrid grid_with_clip(const torch::Tensor& clip, torch::ScalarType dtype,
                                            int bits, bool unsigned_grid) {
  torch::NoGradGuard no_grad;
  const std::int64_t levels = grid_levels(bits, unsigned_grid);
  const torch::Tensor step = clip_level(clip.detach(), dtype, bits) / static_cast<double>(levels);
  sdk::QuantizationGrid grid;
  grid.scale = step.dim() == 0 ? step : step.reshape({-1});
  grid.min_level = unsigned_grid ? 0 : -levels;
  grid.max_level = levels;
  return grid;
}

// Returns the bit-widths low..high.
inline std::vector<int> bit_range(int low, int high) {
  std::vector<int> bits;
  for (int b = low; b <= high; ++b) bits.push_back(b);
  return bits;
}

// Raises sdk::Error when `site` lists no bit-width or one outside
// [min_bits, max_bits]. The message names the plugin, the site and the value.
inline void check_site_bits(std::string_view plugin, const sdk::QuantizerSite& site, int min_bits,
                            int max_bits) {
  const std::string where = "quantizer '" + std::string(plugin) + "', site '" + site.name + "'";
  if (site.bit_choices.empty()) {
    throw sdk::Error(where + ": the site lists no bit-widths; give it at least one of " +
                     std::to_string(min_bits) + ".." + std::to_string(max_bits));
  }
  for (const int bits : site.bit_choices) {
    if (bits < min_bits || bits > max_bits) {
      throw sdk::Error(where + ": unsupported bit-width " + std::to_string(bits) + "; " +
                       std::string(plugin) + " supports " + std::to_string(min_bits) + ".." +
                       std::to_string(max_bits) + " bits");
    }
  }
}

// Raises std::logic_error when export_grid() of a weight site receives no
// weight tensor, which the SDK contract forbids.
inline void check_export_weight(std::string_view plugin, const sdk::QuantizerSite& site,
                                const torch::Tensor& weight) {
  if (weight.defined() && weight.numel() > 0) return;
  throw std::logic_error("quantizer '" + std::string(plugin) + "', site '" + site.name +
                         "': export_grid() of a weight site needs the weight tensor, but "
                         "received an undefined or empty tensor; this is a bug in the caller");
}

// Raises std::logic_error when forward() receives a bit-width that the site
// did not list in bit_choices, which the SDK contract forbids.
inline void check_forward_bits(std::string_view plugin, const sdk::QuantizerSite& site, int bits) {
  for (const int choice : site.bit_choices) {
    if (choice == bits) return;
  }
  std::string choices;
  for (const int choice : site.bit_choices) {
    choices += (choices.empty() ? "" : ", ") + std::to_string(choice);
  }
  throw std::logic_error("quantizer '" + std::string(plugin) + "', site '" + site.name +
                         "': forward() called with " + std::to_string(bits) +
                         " bits, which is not among the site's bit choices {" + choices +
                         "}; this is a bug in the caller");
}

}  // namespace nasq::quantizers
