// One-pass CPU kernels of the linear quantizer: fake quantization of a tensor at
// several bit-widths with one clipping level, mixed by weights, as one autograd op.
#pragma once

#include <torch/types.h>

#include <vector>

namespace nasq::quantizers {

// The grid of one bit-width: clamp to [low, high], then round to a multiple of step.
struct GridBounds {
  double low = 0.0;
  double high = 0.0;
  double step = 1.0;
};

// Returns sum_b mixing_weights[..., b] * q_b(x), where
// q_b(x) = round(clamp(x, low_b, high_b) / step_b) * step_b with rounding ties
// to even, computed in x's dtype like the LibTorch ops of fake_quant.hpp.
// - x: a float or double tensor with at least one element. A 4-D x keeps its
//   memory format (NCHW or channels-last); any other x is made contiguous.
// - grids: one entry per bit-width B. Each bound is converted to x's dtype.
// - mixing_weights: [B], or [N, B] with N = x.size(0) (one row per sample).
// Gradients: x gets grad * sum_b w_b * [low_b <= x <= high_b] (the
// straight-through estimator of each q_b), and w_b gets sum grad * q_b(x).
// Only x and mixing_weights are saved for the backward pass, which recomputes
// q_b(x), so no quantized copy of x stays alive. With B = 1 and a weight of
// exactly 1 the output is q_1(x) bit for bit.
torch::Tensor mixed_fake_quantize(const torch::Tensor& x, const std::vector<GridBounds>& grids,
                                  const torch::Tensor& mixing_weights);

}  // namespace nasq::quantizers
