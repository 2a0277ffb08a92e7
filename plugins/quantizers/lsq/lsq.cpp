// lsq quantizer plugin: learned step size quantization (LSQ) of weights and activations.
#include <torch/torch.h>

#include <cmath>
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
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;
namespace fq = nasq::quantizers;

constexpr const char* kPluginName = "lsq";
constexpr int kMinBits = 2;
constexpr int kMaxBits = 16;

struct LsqOptions {
  bool signed_activations = false;
  bool scale_step_gradient = true;
};

// q = round(clamp(x / s, -Qn, Qp)) * s with the LSQ gradients, written out
// rather than left to autograd so that x / s may overflow to infinity for a
// tiny step without turning a gradient into NaN:
//   d q / d x = 1 where -Qn <= x / s <= Qp, else 0
//   d q / d s = g * (round(x / s) - x / s) inside, -g * Qn below, g * Qp above
class LsqFunction : public torch::autograd::Function<LsqFunction> {
 public:
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& x,
                               const torch::Tensor& step, double qn, double qp,
                               double gradient_scale) {
    context->save_for_backward({x, step});
    context->saved_data["qn"] = qn;
    context->saved_data["qp"] = qp;
    context->saved_data["gradient_scale"] = gradient_scale;
    return torch::round((x / step).clamp(-qn, qp)) * step;
  }

  static tensor_list backward(AutogradContext* context, tensor_list grad_outputs) {
    const tensor_list saved = context->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& step = saved[1];
    const double qn = context->saved_data["qn"].toDouble();
    const double qp = context->saved_data["qp"].toDouble();
    const double gradient_scale = context->saved_data["gradient_scale"].toDouble();
    const torch::Tensor& grad = grad_outputs[0];

    const torch::Tensor scaled = x / step;
    const torch::Tensor below = scaled < -qn;
    const torch::Tensor above = scaled > qp;
    const torch::Tensor inside = torch::logical_not(torch::logical_or(below, above));

    const torch::Tensor grad_x = torch::where(inside, grad, torch::zeros_like(grad));
    // torch::where picks qp or -qn where x / s is infinite, so the NaN of
    // round(inf) - inf in the unselected branch never reaches the sum.
    const torch::Tensor step_term = torch::where(
        above, torch::full_like(scaled, qp),
        torch::where(below, torch::full_like(scaled, -qn), torch::round(scaled) - scaled));
    const torch::Tensor grad_step =
        ((grad * step_term).sum() * gradient_scale).to(step.scalar_type()).reshape(step.sizes());
    return {grad_x, grad_step, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// One learned step per site and bit choice, registered as the parameter
// "step_<b>bit", with the buffer "initialized_<b>bit" that records whether the
// step has been set from data. Grids: signed {-2^(b-1), ..., 2^(b-1) - 1}
// (Qn = 2^(b-1), Qp = 2^(b-1) - 1, as in the LSQ paper) for weights and
// activations that may be negative; unsigned {0, ..., 2^b - 1} for
// activations declared non-negative.
class LsqOp final : public QuantizerOp {
 public:
  LsqOp(QuantizerSite site, const LsqOptions& options)
      : QuantizerOp(),
        site_(std::move(site)),
        unsigned_grid_(fq::use_unsigned_grid(site_, options.signed_activations)),
        scale_step_gradient_(options.scale_step_gradient) {
    for (const int bits : site_.bit_choices) {
      if (slots_.count(bits) != 0) continue;
      const std::string suffix = std::to_string(bits) + "bit";
      Slot& slot = slots_[bits];
      // 1.0 is a placeholder that the first non-zero input replaces.
      slot.step = register_parameter("step_" + suffix, torch::ones({}));
      slot.initialized = register_buffer("initialized_" + suffix, torch::zeros({}, torch::kBool));
    }
  }

  torch::Tensor forward(const torch::Tensor& x, int bits) override {
    fq::check_forward_bits(kPluginName, site_, bits);
    if (x.numel() == 0) return x;

    const torch::Tensor work = fq::to_compute_dtype(x);
    const double qn = unsigned_grid_ ? 0.0 : std::ldexp(1.0, bits - 1);
    const double qp = static_cast<double>(unsigned_grid_ ? fq::unsigned_levels(bits)
                                                         : fq::signed_levels(bits));
    Slot& slot = slots_.at(bits);
    initialize_step(slot, work, qp);

    const torch::Tensor step = fq::floor_keep_gradient(
        slot.step, fq::smallest_normal(work.scalar_type())).to(work.scalar_type());
    const double gradient_scale = scale_step_gradient_ ? step_gradient_scale(work, qp) : 1.0;
    return LsqFunction::apply(work, step, qn, qp, gradient_scale).to(x.scalar_type());
  }

  // The learned step of `bits` with the grid {-Qn, ..., Qp}. A step that no
  // input has initialised yet would be set from the next input, so it cannot
  // be exported.
  QuantizationGrid export_grid(const torch::Tensor& weight, int bits) const override {
    fq::check_forward_bits(kPluginName, site_, bits);
    if (site_.role == TensorRole::weight) fq::check_export_weight(kPluginName, site_, weight);
    const Slot& slot = slots_.at(bits);
    if (!slot.initialized.item<bool>()) {
      throw nasq::sdk::Error("quantizer 'lsq', site '" + site_.name + "': the " +
                             std::to_string(bits) + "-bit step has not been initialised from "
                             "data, so it cannot be exported; train the network before "
                             "exporting it");
    }
    torch::NoGradGuard no_grad;
    const torch::Tensor step = slot.step.detach();
    QuantizationGrid grid;
    grid.scale = step.clamp_min(fq::smallest_normal(step.scalar_type()));
    grid.min_level = unsigned_grid_ ? 0 : -(std::int64_t{1} << (bits - 1));
    grid.max_level = unsigned_grid_ ? fq::unsigned_levels(bits) : fq::signed_levels(bits);
    return grid;
  }

 private:
  struct Slot {
    torch::Tensor step;
    torch::Tensor initialized;
    // True once `initialized` has been read as true. forward() then skips that
    // read, which waits for the device.
    bool known_initialized = false;
  };

  // Sets the step to 2 * mean |x| / sqrt(Qp) (the LSQ initialisation) on the
  // first forward() call, in training or evaluation, whose input is not all
  // zero. An all-zero input carries no scale, so the step stays unset until a
  // later input.
  void initialize_step(Slot& slot, const torch::Tensor& x, double qp) {
    if (slot.known_initialized) return;
    if (slot.initialized.item<bool>()) {
      slot.known_initialized = true;
      return;
    }
    torch::NoGradGuard no_grad;
    const torch::Tensor mean_abs = x.detach().abs().mean();
    if (!(mean_abs.item<double>() > 0.0)) return;

    // data() shares storage but not the version counter, so the copy does not
    // invalidate graphs that saved the placeholder step.
    slot.step.data().copy_(2.0 * mean_abs / std::sqrt(qp));
    slot.initialized.fill_(true);
    slot.known_initialized = true;
  }

  // g = 1 / sqrt(N * Qp), with N the number of weights of a weight tensor, or
  // the number of features per example (all elements but dim 0, the batch) of
  // an activation.
  double step_gradient_scale(const torch::Tensor& x, double qp) const {
    double count = static_cast<double>(x.numel());
    if (site_.role == TensorRole::activation && x.dim() >= 2) {
      count /= static_cast<double>(x.size(0));
    }
    return 1.0 / std::sqrt(count * qp);
  }

  QuantizerSite site_;
  bool unsigned_grid_;
  bool scale_step_gradient_;
  std::map<int, Slot> slots_;
};

class LsqQuantizer final : public nasq::sdk::Quantizer {
 public:
  LsqQuantizer(const ConfigView& config, PluginHost&) {
    options_.signed_activations = config.get_bool("signed_activations");
    options_.scale_step_gradient = config.get_bool("scale_step_gradient");
  }

  static std::vector<KeySpec> keys() {
    return {
        {"signed_activations", KeyType::boolean, "false", "",
         "quantize non-negative activations (after ReLU6) on the signed grid "
         "{-2^(b-1), ..., 2^(b-1)-1} * s instead of the unsigned grid {0, ..., 2^b-1} * s"},
        {"scale_step_gradient", KeyType::boolean, "true", "",
         "multiply the step-size gradient by g = 1 / sqrt(N * Qp), N the number of weights or "
         "of activation features per example; false uses g = 1"},
    };
  }

  std::vector<int> supported_bits() const override { return fq::bit_range(kMinBits, kMaxBits); }

  std::shared_ptr<QuantizerOp> make_op(const QuantizerSite& site) const override {
    fq::check_site_bits(kPluginName, site, kMinBits, kMaxBits);
    return std::make_shared<LsqOp>(site, options_);
  }

 private:
  LsqOptions options_;
};

}  // namespace

NASQ_QUANTIZER_PLUGIN(LsqQuantizer, "lsq", "1.0.0")
