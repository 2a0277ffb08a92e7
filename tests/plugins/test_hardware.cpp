// Test hardware model: cost proportional to MACs, with a configurable energy per MAC.
#include <nasq/sdk/error.hpp>
#include <nasq/sdk/hardware_model.hpp>
#include <nasq/sdk/plugin.hpp>

#ifndef TEST_PLUGIN_VERSION
#define TEST_PLUGIN_VERSION "1.0.0"
#endif

namespace {

class TestHardware final : public nasq::sdk::HardwareModel {
 public:
  TestHardware(const nasq::sdk::ConfigView& config, nasq::sdk::PluginHost& host)
      : energy_per_mac_pj_(config.get_double("energy_per_mac_pj")),
        macs_per_cycle_(config.get_int("macs_per_cycle")) {
    host.logger().debug("test hardware model created");
  }

  static std::vector<nasq::sdk::KeySpec> keys() {
    nasq::sdk::KeySpec energy{"energy_per_mac_pj", nasq::sdk::KeyType::floating, "1.0", "pJ",
                              "energy of one multiply-accumulate"};
    energy.min = 0.0;
    energy.max = 1e6;
    nasq::sdk::KeySpec rate{"macs_per_cycle", nasq::sdk::KeyType::integer, "256", "",
                            "multiply-accumulates per cycle"};
    rate.min = 1;
    rate.max = 1e9;
    return {energy, rate};
  }

  nasq::sdk::HardwareCapabilities capabilities() const override {
    return {{2, 4, 8}, true, true, {"energy_mj", "cycles", "latency_ms", "macs"}, 16};
  }

  nasq::sdk::Cost cost(const nasq::sdk::LayerSpec& layer) const override {
    if (layer.input_c <= 0 || layer.output_c <= 0) {
      throw nasq::sdk::Error("test-hardware: input_c and output_c must be positive");
    }
    nasq::sdk::Cost cost;
    cost.macs = layer.macs();
    cost.energy_mj = static_cast<double>(cost.macs) * energy_per_mac_pj_ * 1e-9;
    cost.cycles = (cost.macs + macs_per_cycle_ - 1) / macs_per_cycle_;
    cost.latency_ms = static_cast<double>(cost.cycles) / 1e6;
    return cost;
  }

 private:
  double energy_per_mac_pj_;
  std::int64_t macs_per_cycle_;
};

}  // namespace

NASQ_HARDWARE_PLUGIN(TestHardware, "test-hardware", TEST_PLUGIN_VERSION)
