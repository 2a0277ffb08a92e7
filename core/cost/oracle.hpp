// Cost oracle: costs LayerSpec lists through the configured hardware model
// with a per-layer cache, checking every value the plugin returns.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "nasq/sdk/hardware_model.hpp"

namespace nasq {

struct LayerSpecHash {
  std::size_t operator()(const sdk::LayerSpec& layer) const noexcept;
};

// One-line description of a layer for messages and tables, such as
// "conv n16 112x112x32 -> 192 k1 s1 p0 g1 w8a8o8".
std::string describe(const sdk::LayerSpec& layer);

class CostOracle {
 public:
  CostOracle(std::shared_ptr<sdk::HardwareModel> model, std::string plugin_name);

  const std::string& plugin_name() const { return plugin_name_; }
  const sdk::HardwareCapabilities& capabilities() const { return capabilities_; }
  bool reports(const std::string& metric) const;

  // Throws sdk::Error naming the plugin and `where` when a bit-width in
  // `bits` is not among the model's supported bits.
  void check_bits(const std::vector<int>& bits, const std::string& where) const;

  // Lets the model check in advance that it can cost every layer.
  void prepare(std::span<const sdk::LayerSpec> layers);

  // Cost of one layer (cached). Throws sdk::Error for a layer the model
  // rejects or a value that is negative, NaN or infinite.
  sdk::Cost layer_cost(const sdk::LayerSpec& layer);
  // Per-layer costs; cache misses are computed in parallel when the model is
  // thread-safe.
  std::vector<sdk::Cost> layer_costs(std::span<const sdk::LayerSpec> layers);
  // Sum over the layers (the network cost of an additive model).
  sdk::Cost total(std::span<const sdk::LayerSpec> layers);

  std::size_t cache_size() const;

 private:
  sdk::Cost compute(const sdk::LayerSpec& layer) const;

  std::shared_ptr<sdk::HardwareModel> model_;
  std::string plugin_name_;
  sdk::HardwareCapabilities capabilities_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<sdk::LayerSpec, sdk::Cost, LayerSpecHash> cache_;
};

}  // namespace nasq
