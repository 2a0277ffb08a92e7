// Hardware-model plugin "bitfusion": the Bit Fusion simulator's cost model behind the SDK interface.
#include <cstdio>
#include <stdexcept>
#include <string>

#include <nasq/sdk/error.hpp>
#include <nasq/sdk/hardware_model.hpp>
#include <nasq/sdk/plugin.hpp>

#include "bitfusion_engine.hpp"

namespace {

using nasq::sdk::KeySpec;
using nasq::sdk::KeyType;

// Shortest decimal text that parses back to exactly `value`.
std::string exact_literal(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

KeySpec integer_key(std::string name, std::int64_t value, std::string unit, std::string doc,
                    double min, double max) {
  KeySpec spec{std::move(name), KeyType::integer, std::to_string(value), std::move(unit),
               std::move(doc)};
  spec.min = min;
  spec.max = max;
  return spec;
}

KeySpec energy_key(std::string name, double value, std::string doc) {
  KeySpec spec{std::move(name), KeyType::floating, exact_literal(value), "nJ/bit", std::move(doc)};
  spec.min = 0.0;
  spec.max = 1e6;
  return spec;
}

class BitFusionModel final : public nasq::sdk::HardwareModel {
 public:
  BitFusionModel(const nasq::sdk::ConfigView& config, nasq::sdk::PluginHost& host);

  static std::vector<KeySpec> keys();
  nasq::sdk::HardwareCapabilities capabilities() const override;
  nasq::sdk::Cost cost(const nasq::sdk::LayerSpec& layer) const override;

 private:
  nasq::bitfusion::BitFusionConfig config_;
  nasq::bitfusion::DepthwiseMapping depthwise_mapping_ = nasq::bitfusion::DepthwiseMapping::ic1;
  bool activation_outputs_ = false;
};

std::vector<KeySpec> BitFusionModel::keys() {
  const nasq::bitfusion::BitFusionConfig defaults;
  KeySpec depthwise{"depthwise_mapping", KeyType::string, "\"ic1\"", "",
                    "how depthwise and grouped convs map to the simulator's dense conv: ic1 (one "
                    "conv with one input channel per group; exact MACs), perchannel (one conv per "
                    "group) or dense (groups ignored)"};
  depthwise.allowed = {"ic1", "perchannel", "dense"};
  KeySpec output{"output_precision", KeyType::string, "\"accumulator\"", "",
                 "bits that layer outputs move to and from DRAM with: accumulator (32-bit partial "
                 "sums, as the simulator) or activation (the layer's output bits)"};
  output.allowed = {"accumulator", "activation"};
  return {
      integer_key("array_rows", defaults.array_rows, "", "Fusion Units in the reduction direction", 1, 4096),
      integer_key("array_cols", defaults.array_cols, "", "Fusion Units in the output-channel direction", 1, 4096),
      integer_key("high_prec", defaults.high_prec, "bits", "widest operand a Fusion Unit multiplies", 2, 16),
      integer_key("low_prec", defaults.low_prec, "bits", "BitBrick operand width", 1, 16),
      {"frequency_hz", KeyType::floating, exact_literal(defaults.frequency_hz), "Hz", "clock frequency", {}, 1.0, 1e12},
      integer_key("if_width_bits", defaults.if_width_bits, "bits/cycle", "DRAM interface width", 1, 1 << 20),
      integer_key("wbuf_bytes", defaults.wbuf_bytes, "bytes", "weight buffer (double buffered)", 2, 1LL << 34),
      integer_key("ibuf_bytes", defaults.ibuf_bytes, "bytes", "input buffer (double buffered)", 2, 1LL << 34),
      integer_key("obuf_bytes", defaults.obuf_bytes, "bytes", "output buffer (double buffered)", 2, 1LL << 34),
      integer_key("accumulator_bits", defaults.accumulator_bits, "bits", "partial-sum width", 1, 64),
      {"core_energy_nj_per_cycle", KeyType::floating, exact_literal(defaults.e_core), "nJ",
       "energy of one compute cycle of the whole array", {}, 0.0, 1e9},
      energy_key("wbuf_read_nj_per_bit", defaults.e_WR, "weight buffer read energy"),
      energy_key("wbuf_write_nj_per_bit", defaults.e_WW, "weight buffer write energy"),
      energy_key("ibuf_read_nj_per_bit", defaults.e_IR, "input buffer read energy"),
      energy_key("ibuf_write_nj_per_bit", defaults.e_IW, "input buffer write energy"),
      energy_key("obuf_read_nj_per_bit", defaults.e_OR, "output buffer read energy"),
      energy_key("obuf_write_nj_per_bit", defaults.e_OW, "output buffer write energy"),
      energy_key("dram_nj_per_bit", defaults.e_DRAM, "DRAM read or write energy"),
      depthwise,
      output,
  };
}

BitFusionModel::BitFusionModel(const nasq::sdk::ConfigView& config, nasq::sdk::PluginHost& host) {
  config_.array_rows = config.get_int("array_rows");
  config_.array_cols = config.get_int("array_cols");
  config_.high_prec = static_cast<int>(config.get_int("high_prec"));
  config_.low_prec = static_cast<int>(config.get_int("low_prec"));
  config_.frequency_hz = config.get_double("frequency_hz");
  config_.if_width_bits = config.get_int("if_width_bits");
  config_.wbuf_bytes = config.get_int("wbuf_bytes");
  config_.ibuf_bytes = config.get_int("ibuf_bytes");
  config_.obuf_bytes = config.get_int("obuf_bytes");
  config_.accumulator_bits = static_cast<int>(config.get_int("accumulator_bits"));
  config_.e_core = config.get_double("core_energy_nj_per_cycle");
  config_.e_WR = config.get_double("wbuf_read_nj_per_bit");
  config_.e_WW = config.get_double("wbuf_write_nj_per_bit");
  config_.e_IR = config.get_double("ibuf_read_nj_per_bit");
  config_.e_IW = config.get_double("ibuf_write_nj_per_bit");
  config_.e_OR = config.get_double("obuf_read_nj_per_bit");
  config_.e_OW = config.get_double("obuf_write_nj_per_bit");
  config_.e_DRAM = config.get_double("dram_nj_per_bit");

  const std::string mapping = config.get_string("depthwise_mapping");
  if (mapping == "perchannel") depthwise_mapping_ = nasq::bitfusion::DepthwiseMapping::perchannel;
  if (mapping == "dense") depthwise_mapping_ = nasq::bitfusion::DepthwiseMapping::dense;
  activation_outputs_ = config.get_string("output_precision") == "activation";

  if (config_.low_prec > config_.high_prec) {
    throw nasq::sdk::ConfigError("low_prec", "bitfusion: low_prec (" +
                                                 std::to_string(config_.low_prec) +
                                                 ") must not exceed high_prec (" +
                                                 std::to_string(config_.high_prec) + ")");
  }
  host.logger().debug("bitfusion: " + std::to_string(config_.array_rows) + "x" +
                      std::to_string(config_.array_cols) + " array, depthwise mapping " + mapping +
                      ", output precision " + config.get_string("output_precision"));
}

nasq::sdk::HardwareCapabilities BitFusionModel::capabilities() const {
  nasq::sdk::HardwareCapabilities capabilities;
  for (int bits = 1; bits <= config_.high_prec; ++bits) capabilities.supported_bits.push_back(bits);
  capabilities.additive = true;
  capabilities.thread_safe = true;
  capabilities.metrics = {"energy_mj",      "core_energy_mj", "sram_energy_mj", "dram_energy_mj",
                          "latency_ms",     "cycles",         "compute_cycles", "stall_cycles",
                          "dram_read_bits", "dram_write_bits", "sram_read_bits", "sram_write_bits",
                          "macs",           "bitops",         "weight_memory_bits"};
  capabilities.default_batch = 16;
  return capabilities;
}

nasq::bitfusion::LayerKind engine_kind(nasq::sdk::LayerKind kind) {
  switch (kind) {
    case nasq::sdk::LayerKind::depthwise_conv: return nasq::bitfusion::LayerKind::depthwise;
    case nasq::sdk::LayerKind::grouped_conv: return nasq::bitfusion::LayerKind::grouped;
    case nasq::sdk::LayerKind::fully_connected: return nasq::bitfusion::LayerKind::fc;
    default: return nasq::bitfusion::LayerKind::conv;
  }
}

nasq::sdk::Cost BitFusionModel::cost(const nasq::sdk::LayerSpec& layer) const {
  // The simulator costs conv and FC layers only; element-wise adds and
  // pooling are free in its network totals.
  if (layer.kind == nasq::sdk::LayerKind::add || layer.kind == nasq::sdk::LayerKind::pool) {
    return {};
  }
  nasq::bitfusion::SimResult result;
  try {
    nasq::bitfusion::LayerMapping mapping = nasq::bitfusion::map_layer(
        engine_kind(layer.kind), layer.batch, layer.input_h, layer.input_w, layer.input_c,
        layer.output_c, layer.kernel, layer.stride, layer.padding, layer.groups, layer.weight_bits,
        layer.activation_bits, layer.first_layer, depthwise_mapping_);
    // Outputs leave at the layer's own activation bits, which keeps a
    // network's cost a sum of per-block terms.
    if (activation_outputs_) mapping.call.out_bits = layer.activation_bits;
    result = nasq::bitfusion::simulate_layer(mapping, config_);
  } catch (const std::exception& error) {
    throw nasq::sdk::Error(std::string("bitfusion cannot cost this ") +
                           nasq::sdk::to_string(layer.kind) + " layer: " + error.what());
  }

  nasq::sdk::Cost cost;
  cost.energy_mj = result.total_energy_nj * 1e-6;
  cost.core_energy_mj = result.core_energy_nj * 1e-6;
  cost.sram_energy_mj = result.sram_energy_nj * 1e-6;
  cost.dram_energy_mj = result.dram_energy_nj * 1e-6;
  cost.latency_ms = result.latency_ms;
  cost.cycles = result.cycles;
  cost.compute_cycles = result.compute_cycles;
  cost.stall_cycles = result.mem_stall_cycles;
  cost.dram_read_bits = result.dram_read_bits;
  cost.dram_write_bits = result.dram_write_bits;
  cost.sram_read_bits = result.wbuf_read_bits + result.ibuf_read_bits + result.obuf_read_bits;
  cost.sram_write_bits = result.wbuf_write_bits + result.ibuf_write_bits + result.obuf_write_bits;
  cost.macs = layer.macs();
  cost.bitops = cost.macs * layer.weight_bits * layer.activation_bits;
  const std::int64_t weights = layer.kernel * layer.kernel * (layer.input_c / layer.groups) *
                               layer.output_c;
  cost.weight_memory_bits = weights * layer.weight_bits;
  return cost;
}

}  // namespace

NASQ_HARDWARE_PLUGIN(BitFusionModel, "bitfusion", "1.0.0")
