// Autograd ops with hand-written CPU kernels for the supernet's hot spots: a
// depthwise convolution whose weight gradient avoids LibTorch's slow kernel,
// a weighted sum of activations, and batch norm fused with ReLU6. Uses
// LibTorch.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace nasq::model {

// Depthwise convolution with padding K / 2 of input [N, C, H, W] by a weight
// [C, 1, K, K] shared by the batch, or [N, C, 1, K, K] with one weight per
// image. Float and double only. The output is channels-last. The input
// gradient is LibTorch's channels-last one. The weight gradient comes from a
// kernel of this library, because LibTorch 1.13's CPU kernels are slow for
// large depthwise kernels. For a 7x7 kernel on 64x96x28x28, forward and
// backward took 337 ms in NCHW and 96 ms channels-last with LibTorch against
// 51 ms here (one thread, `bench_supernet --conv-only`, docs/benchmarks.md).
torch::Tensor depthwise_conv2d(const torch::Tensor& input, const torch::Tensor& weight,
                               std::int64_t stride);

// sum_b coefficients[..., b] * tensors[b] for B = coefficients.size(-1)
// float or double tensors of one shape [N, C, H, W]. coefficients is [B] (one
// coefficient per tensor for the whole batch) or [N, B] (per image).
// Gradients flow into the tensors and the coefficients. The result is a new
// channels-last tensor, except that a single term with coefficient exactly 1
// and no coefficient gradient is returned as it is. One pass over the data
// forward and one backward, where a chain of LibTorch mul/add ops takes
// about three times as many.
torch::Tensor weighted_sum(const std::vector<torch::Tensor>& tensors,
                           const torch::Tensor& coefficients);

// Batch norm in training mode (batch statistics) of input [N, C, H, W] with
// affine weight and bias [C], followed by ReLU6 when `relu6`. It needs more
// than one value per channel. It updates the running statistics [C] in
// place as LibTorch's batch norm does: the
// biased variance normalizes, the unbiased one enters running_var. Float and
// double on the CPU. The result is channels-last. Forward and backward read
// the activations twice each, and ReLU6 needs no pass of its own. The
// statistics and the per-channel sums of the backward pass accumulate in
// double.
torch::Tensor batch_norm_relu6(const torch::Tensor& input, const torch::Tensor& weight,
                               const torch::Tensor& bias, const torch::Tensor& running_mean,
                               const torch::Tensor& running_var, double momentum, double eps,
                               bool relu6);

}  // namespace nasq::model
