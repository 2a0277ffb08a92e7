// Test quantizer: rounds to a fixed grid of 2^bits levels on [-1, 1].
#include <torch/torch.h>

#include <nasq/sdk/quantizer.hpp>

namespace {

class GridOp final : public nasq::sdk::QuantizerOp {
 public:
  torch::Tensor forward(const torch::Tensor& x, int bits) override {
    const double levels = static_cast<double>((1 << (bits - 1)) - 1);
    const torch::Tensor clipped = x.clamp(-1.0, 1.0);
    const torch::Tensor rounded = torch::round(clipped * levels) / levels;
    return clipped + (rounded - clipped).detach();
  }
};

class TestQuantizer final : public nasq::sdk::Quantizer {
 public:
  TestQuantizer(const nasq::sdk::ConfigView&, nasq::sdk::PluginHost&) {}
  static std::vector<nasq::sdk::KeySpec> keys() { return {}; }
  std::vector<int> supported_bits() const override { return {2, 4, 8}; }
  std::shared_ptr<nasq::sdk::QuantizerOp> make_op(const nasq::sdk::QuantizerSite&) const override {
    return std::make_shared<GridOp>();
  }
};

}  // namespace

NASQ_QUANTIZER_PLUGIN(TestQuantizer, "test-quantizer", "1.0.0")
