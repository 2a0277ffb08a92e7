// Out-of-line members of the SDK types; their type information lives here.
#include <cmath>
#include <string>

#include "nasq/sdk/config_view.hpp"
#include "nasq/sdk/error.hpp"
#include "nasq/sdk/hardware_model.hpp"
#include "nasq/sdk/logger.hpp"
#include "nasq/sdk/plugin.hpp"

namespace nasq::sdk {

Error::Error(const std::string& message) : std::runtime_error(message) {}
Error::~Error() = default;

ConfigError::ConfigError(std::string key, const std::string& message)
    : Error(message), key_(std::move(key)) {}
ConfigError::~ConfigError() = default;

Logger::~Logger() = default;
ConfigView::~ConfigView() = default;
PluginHost::~PluginHost() = default;
HardwareModel::~HardwareModel() = default;

void HardwareModel::prepare(std::span<const LayerSpec> /*layers*/) {}

const char* to_string(LayerKind kind) noexcept {
  switch (kind) {
    case LayerKind::conv: return "conv";
    case LayerKind::depthwise_conv: return "dwconv";
    case LayerKind::grouped_conv: return "gconv";
    case LayerKind::fully_connected: return "fc";
    case LayerKind::add: return "add";
    case LayerKind::pool: return "pool";
  }
  return "unknown";
}

std::int64_t LayerSpec::macs() const noexcept {
  switch (kind) {
    case LayerKind::add:
    case LayerKind::pool:
      return 0;
    case LayerKind::fully_connected:
      return batch * input_c * output_c;
    default: {
      const std::int64_t in_per_group = groups > 0 ? input_c / groups : input_c;
      return batch * output_h() * output_w() * output_c * kernel * kernel * in_per_group;
    }
  }
}

double metric_value(const Cost& cost, std::string_view metric) {
  if (metric == "energy_mj") return cost.energy_mj;
  if (metric == "core_energy_mj") return cost.core_energy_mj;
  if (metric == "sram_energy_mj") return cost.sram_energy_mj;
  if (metric == "dram_energy_mj") return cost.dram_energy_mj;
  if (metric == "latency_ms") return cost.latency_ms;
  if (metric == "cycles") return static_cast<double>(cost.cycles);
  if (metric == "compute_cycles") return static_cast<double>(cost.compute_cycles);
  if (metric == "stall_cycles") return static_cast<double>(cost.stall_cycles);
  if (metric == "dram_read_bits") return static_cast<double>(cost.dram_read_bits);
  if (metric == "dram_write_bits") return static_cast<double>(cost.dram_write_bits);
  if (metric == "sram_read_bits") return static_cast<double>(cost.sram_read_bits);
  if (metric == "sram_write_bits") return static_cast<double>(cost.sram_write_bits);
  if (metric == "macs") return static_cast<double>(cost.macs);
  if (metric == "bitops") return static_cast<double>(cost.bitops);
  if (metric == "weight_memory_bits") return static_cast<double>(cost.weight_memory_bits);
  if (metric == "activation_memory_bits") {
    return static_cast<double>(cost.activation_memory_bits);
  }
  std::string names;
  for (const char* name : kMetricNames) {
    names += names.empty() ? "" : ", ";
    names += name;
  }
  throw Error("unknown cost metric '" + std::string(metric) + "'; valid metrics: " + names);
}

Cost& operator+=(Cost& total, const Cost& layer) noexcept {
  total.energy_mj += layer.energy_mj;
  total.core_energy_mj += layer.core_energy_mj;
  total.sram_energy_mj += layer.sram_energy_mj;
  total.dram_energy_mj += layer.dram_energy_mj;
  total.latency_ms += layer.latency_ms;
  total.cycles += layer.cycles;
  total.compute_cycles += layer.compute_cycles;
  total.stall_cycles += layer.stall_cycles;
  total.dram_read_bits += layer.dram_read_bits;
  total.dram_write_bits += layer.dram_write_bits;
  total.sram_read_bits += layer.sram_read_bits;
  total.sram_write_bits += layer.sram_write_bits;
  total.macs += layer.macs;
  total.bitops += layer.bitops;
  total.weight_memory_bits += layer.weight_memory_bits;
  total.activation_memory_bits += layer.activation_memory_bits;
  total.estimated = total.estimated || layer.estimated;
  return total;
}

}  // namespace nasq::sdk
