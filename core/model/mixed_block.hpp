// The supernet's MB block: every candidate of the block's five decisions
// computed at once and mixed by weight vectors. Uses LibTorch.
//
// What the block computes, for input x with C channels:
//
// - One path per expansion choice m, with h_m = m * C hidden channels (C for
//   m = 1). Path m is the discrete block of expansion m: 1x1 expansion conv
//   (skipped for m = 1, whose depthwise conv reads x), depthwise conv, and
//   linear 1x1 projection, each followed by batch norm (and ReLU6 except after
//   the projection). Every path quantizes its own tensors, so a per-tensor
//   quantizer scale (max |x|) equals the one in the discrete network of
//   expansion m. The paths therefore share parameters but no activations.
//   Each path normalizes its own batch: batch norm affine parameters are
//   shared like the conv weights, and running statistics are kept per path.
// - Inside a path the other decisions mix where they act, before the layer's
//   batch norm. A layer's pre-norm output is the weighted sum of its
//   candidate convs, sum_c w_c conv(q_a(in, bits_c), q_w(W_c, bits_c)). The
//   weight w_c is the product of the weights of the decisions that pick
//   candidate c: b1 for the expansion and projection, k and b2 for the
//   depthwise conv. A conv is linear in its weight, so the k candidates run
//   as one depthwise conv with the largest kernel, whose weight mixes the
//   zero-padded smaller kernels.
// - The paths' outputs mix with the m weights; the block output is
//   w_keep * block(x) + w_skip * x, where block(x) = x + F(x) for a residual
//   block and F(x) otherwise.
// - With masked expansion (shared parameters only), the expanding paths
//   run as one: the widest of them with a non-zero weight, L, computes its
//   hidden tensor z, and the projection reads it through the channel mask
//   mask[c] = sum over the expanding paths m with h_m <= h_L and c < h_m of
//   w_m, folded into the projection weight's columns. Their mixed output is
//   W * BN(P (mask / W * q(z))) with W = the sum of their w_m. Expansion 1
//   (no expansion conv) stays a path of its own. That costs the work of path L alone, where the paths cost h_3 + h_6
//   hidden channels. It is an approximation while two or more expanding
//   paths have a non-zero weight. Path m's channels are then quantized with
//   the scales of path L's tensors and normalized with the statistics of the
//   masked sum, not of their own. Path L's running statistics record the
//   masked sum; those of the narrower paths stay as they are. With one
//   non-zero expanding weight, mask / W is 1 everywhere, so one-hot weights
//   still give exactly the discrete block's output and parameter gradients.
//   The gradients of the zero weights of narrower ratios come from the mask.
//
// With one-hot weights this is exactly the discrete block of the chosen
// candidate, up to floating-point summation order. Choices whose weight is
// exactly 0 in every row are not computed unless the weights need a gradient
// (a frozen decision, a sampled path); their outputs would be multiplied by
// 0, so no value changes, but their layers' running statistics stay as they
// are.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/space/search_space.hpp"
#include "nasq/sdk/quantizer.hpp"

namespace nasq::model {

struct MixedBlockOptions {
  // Paths share parameters: path m uses the first h_m rows (channels) of one
  // tensor per layer sized for the largest expansion. When false, every path
  // has its own rows.
  bool shared_weights = true;
  // One conv per bit choice, mixed afterwards (exact). When false, a single
  // conv of mixed inputs and mixed weights, an approximation while b1 or b2
  // is soft (see expand() in mixed_block.cpp).
  bool exact_bit_mixing = false;
  // The expanding paths as channel masks of the widest one (see above).
  // Needs shared_weights.
  bool masked_expansion = false;
};

// The weights of one block's decisions: each 1-D [choices] (one sample for
// the batch) or 2-D [N, choices] (one per image).
struct BlockWeights {
  torch::Tensor skip;
  torch::Tensor expansion;
  torch::Tensor kernel;
  torch::Tensor bottleneck_bits;
  torch::Tensor depthwise_bits;
};

// The layout of one expansion path in the block's tensors. An "offset"
// indexes a parameter and is 0 for every path when weights are shared. A
// "segment" indexes a running-statistics buffer, where every path has its own
// channels.
struct ExpansionPath {
  int expansion = 1;
  std::int64_t hidden_channels = 0;
  bool expands = false;              // expansion > 1
  std::int64_t expand_offset = 0;    // rows of expand_weight and the expand batch norm affine
  std::int64_t expand_segment = 0;   // expand_running_mean/var
  std::int64_t hidden_offset = 0;    // rows of dw weights and dw affine; columns of project_weight
  std::int64_t hidden_segment = 0;   // dw_running_mean/var
  std::int64_t project_offset = 0;   // rows of the project batch norm affine
  std::int64_t project_segment = 0;  // project_running_mean/var

  // Activation quantizers of the path's depthwise and projection inputs and
  // weight quantizers of its convs (expand_weight_quantizer is null for
  // expansion 1).
  std::shared_ptr<sdk::QuantizerOp> expand_weight_quantizer;
  std::shared_ptr<sdk::QuantizerOp> dw_input_quantizer;
  std::shared_ptr<sdk::QuantizerOp> dw_weight_quantizer;
  std::shared_ptr<sdk::QuantizerOp> project_input_quantizer;
  std::shared_ptr<sdk::QuantizerOp> project_weight_quantizer;
};

class MixedBlockImpl : public torch::nn::Module {
 public:
  MixedBlockImpl(const space::BlockSlot& slot, const sdk::Quantizer& quantizer,
                 MixedBlockOptions options = {});

  // Output [N, C_out, H_out, W_out] for x [N, C_in, H, W].
  torch::Tensor forward(const torch::Tensor& x, const BlockWeights& weights);

  const space::BlockSlot& slot() const { return slot_; }
  const MixedBlockOptions& options() const { return options_; }
  // One path per entry of slot().expansion_choices, in that order.
  const std::vector<ExpansionPath>& paths() const { return paths_; }

  // Parameters and buffers; the paths' rows are described by ExpansionPath.
  // expand_* are undefined when no path expands.
  torch::Tensor expand_weight;  // [rows, C_in, 1, 1]
  torch::Tensor expand_bn_weight, expand_bn_bias;
  torch::Tensor expand_running_mean, expand_running_var;
  std::vector<torch::Tensor> dw_weights;  // per kernel choice: [rows, 1, k, k]
  torch::Tensor dw_bn_weight, dw_bn_bias;
  torch::Tensor dw_running_mean, dw_running_var;
  torch::Tensor project_weight;  // [C_out, columns, 1, 1]
  torch::Tensor project_bn_weight, project_bn_bias;
  torch::Tensor project_running_mean, project_running_var;
  // Quantizes x before the expansion conv of every expanding path (one op,
  // because all of them read the same tensor).
  std::shared_ptr<sdk::QuantizerOp> expand_input_quantizer;

 private:
  struct Mixing;
  // q_a(x, b) for every b1 choice in exact mode, or only their mixture
  // `mixed` in fast mode.
  struct ExpansionInputs {
    std::vector<torch::Tensor> quantized;
    torch::Tensor mixed;
  };

  void build_paths();
  void register_tensors();
  void register_quantizers(const sdk::Quantizer& quantizer);

  ExpansionInputs quantize_expansion_input(const torch::Tensor& x, const Mixing& mixing);
  torch::Tensor expand(const ExpansionPath& path, const ExpansionInputs& inputs,
                       const Mixing& mixing);
  torch::Tensor depthwise(const ExpansionPath& path, const torch::Tensor& hidden,
                          const Mixing& mixing);
  torch::Tensor project(const ExpansionPath& path, const torch::Tensor& hidden,
                        const Mixing& mixing, const torch::Tensor& column_scale = {});
  torch::Tensor path_output(const ExpansionPath& path, const torch::Tensor& x,
                            const ExpansionInputs& inputs, const Mixing& mixing,
                            const torch::Tensor& column_scale = {});
  torch::Tensor residual_branch(const torch::Tensor& x, const Mixing& mixing);
  torch::Tensor kernel_mixture(const ExpansionPath& path, const Mixing& mixing,
                               const std::function<torch::Tensor(const torch::Tensor&)>& quantize);
  torch::Tensor depthwise_weight(const ExpansionPath& path, int bits, const Mixing& mixing);
  torch::Tensor mixed_depthwise_weight(const ExpansionPath& path, const Mixing& mixing);
  torch::Tensor path_batch_norm(const torch::Tensor& y, const torch::Tensor& weight,
                                const torch::Tensor& bias, std::int64_t offset,
                                const torch::Tensor& running_mean,
                                const torch::Tensor& running_var, std::int64_t segment,
                                bool relu6) const;

  space::BlockSlot slot_;
  MixedBlockOptions options_;
  std::vector<ExpansionPath> paths_;
};
TORCH_MODULE(MixedBlock);

}  // namespace nasq::model
