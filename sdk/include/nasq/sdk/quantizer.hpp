// Quantizer interface: fake-quantization ops that the core inserts in front of
// every conv and FC weight and input activation. Uses LibTorch.
//
// Contract:
// - The core creates one Quantizer per run through the plugin factory, calls
//   supported_bits() once to validate the stack's bit choices, then make_op()
//   once per quantization site while it builds a network.
// - An op is a torch::nn::Module: its learnable values (clipping levels, step
//   sizes) are registered parameters and its running statistics are buffers,
//   so optimizers and checkpoints see them. The core registers the returned op
//   as a submodule and owns it; the op must not keep references to the core.
// - forward() is called with one of the site's bit_choices, possibly several
//   times per batch with different bits (the supernet mixes them). It returns a
//   tensor of x's shape holding values on the b-bit grid, with gradients that
//   pass straight through the rounding. Degenerate inputs (all zero, constant,
//   magnitudes near 1e-30) must give finite outputs and finite gradients.
// - Threading: ops are used from the thread that runs the network.
// - Errors: make_op() raises nasq::sdk::Error for a site it cannot serve
//   (for example a bit-width it does not support).
#pragma once

#include <torch/nn/module.h>
#include <torch/version.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nasq/sdk/plugin.hpp"

namespace nasq::sdk {

enum class TensorRole { weight, activation };

// Position of a quantization op in the network, and the bits it will receive.
struct QuantizerSite {
  std::string name;              // layer name, for logs and messages
  TensorRole role = TensorRole::weight;
  bool non_negative = false;     // activations known to be >= 0 (after ReLU6)
  std::int64_t channels = 0;     // output channels of the layer (per-channel scales), dim 0
  std::vector<int> bit_choices;  // every bit-width forward() will receive
};

class QuantizerOp : public torch::nn::Module {
 public:
  ~QuantizerOp() override;
  // Fake-quantizes x to `bits` bits; see the contract above.
  virtual torch::Tensor forward(const torch::Tensor& x, int bits) = 0;
};

class Quantizer {
 public:
  virtual ~Quantizer();
  // Bit-widths this quantizer can represent (a stack asking for others is
  // rejected at config time).
  virtual std::vector<int> supported_bits() const = 0;
  virtual std::shared_ptr<QuantizerOp> make_op(const QuantizerSite& site) const = 0;
};

}  // namespace nasq::sdk

// Declares a quantizer plugin. `Class` derives from Quantizer, has a
// constructor Class(const ConfigView&, PluginHost&) and a static
// std::vector<KeySpec> keys().
#define NASQ_QUANTIZER_PLUGIN(Class, name_literal, version_literal)                       \
  NASQ_SDK_DEFINE_DESCRIPTOR(Class, "quantizer", name_literal, version_literal,           \
                             TORCH_VERSION)                                               \
  NASQ_SDK_EXPORT ::nasq::sdk::Quantizer* nasq_create_quantizer(                          \
      const ::nasq::sdk::ConfigView* config, ::nasq::sdk::PluginHost* host) {             \
    return new Class(*config, *host);                                                    \
  }
