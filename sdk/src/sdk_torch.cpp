// Out-of-line members of the SDK's LibTorch-based interfaces.
#include "nasq/sdk/quantizer.hpp"
#include "nasq/sdk/search_strategy.hpp"

namespace nasq::sdk {

QuantizerOp::~QuantizerOp() = default;
Quantizer::~Quantizer() = default;
SearchContext::~SearchContext() = default;
SearchStrategy::~SearchStrategy() = default;

}  // namespace nasq::sdk
