// Cached, validated layer costing through a hardware-model plugin.
#include "core/cost/oracle.hpp"

#include <algorithm>
#include <cmath>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "nasq/sdk/error.hpp"

namespace nasq {

namespace {

std::size_t mix(std::size_t seed, std::uint64_t value) {
  // 64-bit mixing step (splitmix64 finaliser constants).
  std::uint64_t x = value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<std::size_t>(x ^ (x >> 31));
}

void check_value(double value, const char* field, const std::string& plugin,
                 const sdk::LayerSpec& layer) {
  if (std::isfinite(value) && value >= 0.0) return;
  std::ostringstream message;
  message << "hardware plugin '" << plugin << "' returned an invalid " << field << " = " << value
          << " for layer " << describe(layer) << "; costs must be finite and non-negative";
  throw sdk::Error(message.str());
}

void check_cost(const sdk::Cost& cost, const std::string& plugin, const sdk::LayerSpec& layer) {
  for (const char* metric : sdk::kMetricNames) {
    check_value(sdk::metric_value(cost, metric), metric, plugin, layer);
  }
}

}  // namespace

std::size_t LayerSpecHash::operator()(const sdk::LayerSpec& layer) const noexcept {
  // Multiply-add over the fields, one final mix: a lookup of a warm layer
  // list must cost only tens of nanoseconds per layer.
  std::uint64_t x = static_cast<std::uint64_t>(layer.kind);
  for (const std::int64_t value :
       {layer.batch, layer.input_h, layer.input_w, layer.input_c, layer.output_c, layer.kernel,
        layer.stride, layer.padding, layer.groups}) {
    x = x * 0x100000001b3ULL + static_cast<std::uint64_t>(value);
  }
  x = x * 0x100000001b3ULL + (static_cast<std::uint64_t>(layer.weight_bits) |
                              static_cast<std::uint64_t>(layer.activation_bits) << 8 |
                              static_cast<std::uint64_t>(layer.output_bits) << 16 |
                              static_cast<std::uint64_t>(layer.first_layer) << 24);
  return mix(0, x);
}

std::string describe(const sdk::LayerSpec& layer) {
  std::ostringstream text;
  text << sdk::to_string(layer.kind) << " n" << layer.batch << " " << layer.input_h << "x"
       << layer.input_w << "x" << layer.input_c << " -> " << layer.output_c << " k" << layer.kernel
       << " s" << layer.stride << " p" << layer.padding << " g" << layer.groups << " w"
       << layer.weight_bits << "a" << layer.activation_bits << "o" << layer.output_bits
       << (layer.first_layer ? " first" : "");
  return text.str();
}

CostOracle::CostOracle(std::shared_ptr<sdk::HardwareModel> model, std::string plugin_name)
    : model_(std::move(model)),
      plugin_name_(std::move(plugin_name)),
      capabilities_(model_->capabilities()) {}

bool CostOracle::reports(const std::string& metric) const {
  return std::find(capabilities_.metrics.begin(), capabilities_.metrics.end(), metric) !=
         capabilities_.metrics.end();
}

void CostOracle::check_bits(const std::vector<int>& bits, const std::string& where) const {
  for (const int value : bits) {
    const auto& supported = capabilities_.supported_bits;
    if (std::find(supported.begin(), supported.end(), value) != supported.end()) continue;
    std::string accepted;
    for (const int candidate : supported) {
      accepted += (accepted.empty() ? "" : ", ") + std::to_string(candidate);
    }
    throw sdk::Error(where + ": " + std::to_string(value) + " bits is not supported by hardware "
                     "plugin '" + plugin_name_ + "' (supported: " + accepted + ")");
  }
}

void CostOracle::prepare(std::span<const sdk::LayerSpec> layers) { model_->prepare(layers); }

sdk::Cost CostOracle::compute(const sdk::LayerSpec& layer) const {
  sdk::Cost cost = model_->cost(layer);
  check_cost(cost, plugin_name_, layer);
  return cost;
}

sdk::Cost CostOracle::layer_cost(const sdk::LayerSpec& layer) {
  {
    const std::shared_lock lock(mutex_);
    const auto found = cache_.find(layer);
    if (found != cache_.end()) return found->second;
  }
  const sdk::Cost cost = compute(layer);
  const std::unique_lock lock(mutex_);
  cache_.emplace(layer, cost);
  return cost;
}

std::vector<sdk::Cost> CostOracle::layer_costs(std::span<const sdk::LayerSpec> layers) {
  std::vector<sdk::LayerSpec> missing;
  {
    const std::shared_lock lock(mutex_);
    for (const auto& layer : layers) {
      if (!cache_.count(layer) && std::find(missing.begin(), missing.end(), layer) == missing.end()) {
        missing.push_back(layer);
      }
    }
  }
  const std::size_t workers = capabilities_.thread_safe
                                  ? std::min<std::size_t>(std::max(1u, std::thread::hardware_concurrency()),
                                                          missing.size())
                                  : 1;
  if (workers > 1) {
    std::vector<std::future<void>> tasks;
    for (std::size_t worker = 0; worker < workers; ++worker) {
      tasks.push_back(std::async(std::launch::async, [&, worker] {
        for (std::size_t i = worker; i < missing.size(); i += workers) layer_cost(missing[i]);
      }));
    }
    for (auto& task : tasks) task.get();
  }
  std::vector<sdk::Cost> costs;
  costs.reserve(layers.size());
  for (const auto& layer : layers) costs.push_back(layer_cost(layer));
  return costs;
}

sdk::Cost CostOracle::total(std::span<const sdk::LayerSpec> layers) {
  sdk::Cost sum;
  {
    const std::shared_lock lock(mutex_);
    bool all_cached = true;
    for (const auto& layer : layers) {
      const auto found = cache_.find(layer);
      if (found == cache_.end()) {
        all_cached = false;
        break;
      }
      sum += found->second;
    }
    if (all_cached) return sum;
  }
  sum = sdk::Cost{};
  for (const auto& cost : layer_costs(layers)) sum += cost;
  return sum;
}

std::size_t CostOracle::cache_size() const {
  const std::shared_lock lock(mutex_);
  return cache_.size();
}

}  // namespace nasq
