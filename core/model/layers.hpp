// Building blocks shared by the supernet and the discrete network: quantizer
// sites, 1x1 convolutions with per-image weights, batch norm and ReLU6, and
// conv/FC layers quantized at fixed bits. Uses LibTorch.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/model/fused_ops.hpp"
#include "core/space/architecture.hpp"
#include "core/space/search_space.hpp"
#include "nasq/sdk/quantizer.hpp"

namespace nasq::model {

// Batch norm settings of every layer (the torch::nn::BatchNorm2d defaults).
inline constexpr double kBatchNormMomentum = 0.1;
inline constexpr double kBatchNormEps = 1e-5;

sdk::QuantizerSite make_site(std::string name, sdk::TensorRole role, bool non_negative,
                             std::int64_t channels, std::vector<int> bit_choices);

// Calls quantizer.make_op(site); throws sdk::Error naming the site when the
// plugin returns no op.
std::shared_ptr<sdk::QuantizerOp> make_quantizer_op(const sdk::Quantizer& quantizer,
                                                    const sdk::QuantizerSite& site);

// 1x1 convolution (stride 1) of input [N, Cin, H, W] by a weight
// [Cout, Cin, 1, 1], or [N, Cout, Cin, 1, 1] with one weight per image.
torch::Tensor pointwise_conv2d(const torch::Tensor& input, const torch::Tensor& weight);

// Training-mode or evaluation-mode batch norm with the settings above; the
// running statistics are updated in place in training mode.
torch::Tensor batch_norm(const torch::Tensor& input, const torch::Tensor& weight,
                         const torch::Tensor& bias, const torch::Tensor& running_mean,
                         const torch::Tensor& running_var, bool training);

// Batch norm that, in training mode, estimates each channel's standard
// deviation from the batch's range instead of its variance: sigma = C(n) *
// (max - min) of the centered values, with C(n) = 1 / sqrt(2 ln n) and n the
// values per channel. This is range batch normalization from "Scalable
// Methods for 8-bit Training of Neural Networks" (Banner et al., 2018). It
// updates the running mean and sigma^2 with the module's momentum, so that
// evaluation mode, checkpoints and exports use them as usual.
torch::Tensor range_batch_norm(const torch::Tensor& input, torch::nn::BatchNorm2dImpl& bn);

// Normalization of the convs of a discrete network in training mode.
enum class BatchNormMode { standard, range };

// ReLU6 in place.
torch::Tensor relu6_in_place(torch::Tensor x);

enum class ConvKind { dense, depthwise };

struct QuantizedConvOptions {
  std::string name;  // layer name, as in the network graph: "stem", "block3.dw"
  ConvKind kind = ConvKind::dense;
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;  // equal to in_channels for a depthwise conv
  std::int64_t kernel = 1;        // odd; padding is kernel / 2
  std::int64_t stride = 1;
  int bits = space::kFixedLayerBits;  // weights and input activations
  bool input_non_negative = false;    // input comes straight from a ReLU6
  bool relu6 = true;                  // false for the linear projection
};

// conv(q_a(x), q_w(W)) without bias, batch norm, and ReLU6 unless disabled.
// Submodules: "input_quantizer", "weight_quantizer", "bn"; parameter "weight".
class QuantizedConvImpl : public torch::nn::Module {
 public:
  QuantizedConvImpl(const sdk::Quantizer& quantizer, QuantizedConvOptions options);

  torch::Tensor forward(const torch::Tensor& x);

  const QuantizedConvOptions& options() const { return options_; }
  void set_batch_norm_mode(BatchNormMode mode) { batch_norm_mode_ = mode; }

  torch::Tensor weight;  // [out, in, k, k], or [channels, 1, k, k] when depthwise
  torch::nn::BatchNorm2d bn{nullptr};
  std::shared_ptr<sdk::QuantizerOp> input_quantizer;
  std::shared_ptr<sdk::QuantizerOp> weight_quantizer;

 private:
  QuantizedConvOptions options_;
  BatchNormMode batch_norm_mode_ = BatchNormMode::standard;
};
TORCH_MODULE(QuantizedConv);

// linear(q_a(x), q_w(W)) + bias at space::kFixedLayerBits for pooled
// features, which are non-negative (ReLU6 before the average pooling).
class QuantizedLinearImpl : public torch::nn::Module {
 public:
  QuantizedLinearImpl(const sdk::Quantizer& quantizer, std::string name,
                      std::int64_t in_features, std::int64_t out_features);

  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out], not quantized
  std::shared_ptr<sdk::QuantizerOp> input_quantizer;
  std::shared_ptr<sdk::QuantizerOp> weight_quantizer;
};
TORCH_MODULE(QuantizedLinear);

// Whether the block's input comes straight from the stem's ReLU6. Only block
// 0 qualifies: for a later block it depends on the skips chosen before it, so
// its input is treated as signed in the supernet and, to match, in the
// discrete network.
bool block_input_non_negative(const space::BlockSlot& slot);

// One MB block of a discrete network: 1x1 expansion (when expansion > 1),
// depthwise conv with the block's stride, linear 1x1 projection, and the
// residual add when the block is residual. Submodules "expand" (absent for
// expansion 1), "dw", "project".
class DiscreteBlockImpl : public torch::nn::Module {
 public:
  DiscreteBlockImpl(const space::BlockSlot& slot, const space::BlockChoice& choice,
                    const sdk::Quantizer& quantizer);

  torch::Tensor forward(const torch::Tensor& x);

  QuantizedConv expand{nullptr};
  QuantizedConv dw{nullptr};
  QuantizedConv project{nullptr};
  bool residual = false;
};
TORCH_MODULE(DiscreteBlock);

// Kaiming-normal (fan out) initialisation of a conv weight, as torchvision's
// MobileNetV2 does.
void init_conv_weight(torch::Tensor& weight);

}  // namespace nasq::model
