// Out-of-line members of the SDK's LibTorch-based interfaces.
#include "nasq/sdk/error.hpp"
#include "nasq/sdk/quantizer.hpp"
#include "nasq/sdk/search_strategy.hpp"

namespace nasq::sdk {

QuantizerOp::~QuantizerOp() = default;

QuantizationGrid QuantizerOp::export_grid(const torch::Tensor&, int) const {
  throw Error("this quantizer cannot be exported to ONNX: its ops do not implement "
              "QuantizerOp::export_grid()");
}

Quantizer::~Quantizer() = default;
SearchContext::~SearchContext() = default;
SearchStrategy::~SearchStrategy() = default;

}  // namespace nasq::sdk
