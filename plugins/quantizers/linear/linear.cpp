// linear quantizer plugin: the reference fake quantizer (c = max |x|, straight-through estimator).
#include <torch/torch.h>

#include <c10/util/intrusive_ptr.h>

#include <memory>
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

constexpr const char* kPluginName = "linear";
constexpr int kMinBits = 2;
constexpr int kMaxBits = 16;

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
    const torch::Tensor batch_max = fq::max_abs(work, false);
    torch::Tensor clip;
    if (is_training()) {
      update_running_max(x, batch_max);
      clip = batch_max;
    } else {
      // torch::where instead of a branch on the counter avoids a device sync.
      clip = torch::where(num_batches_tracked_ > 0, running_max_.to(batch_max.scalar_type()),
                          batch_max);
    }
    return fq::quantize_with_clip(work, clip, bits, unsigned_grid_).to(x.scalar_type());
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
