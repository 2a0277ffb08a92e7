// linear quantizer plugin: the reference fake quantizer (c = max |x|, straight-through estimator).
#include <torch/torch.h>

#include <c10/util/intrusive_ptr.h>

#include <memory>
#include <vector>

#include <nasq/sdk/quantizer.hpp>

#include "common/fake_quant.hpp"
#include "linear/fused_fake_quant.hpp"

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

constexpr const char* kPluginName = "linear";
constexpr int kMinBits = 2;
constexpr int kMaxBits = 16;

// The bounds that quantize_with_clip() uses for the clipping level `clip` at
// each of `bits`, computed in T (the compute dtype, float or double). The
// scalar max and division round exactly as the 0-dim tensor ops of
// clip_level() and level / levels do, without a tensor op per bit-width.
template <typename T>
std::vector<fq::GridBounds> grid_bounds_typed(double clip, torch::ScalarType dtype,
                                              const std::vector<int>& bits, bool unsigned_grid) {
  const T clip_value = static_cast<T>(clip);
  std::vector<fq::GridBounds> grids;
  for (const int b : bits) {
    // clamp_min(): a NaN clip stays NaN.
    const T floor = static_cast<T>(fq::min_clip_level(dtype, b));
    const T level = clip_value < floor ? floor : clip_value;
    const T step = level / static_cast<T>(fq::grid_levels(b, unsigned_grid));
    fq::GridBounds grid;
    grid.high = level;
    grid.low = unsigned_grid ? 0.0 : -grid.high;
    grid.step = step;
    grids.push_back(grid);
  }
  return grids;
}

// The bounds of grid_bounds_typed() for the 0-dim clipping level `clip` in
// `dtype`, float or double.
std::vector<fq::GridBounds> grid_bounds(const torch::Tensor& clip, torch::ScalarType dtype,
                                        const std::vector<int>& bits, bool unsigned_grid) {
  const double clip_value = clip.item<double>();
  if (dtype == torch::kDouble) return grid_bounds_typed<double>(clip_value, dtype, bits, unsigned_grid);
  return grid_bounds_typed<float>(clip_value, dtype, bits, unsigned_grid);
}

// Raises std::logic_error when forward_mixed() receives a bit-width that the
// site did not list.
void check_mixed_bits(const QuantizerSite& site, const std::vector<int>& bits) {
  for (const int b : bits) fq::check_forward_bits(kPluginName, site, b);
}

// Returns quantize_with_clip(x, clip, bits) through the one-pass kernel when
// the clipping level is one value for the tensor (0-dim).
torch::Tensor quantize_per_tensor(const torch::Tensor& x, const torch::Tensor& clip, int bits,
                                  bool unsigned_grid) {
  const torch::Tensor unit_weight = torch::ones({1}, x.options().requires_grad(false));
  return fq::mixed_fake_quantize(x, grid_bounds(clip, x.scalar_type(), {bits}, unsigned_grid),
                                 unit_weight);
}

struct LinearOptions {
  bool per_channel_weights = false;
  bool signed_activations = false;
  double momentum = 0.1;
};

// Weights: c = max |w| of the weight tensor itself (per tensor, or per output
// channel along dim 0), so nothing is clipped and the gradient is the upstream
// gradient everywhere. c is detached, so max |w| passes no gradient.
class LinearWeightOp final : public QuantizerOp {
 public:
  LinearWeightOp(QuantizerSite site, const LinearOptions& options)
      : QuantizerOp(), site_(std::move(site)), per_channel_(options.per_channel_weights) {}

  torch::Tensor forward(const torch::Tensor& x, int bits) override {
    fq::check_forward_bits(kPluginName, site_, bits);
    if (x.numel() == 0) return x;

    const torch::Tensor work = fq::to_compute_dtype(x);
    const torch::Tensor clip = fq::max_abs(work, per_channel_);
    if (clip.dim() > 0) return fq::quantize_with_clip(work, clip, bits, false).to(x.scalar_type());
    return quantize_per_tensor(work, clip, bits, false).to(x.scalar_type());
  }

  // One kernel pass for a per-tensor clipping level; per-channel levels use
  // the default loop.
  torch::Tensor forward_mixed(const torch::Tensor& x, const std::vector<int>& bits,
                              const torch::Tensor& mixing_weights) override {
    check_mixed_bits(site_, bits);
    if (x.numel() == 0 || (per_channel_ && x.dim() >= 2)) {
      return QuantizerOp::forward_mixed(x, bits, mixing_weights);
    }

    const torch::Tensor work = fq::to_compute_dtype(x);
    const torch::Tensor clip = fq::max_abs(work, false);
    const std::vector<fq::GridBounds> grids = grid_bounds(clip, work.scalar_type(), bits, false);
    return fq::mixed_fake_quantize(work, grids, mixing_weights).to(x.scalar_type());
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

// Activations: in training c = max |x| of the batch (detached, nothing
// clipped), and the buffer running_max follows it as an exponential moving
// average. In evaluation c = running_max, so values beyond it are clipped and
// get zero gradient. Before the first training batch (num_batches_tracked = 0)
// evaluation uses the batch's own max |x|.
class LinearActivationOp final : public QuantizerOp {
 public:
  LinearActivationOp(QuantizerSite site, const LinearOptions& options)
      : QuantizerOp(),
        site_(std::move(site)),
        unsigned_grid_(fq::use_unsigned_grid(site_, options.signed_activations)),
        momentum_(options.momentum) {
    running_max_ = register_buffer("running_max", torch::zeros({}));
    num_batches_tracked_ = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
  }

  torch::Tensor forward(const torch::Tensor& x, int bits) override {
    fq::check_forward_bits(kPluginName, site_, bits);
    if (x.numel() == 0) return x;

    const torch::Tensor work = fq::to_compute_dtype(x);
    const torch::Tensor clip = current_clip(x, work);
    return quantize_per_tensor(work, clip, bits, unsigned_grid_).to(x.scalar_type());
  }

  // One kernel pass over x for all bit-widths, which share the clipping level.
  torch::Tensor forward_mixed(const torch::Tensor& x, const std::vector<int>& bits,
                              const torch::Tensor& mixing_weights) override {
    check_mixed_bits(site_, bits);
    if (x.numel() == 0) return QuantizerOp::forward_mixed(x, bits, mixing_weights);

    const torch::Tensor work = fq::to_compute_dtype(x);
    const std::vector<fq::GridBounds> grids =
        grid_bounds(current_clip(x, work), work.scalar_type(), bits, unsigned_grid_);
    return fq::mixed_fake_quantize(work, grids, mixing_weights).to(x.scalar_type());
  }

  // The evaluation grid with c = running_max. Before the first training batch
  // evaluation takes c from each batch, so there is no grid to export.
  QuantizationGrid export_grid(const torch::Tensor&, int bits) const override {
    fq::check_forward_bits(kPluginName, site_, bits);
    if (num_batches_tracked_.item<std::int64_t>() == 0) {
      throw nasq::sdk::Error("quantizer 'linear', site '" + site_.name +
                             "': the activation op has seen no training batch, so its "
                             "evaluation scale comes from each batch's max |x| and cannot be "
                             "exported; train the network before exporting it");
    }
    return fq::grid_with_clip(running_max_, running_max_.scalar_type(), bits, unsigned_grid_);
  }

 private:
  // Returns the clipping level c for x (`work` is x in the compute dtype): the
  // batch's max |x| in training, which also updates running_max, and
  // running_max in evaluation once a training batch was seen.
  torch::Tensor current_clip(const torch::Tensor& x, const torch::Tensor& work) {
    const torch::Tensor batch_max = fq::max_abs(work, false);
    if (is_training()) {
      update_running_max(x, batch_max);
      return batch_max;
    }
    return torch::where(num_batches_tracked_ > 0, running_max_.to(batch_max.scalar_type()),
                        batch_max);
  }

  // Updates running_max once per input tensor, because the supernet may call
  // forward() with the same x once for each bit-width, and those calls must
  // count as one batch. The weak reference keeps the last input's TensorImpl
  // allocated, so a new tensor can never reuse its address.
  void update_running_max(const torch::Tensor& x, const torch::Tensor& batch_max) {
    if (last_input_._unsafe_get_target() == x.unsafeGetTensorImpl() &&
        last_input_version_ == x._version()) {
      return;
    }
    last_input_ = c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>(
        x.getIntrusivePtr());
    last_input_version_ = x._version();

    torch::NoGradGuard no_grad;
    const torch::Tensor batch = batch_max.to(running_max_.scalar_type());
    const torch::Tensor averaged = running_max_ * (1.0 - momentum_) + batch * momentum_;
    running_max_.copy_(torch::where(num_batches_tracked_ > 0, averaged, batch));
    num_batches_tracked_.add_(1);
  }

  QuantizerSite site_;
  bool unsigned_grid_;
  double momentum_;
  torch::Tensor running_max_;
  torch::Tensor num_batches_tracked_;
  c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl> last_input_{
      c10::intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>()};
  std::int64_t last_input_version_ = -1;
};

class LinearQuantizer final : public nasq::sdk::Quantizer {
 public:
  LinearQuantizer(const ConfigView& config, PluginHost&) {
    options_.per_channel_weights = config.get_bool("per_channel_weights");
    options_.signed_activations = config.get_bool("signed_activations");
    options_.momentum = config.get_double("momentum");
  }

  static std::vector<KeySpec> keys() {
    return {
        {"per_channel_weights", KeyType::boolean, "false", "",
         "one clipping level per output channel (dim 0) of a weight tensor instead of one per "
         "tensor"},
        {"signed_activations", KeyType::boolean, "false", "",
         "quantize non-negative activations (after ReLU6) on the signed grid "
         "{-(2^(b-1)-1), ..., 2^(b-1)-1} * c / (2^(b-1)-1) instead of the unsigned grid "
         "{0, ..., 2^b-1} * c / (2^b-1)"},
        {"momentum", KeyType::floating, "0.1", "",
         "weight of the newest training batch in the running max |x| of activations: "
         "running_max = (1 - momentum) * running_max + momentum * batch max",
         {}, 0.0, 1.0},
    };
  }

  std::vector<int> supported_bits() const override { return fq::bit_range(kMinBits, kMaxBits); }

  std::shared_ptr<QuantizerOp> make_op(const QuantizerSite& site) const override {
    fq::check_site_bits(kPluginName, site, kMinBits, kMaxBits);
    if (site.role == TensorRole::weight) return std::make_shared<LinearWeightOp>(site, options_);
    return std::make_shared<LinearActivationOp>(site, options_);
  }

 private:
  LinearOptions options_;
};

}  // namespace

NASQ_QUANTIZER_PLUGIN(LinearQuantizer, "linear", "1.0.0")
