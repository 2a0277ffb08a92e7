// pact quantizer plugin: PACT's learned activation clipping level, weights as in linear.
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nasq/sdk/quantizer.hpp>

#include "common/fake_quant.hpp"

namespace {

using nasq::sdk::ConfigView;
using nasq::sdk::KeySpec;
using nasq::sdk::KeyType;
using nasq::sdk::PluginHost;
using nasq::sdk::QuantizationGrid;
using nasq::sdk::QuantizerOp;
using nasq::sdk::QuantizerSite;
using nasq::sdk::TensorRole;
namespace fq = nasq::quantizers;

constexpr const char* kPluginName = "pact";
constexpr int kMinBits = 2;
constexpr int kMaxBits = 16;

struct PactOptions {
  double alpha_init = 6.0;
  bool per_channel_weights = false;
  bool signed_activations = false;
};

// Weights use the linear plugin's formula (c = max |w|, detached, per tensor
// or per output channel), so an ablation of pact against linear differs only
// in the activations.
class PactWeightOp final : public QuantizerOp {
 public:
  PactWeightOp(QuantizerSite site, const PactOptions& options)
      : QuantizerOp(), site_(std::move(site)), per_channel_(options.per_channel_weights) {}

  torch::Tensor forward(const torch::Tensor& x, int bits) override {
    fq::check_forward_bits(kPluginName, site_, bits);
    if (x.numel() == 0) return x;

    const torch::Tensor work = fq::to_compute_dtype(x);
    const torch::Tensor clip = fq::max_abs(work, per_channel_);
    return fq::quantize_with_clip(work, clip, bits, false).to(x.scalar_type());
  }

  QuantizationGrid export_grid(const torch::Tensor& weight, int bits) const override {
    fq::check_forward_bits(kPluginName, site_, bits);
    fq::check_export_weight(kPluginName, site_, weight);
    const torch::Tensor work = fq::to_compute_dtype(weight);
    return fq::grid_with_clip(fq::max_abs(work, per_channel_), work.scalar_type(), bits, false);
  }

 private:
  QuantizerSite site_;
  bool per_channel_;
};

// Activations: y = clamp(x, 0, alpha) (unsigned grid) or clamp(x, -alpha,
// alpha) (signed grid), then y rounded to the grid of step alpha / L. Each bit
// choice has its own alpha, registered as the parameter "alpha_<b>bit",
// because the best clipping level of a 2-bit grid is far below that of an
// 8-bit grid. Gradients (PACT, straight-through through the rounding):
//   d out / d x     = 1 where the input is inside the clipping range, else 0
//   d out / d alpha = 1 where x >= alpha, -1 where x <= -alpha (signed grid), else 0
class PactActivationOp final : public QuantizerOp {
 public:
  PactActivationOp(QuantizerSite site, const PactOptions& options)
      : QuantizerOp(),
        site_(std::move(site)),
        unsigned_grid_(fq::use_unsigned_grid(site_, options.signed_activations)) {
    for (const int bits : site_.bit_choices) {
      if (alphas_.count(bits) != 0) continue;
      alphas_[bits] = register_parameter("alpha_" + std::to_string(bits) + "bit",
                                         torch::full({}, options.alpha_init));
    }
  }

  torch::Tensor forward(const torch::Tensor& x, int bits) override {
    fq::check_forward_bits(kPluginName, site_, bits);
    if (x.numel() == 0) return x;

    const torch::Tensor work = fq::to_compute_dtype(x);
    const double floor = fq::min_clip_level(work.scalar_type(), bits);
    const torch::Tensor alpha =
        fq::floor_keep_gradient(alphas_.at(bits), floor).to(work.scalar_type());

    torch::Tensor clipped;
    double levels = 0.0;
    if (unsigned_grid_) {
      clipped = torch::where(work >= alpha, alpha, work.clamp_min(0.0));
      levels = static_cast<double>(fq::unsigned_levels(bits));
    } else {
      clipped = torch::where(work >= alpha, alpha, torch::where(work <= -alpha, -alpha, work));
      levels = static_cast<double>(fq::signed_levels(bits));
    }

    // The rounding uses alpha only through the detached step, so alpha's
    // gradient comes from the clipping alone, as in PACT.
    const torch::Tensor step = alpha.detach() / levels;
    const torch::Tensor grid_value = torch::round(clipped.detach() / step) * step;
    return (grid_value + (clipped - clipped.detach())).to(x.scalar_type());
  }

  // The grid of the learned alpha of `bits`, raised to the same floor as in
  // forward().
  QuantizationGrid export_grid(const torch::Tensor&, int bits) const override {
    fq::check_forward_bits(kPluginName, site_, bits);
    const torch::Tensor& alpha = alphas_.at(bits);
    return fq::grid_with_clip(alpha, alpha.scalar_type(), bits, unsigned_grid_);
  }

 private:
  QuantizerSite site_;
  bool unsigned_grid_;
  std::map<int, torch::Tensor> alphas_;
};

class PactQuantizer final : public nasq::sdk::Quantizer {
 public:
  PactQuantizer(const ConfigView& config, PluginHost&) {
    options_.alpha_init = config.get_double("alpha_init");
    options_.per_channel_weights = config.get_bool("per_channel_weights");
    options_.signed_activations = config.get_bool("signed_activations");
  }

  static std::vector<KeySpec> keys() {
    return {
        {"alpha_init", KeyType::floating, "6.0", "",
         "initial clipping level alpha of every activation site and bit choice, in the "
         "activations' own unit (6 matches ReLU6)",
         {}, 1e-6, 1e6},
        {"per_channel_weights", KeyType::boolean, "false", "",
         "one clipping level per output channel (dim 0) of a weight tensor instead of one per "
         "tensor"},
        {"signed_activations", KeyType::boolean, "false", "",
         "clip non-negative activations (after ReLU6) to [-alpha, alpha] on the signed grid "
         "instead of [0, alpha] on the unsigned grid"},
    };
  }

  std::vector<int> supported_bits() const override { return fq::bit_range(kMinBits, kMaxBits); }

  std::shared_ptr<QuantizerOp> make_op(const QuantizerSite& site) const override {
    fq::check_site_bits(kPluginName, site, kMinBits, kMaxBits);
    if (site.role == TensorRole::weight) return std::make_shared<PactWeightOp>(site, options_);
    return std::make_shared<PactActivationOp>(site, options_);
  }

 private:
  PactOptions options_;
};

}  // namespace

NASQ_QUANTIZER_PLUGIN(PactQuantizer, "pact", "1.0.0")
