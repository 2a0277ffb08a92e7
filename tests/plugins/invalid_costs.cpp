// Broken test plugin: a hardware model that returns NaN, negative or infinite costs.
#include <cmath>
#include <limits>

#include <nasq/sdk/hardware_model.hpp>
#include <nasq/sdk/plugin.hpp>

namespace {

// input_c selects the defect: 3 gives NaN energy, 5 negative latency, 7 an
// infinite energy; anything else a valid cost.
class InvalidCosts final : public nasq::sdk::HardwareModel {
 public:
  InvalidCosts(const nasq::sdk::ConfigView&, nasq::sdk::PluginHost&) {}
  static std::vector<nasq::sdk::KeySpec> keys() { return {}; }
  nasq::sdk::HardwareCapabilities capabilities() const override {
    return {{8}, true, true, {"energy_mj", "latency_ms"}, 16};
  }
  nasq::sdk::Cost cost(const nasq::sdk::LayerSpec& layer) const override {
    nasq::sdk::Cost cost;
    cost.energy_mj = 1.0;
    cost.latency_ms = 1.0;
    if (layer.input_c == 3) cost.energy_mj = std::nan("");
    if (layer.input_c == 5) cost.latency_ms = -1.0;
    if (layer.input_c == 7) cost.energy_mj = std::numeric_limits<double>::infinity();
    return cost;
  }
};

}  // namespace

NASQ_HARDWARE_PLUGIN(InvalidCosts, "invalid-costs", "1.0.0")
