// Hardware-model plugin "analytical": counts MACs, BitOPs, weight and activation memory.
#include <string>

#include <nasq/sdk/error.hpp>
#include <nasq/sdk/hardware_model.hpp>
#include <nasq/sdk/plugin.hpp>

namespace {

using nasq::sdk::LayerKind;
using nasq::sdk::LayerSpec;

// Counts that depend only on the layer's shape and bits, the same for any
// accelerator. Additive over layers: a network's totals are the sums.
class AnalyticalModel final : public nasq::sdk::HardwareModel {
 public:
  AnalyticalModel(const nasq::sdk::ConfigView&, nasq::sdk::PluginHost&) {}

  static std::vector<nasq::sdk::KeySpec> keys() { return {}; }

  nasq::sdk::HardwareCapabilities capabilities() const override {
    nasq::sdk::HardwareCapabilities capabilities;
    for (int bits = 1; bits <= 32; ++bits) capabilities.supported_bits.push_back(bits);
    capabilities.additive = true;
    capabilities.thread_safe = true;
    capabilities.metrics = {"macs", "bitops", "weight_memory_bits", "activation_memory_bits"};
    capabilities.default_batch = 16;
    return capabilities;
  }

  nasq::sdk::Cost cost(const LayerSpec& layer) const override {
    check(layer);
    nasq::sdk::Cost cost;
    cost.macs = layer.macs();
    cost.bitops = cost.macs * layer.weight_bits * layer.activation_bits;
    cost.weight_memory_bits = weight_count(layer) * layer.weight_bits;
    const std::int64_t inputs = layer.batch * layer.input_h * layer.input_w * layer.input_c;
    const std::int64_t outputs = layer.batch * output_elements(layer);
    // An add reads two inputs of the output's shape.
    const std::int64_t read = layer.kind == LayerKind::add ? 2 * inputs : inputs;
    cost.activation_memory_bits = read * layer.activation_bits + outputs * layer.output_bits;
    return cost;
  }

 private:
  static std::int64_t weight_count(const LayerSpec& layer) {
    switch (layer.kind) {
      case LayerKind::add:
      case LayerKind::pool:
        return 0;
      case LayerKind::fully_connected:
        return layer.input_c * layer.output_c;
      default:
        return layer.kernel * layer.kernel * (layer.input_c / layer.groups) * layer.output_c;
    }
  }

  static std::int64_t output_elements(const LayerSpec& layer) {
    switch (layer.kind) {
      case LayerKind::add: return layer.input_h * layer.input_w * layer.input_c;
      case LayerKind::pool: return layer.input_c;
      case LayerKind::fully_connected: return layer.output_c;
      default: return layer.output_h() * layer.output_w() * layer.output_c;
    }
  }

  static void fail(const std::string& message) {
    throw nasq::sdk::Error("analytical cannot cost this layer: " + message);
  }

  static void check(const LayerSpec& layer) {
    if (layer.batch < 1 || layer.input_h < 1 || layer.input_w < 1) {
      fail("batch, input_h and input_w must be at least 1");
    }
    if (layer.input_c < 1 || layer.output_c < 1) {
      fail("input_c (" + std::to_string(layer.input_c) + ") and output_c (" +
           std::to_string(layer.output_c) + ") must be at least 1");
    }
    for (const int bits : {layer.weight_bits, layer.activation_bits, layer.output_bits}) {
      if (bits < 1 || bits > 32) fail("bit-widths must be in 1..32, got " + std::to_string(bits));
    }
    if (layer.kind == LayerKind::add || layer.kind == LayerKind::pool ||
        layer.kind == LayerKind::fully_connected) {
      return;
    }
    if (layer.kernel < 1 || layer.stride < 1 || layer.padding < 0) {
      fail("kernel and stride must be at least 1 and padding at least 0");
    }
    if (layer.kernel > layer.input_h + 2 * layer.padding ||
        layer.kernel > layer.input_w + 2 * layer.padding) {
      fail("kernel " + std::to_string(layer.kernel) + " is larger than the padded input " +
           std::to_string(layer.input_h + 2 * layer.padding));
    }
    if (layer.groups < 1 || layer.input_c % layer.groups != 0 ||
        layer.output_c % layer.groups != 0) {
      fail("groups (" + std::to_string(layer.groups) + ") must divide input_c and output_c");
    }
  }
};

}  // namespace

NASQ_HARDWARE_PLUGIN(AnalyticalModel, "analytical", "1.0.0")
