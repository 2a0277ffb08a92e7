// Typed wrappers around PluginFactory::create for quantizers and strategies.
#include "core/plugin/torch_plugins.hpp"

#include "nasq/sdk/quantizer.hpp"
#include "nasq/sdk/search_strategy.hpp"

namespace nasq {

std::shared_ptr<sdk::Quantizer> create_quantizer(PluginFactory& factory, const std::string& name) {
  return factory.own<sdk::Quantizer>(factory.create(PluginKind::quantizer, "quantizer", name),
                                     name);
}

std::shared_ptr<sdk::SearchStrategy> create_strategy(PluginFactory& factory,
                                                     const std::string& name) {
  return factory.own<sdk::SearchStrategy>(factory.create(PluginKind::strategy, "search", name),
                                          name);
}

}  // namespace nasq
