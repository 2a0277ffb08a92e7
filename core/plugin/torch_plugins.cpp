// Typed wrappers around PluginFactory::create for quantizers and strategies.
#include "core/plugin/torch_plugins.hpp"

#include "nasq/sdk/quantizer.hpp"
#include "nasq/sdk/search_strategy.hpp"

namespace nasq {

std::shared_ptr<sdk::Quantizer> create_quantizer(PluginFactory& factory, const std::string& name) {
  PluginRegistry::RawObject raw = factory.create(PluginKind::quantizer, "quantizer", name);
  return std::shared_ptr<sdk::Quantizer>(
      static_cast<sdk::Quantizer*>(raw.object),
      [library = raw.library](sdk::Quantizer* pointer) { delete pointer; });
}

std::shared_ptr<sdk::SearchStrategy> create_strategy(PluginFactory& factory,
                                                     const std::string& name) {
  PluginRegistry::RawObject raw = factory.create(PluginKind::strategy, "search", name);
  return std::shared_ptr<sdk::SearchStrategy>(
      static_cast<sdk::SearchStrategy*>(raw.object),
      [library = raw.library](sdk::SearchStrategy* pointer) { delete pointer; });
}

}  // namespace nasq
