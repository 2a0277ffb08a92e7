// Broken test plugin: a hardware model whose constructor throws.
#include <stdexcept>

#include <nasq/sdk/hardware_model.hpp>
#include <nasq/sdk/plugin.hpp>

namespace {

class ThrowingHardware final : public nasq::sdk::HardwareModel {
 public:
  ThrowingHardware(const nasq::sdk::ConfigView&, nasq::sdk::PluginHost&) {
    throw std::runtime_error("deliberate failure in the constructor");
  }
  static std::vector<nasq::sdk::KeySpec> keys() { return {}; }
  nasq::sdk::HardwareCapabilities capabilities() const override { return {}; }
  nasq::sdk::Cost cost(const nasq::sdk::LayerSpec&) const override { return {}; }
};

}  // namespace

NASQ_HARDWARE_PLUGIN(ThrowingHardware, "throwing-hardware", "1.0.0")
