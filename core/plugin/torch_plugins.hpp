// Typed creation of the LibTorch-based plugin kinds (quantizers, strategies).
#pragma once

#include <memory>
#include <string>

#include "core/plugin/host.hpp"

namespace nasq::sdk {
class Quantizer;
class SearchStrategy;
}  // namespace nasq::sdk

namespace nasq {

// Creates the quantizer called `name`, configured from [quantizer.NAME].
std::shared_ptr<sdk::Quantizer> create_quantizer(PluginFactory& factory, const std::string& name);

// Creates the strategy called `name`, configured from [search.NAME].
std::shared_ptr<sdk::SearchStrategy> create_strategy(PluginFactory& factory,
                                                     const std::string& name);

}  // namespace nasq
