// Roofline accelerator: the example hardware-model plugin to copy when writing your own.
//
// The model: `peak_macs_per_cycle` MAC units and one DRAM port that moves
// `dram_bytes_per_cycle`. Each layer reads its weights and input activations
// from DRAM once and writes its output once, because the on-chip buffers are
// assumed to be large enough that nothing is fetched twice. Compute and DRAM
// transfers overlap fully, so a layer takes max(compute cycles, memory cycles).
// Energy is a fixed cost per MAC plus a fixed cost per DRAM byte. Bit-widths
// change the DRAM traffic only, not the MAC rate or the energy per MAC.
//
// A hardware plugin takes five steps, marked "Step N" below:
//   1. declare the config keys, which the core validates before the plugin runs;
//   2. read the validated values in the constructor;
//   3. describe what the model supports (capabilities());
//   4. check and cost one layer (prepare() and cost());
//   5. export the entry points with NASQ_HARDWARE_PLUGIN.
// Build it with find_package(nasq_sdk) and nasq_add_plugin (see CMakeLists.txt).
#include <nasq/sdk/error.hpp>
#include <nasq/sdk/hardware_model.hpp>
#include <nasq/sdk/plugin.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using nasq::sdk::Cost;
using nasq::sdk::KeySpec;
using nasq::sdk::KeyType;
using nasq::sdk::LayerKind;
using nasq::sdk::LayerSpec;

constexpr int kMinBits = 1;
constexpr int kMaxBits = 8;
constexpr double kMillijoulesPerPicojoule = 1e-9;

// Checks that the model can cost `layer`. Returns "" when it can, otherwise a
// message that names the LayerSpec field and the accepted range, as the
// HardwareModel contract requires.
std::string find_layer_problem(const LayerSpec& layer) {
  const auto value = [](const char* field, std::int64_t number) {
    return std::string(field) + " = " + std::to_string(number);
  };
  const bool has_weights = layer.kind != LayerKind::add && layer.kind != LayerKind::pool;

  if (layer.batch < 1) return value("batch", layer.batch) + " is invalid; expected batch >= 1";
  if (layer.input_h < 1 || layer.input_w < 1) {
    return value("input_h", layer.input_h) + " and " + value("input_w", layer.input_w) +
           " are invalid; expected both >= 1";
  }
  if (layer.input_c < 1) return value("input_c", layer.input_c) + " is invalid; expected >= 1";
  if (has_weights && layer.output_c < 1) {
    return value("output_c", layer.output_c) + " is invalid; expected >= 1";
  }

  // Add and pool layers have no weights, so only the activation bits apply.
  std::vector<std::pair<const char*, int>> bit_fields = {
      {"activation_bits", layer.activation_bits}, {"output_bits", layer.output_bits}};
  if (has_weights) bit_fields.emplace_back("weight_bits", layer.weight_bits);
  for (const auto& [field, bits] : bit_fields) {
    if (bits < kMinBits || bits > kMaxBits) {
      return value(field, bits) + " is not supported; expected " + std::to_string(kMinBits) +
             ".." + std::to_string(kMaxBits) + " bits";
    }
  }
  if (!has_weights || layer.kind == LayerKind::fully_connected) return "";

  // Convolutions: the window must fit and the groups must split the channels.
  if (layer.kernel < 1 || layer.stride < 1 || layer.padding < 0) {
    return value("kernel", layer.kernel) + ", " + value("stride", layer.stride) + ", " +
           value("padding", layer.padding) + " are invalid; expected kernel >= 1, " +
           "stride >= 1, padding >= 0";
  }
  const std::int64_t padded_side = std::min(layer.input_h, layer.input_w) + 2 * layer.padding;
  if (layer.kernel > padded_side) {
    return value("kernel", layer.kernel) + " is larger than the padded input (" +
           std::to_string(padded_side) + " = min(input_h, input_w) + 2 * padding); expected " +
           "kernel <= " + std::to_string(padded_side);
  }
  if (layer.groups < 1 || layer.input_c % layer.groups != 0 ||
      layer.output_c % layer.groups != 0) {
    return value("groups", layer.groups) + " is invalid; expected a divisor of input_c (" +
           std::to_string(layer.input_c) + ") and output_c (" + std::to_string(layer.output_c) +
           ")";
  }
  return "";
}

// Weight, input and output bits a layer moves between DRAM and the chip.
struct Traffic {
  std::int64_t weight_bits = 0;
  std::int64_t input_bits = 0;
  std::int64_t output_bits = 0;
};

Traffic count_traffic(const LayerSpec& layer) {
  const std::int64_t input_elements = layer.batch * layer.input_h * layer.input_w * layer.input_c;
  Traffic traffic;
  switch (layer.kind) {
    case LayerKind::add:
      // Two input tensors of the same shape in, one out.
      traffic.input_bits = 2 * input_elements * layer.activation_bits;
      traffic.output_bits = input_elements * layer.output_bits;
      return traffic;
    case LayerKind::pool:
      // Global average pooling keeps one value per channel.
      traffic.input_bits = input_elements * layer.activation_bits;
      traffic.output_bits = layer.batch * layer.input_c * layer.output_bits;
      return traffic;
    case LayerKind::fully_connected:
      traffic.weight_bits = layer.input_c * layer.output_c * layer.weight_bits;
      traffic.input_bits = input_elements * layer.activation_bits;
      traffic.output_bits = layer.batch * layer.output_c * layer.output_bits;
      return traffic;
    default: {
      const std::int64_t weights =
          layer.output_c * (layer.input_c / layer.groups) * layer.kernel * layer.kernel;
      traffic.weight_bits = weights * layer.weight_bits;
      traffic.input_bits = input_elements * layer.activation_bits;
      traffic.output_bits =
          layer.batch * layer.output_h() * layer.output_w() * layer.output_c * layer.output_bits;
      return traffic;
    }
  }
}

class RooflineModel final : public nasq::sdk::HardwareModel {
 public:
  // Step 1: declare every key of the plugin's table, [hardware.roofline] in a
  // stack. The core rejects unknown keys, wrong types and values outside
  // [min, max], and fills in defaults, before the constructor runs.
  // `nasq plugins --keys roofline` prints this list.
  // NOTE: the defaults are round illustrative numbers, not a calibrated chip.
  // Set them from your hardware's data sheet or measurements.
  static std::vector<KeySpec> keys() {
    KeySpec peak{"peak_macs_per_cycle", KeyType::integer, "256", "MAC/cycle",
                 "multiply-accumulates the MAC array completes per cycle"};
    peak.min = 1;
    peak.max = 1e9;
    KeySpec frequency{"frequency_mhz", KeyType::floating, "500", "MHz", "clock frequency"};
    frequency.min = 1;
    frequency.max = 1e5;
    KeySpec bandwidth{"dram_bytes_per_cycle", KeyType::floating, "16", "B/cycle",
                      "DRAM bandwidth per clock cycle"};
    bandwidth.min = 1e-3;
    bandwidth.max = 1e6;
    KeySpec mac_energy{"energy_per_mac_pj", KeyType::floating, "0.2", "pJ",
                       "energy of one multiply-accumulate, at any bit-width"};
    mac_energy.min = 0;
    mac_energy.max = 1e6;
    KeySpec dram_energy{"dram_energy_per_byte_pj", KeyType::floating, "100", "pJ",
                        "energy of moving one byte between DRAM and the chip"};
    dram_energy.min = 0;
    dram_energy.max = 1e6;
    return {peak, frequency, bandwidth, mac_energy, dram_energy};
  }

  // Step 2: read the keys. The view is valid only during this call, so copy
  // the values. Checks that span several keys would throw
  // nasq::sdk::ConfigError(key, message) here. Plugins never print: they log
  // through the host's logger.
  RooflineModel(const nasq::sdk::ConfigView& config, nasq::sdk::PluginHost& host)
      : peak_macs_per_cycle_(config.get_int("peak_macs_per_cycle")),
        frequency_mhz_(config.get_double("frequency_mhz")),
        dram_bytes_per_cycle_(config.get_double("dram_bytes_per_cycle")),
        energy_per_mac_pj_(config.get_double("energy_per_mac_pj")),
        dram_energy_per_byte_pj_(config.get_double("dram_energy_per_byte_pj")) {
    std::ostringstream message;
    message << "model created: " << peak_macs_per_cycle_ << " MAC/cycle at " << frequency_mhz_
            << " MHz, DRAM " << dram_bytes_per_cycle_ << " B/cycle";
    host.logger().debug(message.str());
  }

  // Step 3: describe what the core may request and rely on. cost() keeps no
  // state, so it is safe to call from several threads, and a network costs
  // the sum of its layers.
  nasq::sdk::HardwareCapabilities capabilities() const override {
    nasq::sdk::HardwareCapabilities capabilities;
    for (int bits = kMinBits; bits <= kMaxBits; ++bits) {
      capabilities.supported_bits.push_back(bits);
    }
    capabilities.additive = true;
    capabilities.thread_safe = true;
    capabilities.metrics = {"energy_mj",      "core_energy_mj", "dram_energy_mj",
                            "latency_ms",     "cycles",         "compute_cycles",
                            "stall_cycles",   "dram_read_bits", "dram_write_bits",
                            "macs",           "bitops"};
    // No reference data fixes a batch here, so this matches the default of
    // [hardware] batch. Each cost() call still uses LayerSpec::batch.
    capabilities.default_batch = 16;
    return capabilities;
  }

  // Step 4a: reject every layer the model cannot cost before a search starts
  // training, listing all of them in one error.
  void prepare(std::span<const LayerSpec> layers) override {
    std::string problems;
    for (std::size_t index = 0; index < layers.size(); ++index) {
      const std::string problem = find_layer_problem(layers[index]);
      if (problem.empty()) continue;
      problems += "\n  layer " + std::to_string(index) + " (" + to_string(layers[index].kind) +
                  "): " + problem;
    }
    if (!problems.empty()) throw nasq::sdk::Error("roofline cannot cost these layers:" + problems);
  }

  // Step 4b: cost one layer. The result must depend only on `layer` and the
  // config, because the core caches results by LayerSpec.
  Cost cost(const LayerSpec& layer) const override {
    if (const std::string problem = find_layer_problem(layer); !problem.empty()) {
      throw nasq::sdk::Error(std::string("roofline cannot cost this ") + to_string(layer.kind) +
                             " layer: " + problem);
    }
    Cost cost;
    cost.macs = layer.macs();
    cost.bitops = cost.macs * layer.weight_bits * layer.activation_bits;

    const Traffic traffic = count_traffic(layer);
    cost.dram_read_bits = traffic.weight_bits + traffic.input_bits;
    cost.dram_write_bits = traffic.output_bits;
    const double dram_bytes = static_cast<double>(cost.dram_read_bits + cost.dram_write_bits) / 8.0;

    // The roofline: whichever of compute and DRAM takes longer sets the time.
    cost.compute_cycles = (cost.macs + peak_macs_per_cycle_ - 1) / peak_macs_per_cycle_;
    const auto memory_cycles =
        static_cast<std::int64_t>(std::ceil(dram_bytes / dram_bytes_per_cycle_));
    cost.cycles = std::max(cost.compute_cycles, memory_cycles);
    // Cycles in which the MAC array waits for DRAM.
    cost.stall_cycles = cost.cycles - cost.compute_cycles;
    // cycles / (MHz * 1e6) is seconds, so cycles / (MHz * 1e3) is milliseconds.
    cost.latency_ms = static_cast<double>(cost.cycles) / (frequency_mhz_ * 1e3);

    const double mac_energy_pj = static_cast<double>(cost.macs) * energy_per_mac_pj_;
    cost.core_energy_mj = mac_energy_pj * kMillijoulesPerPicojoule;
    cost.dram_energy_mj = dram_bytes * dram_energy_per_byte_pj_ * kMillijoulesPerPicojoule;
    cost.energy_mj = cost.core_energy_mj + cost.dram_energy_mj;
    return cost;
  }

 private:
  std::int64_t peak_macs_per_cycle_;
  double frequency_mhz_;
  double dram_bytes_per_cycle_;
  double energy_per_mac_pj_;
  double dram_energy_per_byte_pj_;
};

}  // namespace

// Step 5: export nasq_plugin_descriptor (kind, name, version, SDK ABI, C++ ABI
// and compiler, which the loader checks before anything else),
// nasq_plugin_keys and nasq_create_hardware. The name is the registry key a
// stack selects with [hardware] plugin = "roofline".
NASQ_HARDWARE_PLUGIN(RooflineModel, "roofline", "1.0.0")
