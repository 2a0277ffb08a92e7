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
// - forward_mixed() is the weighted sum of forward() at several bit-widths of
//   one input, which the supernet calls where it mixes the bits of an
//   activation ("fast" bit mixing). An override must return the value and
//   gradients of the default, which loops over forward(), up to float
//   rounding, and update running statistics as that loop does.
// - Export: after training, exporters (the ONNX export of `nasq run`) call
//   export_grid() on ops in evaluation mode, once per site, to write the
//   quantization as integer math. An op that cannot describe its grid keeps
//   the default, and the export then fails with an error.
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

// The integer grid of an op at one bit-width: forward(x, bits) returns
// clamp(round(x / scale), min_level, max_level) * scale, rounding ties to even.
struct QuantizationGrid {
  // Positive step between grid values: a 0-dim tensor (one step for the
  // tensor) or a 1-D tensor with one step per slice of dim 0 (per output
  // channel of a weight).
  torch::Tensor scale;
  std::int64_t min_level = 0;  // such as -(2^(b-1) - 1) or 0
  std::int64_t max_level = 0;  // such as 2^(b-1) - 1 or 2^b - 1
};

class QuantizerOp : public torch::nn::Module {
 public:
  ~QuantizerOp() override;
  // Fake-quantizes x to `bits` bits; see the contract above.
  virtual torch::Tensor forward(const torch::Tensor& x, int bits) = 0;
  // Returns sum_i mixing_weights[..., i] * forward(x, bits[i]), with gradients
  // into x and mixing_weights. bits holds B >= 1 of the site's bit_choices;
  // mixing_weights is [B] (one weight per bit-width) or [N, B] with
  // N = x.size(0) (one row per sample). The result has the dtype of
  // forward()'s result. Raises std::logic_error for other shapes, which are a
  // bug in the caller.
  virtual torch::Tensor forward_mixed(const torch::Tensor& x, const std::vector<int>& bits,
                                      const torch::Tensor& mixing_weights);
  // Returns the grid that forward(x, bits) uses in evaluation mode. A weight
  // site receives the weight tensor that forward() would receive. An
  // activation site receives an undefined tensor, so its grid must not depend
  // on the input. Raises Error when the op cannot state such a grid, for
  // example an activation op whose scale still comes from each batch. The
  // default raises Error("this quantizer cannot be exported to ONNX ...").
  virtual QuantizationGrid export_grid(const torch::Tensor& weight, int bits) const;
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
