// The mixed-precision supernet: every decision of every MB block mixed by
// weight vectors (soft Gumbel-Softmax samples or one-hot), and the discrete
// network of one architecture that final training uses. Uses LibTorch.
//
// Both networks quantize the weights and input activations of every conv and
// FC layer through the run's quantizer, one op per site, and use only the
// quantized values. Their layers: stem 3x3 conv (8 bits, signed input) + BN +
// ReLU6, the MB blocks, head 1x1 conv (8 bits) + BN + ReLU6, global average
// pooling, FC (8 bits, with bias). core/model/mixed_block.hpp states what a
// mixed block computes. With one-hot weights the supernet equals the
// discrete network of the selected architecture once copy_supernet_weights()
// has copied its weights. Activations are kept channels-last.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/space/architecture.hpp"
#include "core/space/search_space.hpp"
#include "nasq/sdk/quantizer.hpp"

namespace nasq::model {

class QuantizedConvImpl;
class QuantizedLinearImpl;
class MixedBlockImpl;
class DiscreteBlockImpl;
enum class BatchNormMode;  // defined in core/model/layers.hpp

struct SupernetOptions {
  // "shared": every expansion ratio uses the first rows (channels) of one set
  // of parameters sized for the largest ratio, and runs its own path (its
  // own activations, quantizer scales and batch statistics). "masked": the
  // same parameters, with the expanding ratios as channel masks of the path
  // of the widest one. That is an approximation while two or more of them
  // have weight (see mixed_block.hpp). "separate": one set and path per ratio.
  std::string weight_sharing = "masked";
  // "fast": one conv on the mixture of quantized weights and the mixture of
  // quantized activations of every bit choice. That is an approximation
  // while b1 or b2 has soft weights, because each sets both a layer's weight
  // and activation bits. "exact": one conv per bit choice, mixed afterwards
  // (1.2-1.5x the time of a "fast" search step in docs/benchmarks.md).
  std::string bit_mixing = "fast";
};

class SupernetImpl : public torch::nn::Module {
 public:
  // Throws sdk::Error for an invalid option value and when the quantizer
  // rejects a site.
  SupernetImpl(const space::SearchSpace& space, const sdk::Quantizer& quantizer,
               SupernetOptions options = {});

  // Logits [N, classes] for images [N, C, H, W]. `weights` has one tensor per
  // decision of space.decisions(), in that order: 1-D [choices] (one sample
  // for the whole batch) or 2-D [N, choices] (one sample per image). With
  // per-image weights the mixed conv weights differ per image and run as
  // grouped or batched convs, which is slower. Entry i weights choice i of
  // the decision; the entries are used as given, without normalisation. Gradients flow into
  // `weights`. Candidates whose weight is exactly 0 are skipped when the
  // weights need no gradient, so one-hot weights of a sampled path cost about
  // as much as that path. Throws sdk::Error for a wrong count or shape.
  torch::Tensor forward(const torch::Tensor& images, const std::vector<torch::Tensor>& weights);

  const space::SearchSpace& space() const;
  const SupernetOptions& options() const;

  // Layers, for copy_supernet_weights() and tests.
  QuantizedConvImpl& stem() const;
  MixedBlockImpl& block(int index) const;
  QuantizedConvImpl& head() const;
  QuantizedLinearImpl& fc() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};
TORCH_MODULE(Supernet);

// One architecture at its fixed bits: stem, MB blocks (skipped ones left
// out), head, pooling and FC, every conv quantized through the quantizer.
// Submodules "stem", "block<i>" for each kept block i, "head", "fc".
class DiscreteNetworkImpl : public torch::nn::Module {
 public:
  // Throws sdk::Error when the architecture does not fit the space.
  DiscreteNetworkImpl(const space::SearchSpace& space, const space::Architecture& architecture,
                      const sdk::Quantizer& quantizer);

  torch::Tensor forward(const torch::Tensor& images);

  // Sets how every conv's batch norm normalizes in training mode.
  void set_batch_norm_mode(BatchNormMode mode);

  const space::SearchSpace& space() const;
  const space::Architecture& architecture() const;

  QuantizedConvImpl& stem() const;
  // The block of space.blocks()[index], or nullptr when the architecture
  // skips it.
  DiscreteBlockImpl* block(int index) const;
  QuantizedConvImpl& head() const;
  QuantizedLinearImpl& fc() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};
TORCH_MODULE(DiscreteNetwork);

// The one-hot weights of `architecture`: one 1-D tensor per decision of
// space.decisions(), 1 at the chosen index.
std::vector<torch::Tensor> one_hot_weights(const space::SearchSpace& space,
                                           const space::Architecture& architecture,
                                           const torch::TensorOptions& options = {});

// A parameter or buffer of a discrete network and the part of a supernet
// tensor it corresponds to: source.narrow(dim, start, length), or the whole
// source when dim < 0.
struct TensorMatch {
  std::string name;  // the discrete network's name: "block3.dw.weight"
  torch::Tensor target;
  torch::Tensor source;
  std::int64_t dim = -1;
  std::int64_t start = 0;
  std::int64_t length = 0;

  // The same narrowing applied to a tensor shaped like source (its gradient).
  torch::Tensor narrow(const torch::Tensor& t) const;
};

// Every parameter and buffer of `network` with its part of the supernet,
// except the num_batches_tracked counters of the blocks' batch norms, which
// the mixed blocks do not keep (a fixed momentum leaves them unused). Throws sdk::Error when the network was built for another
// architecture or space, or when shapes or quantizer state names differ.
std::vector<TensorMatch> match_supernet_tensors(const Supernet& supernet,
                                                const space::Architecture& architecture,
                                                const DiscreteNetwork& network);

// Copies every parameter and buffer of the supernet that the architecture
// uses into the discrete network (for one-hot equivalence checks and warm
// starts). Throws like match_supernet_tensors().
void copy_supernet_weights(const Supernet& supernet, const space::Architecture& architecture,
                           DiscreteNetwork& network);

}  // namespace nasq::model
