// Out-of-line members of the SDK's LibTorch-based interfaces.
#include "nasq/sdk/error.hpp"
#include "nasq/sdk/quantizer.hpp"
#include "nasq/sdk/search_strategy.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace nasq::sdk {

QuantizerOp::~QuantizerOp() = default;

torch::Tensor QuantizerOp::forward_mixed(const torch::Tensor& x, const std::vector<int>& bits,
                                         const torch::Tensor& mixing_weights) {
  const auto terms = static_cast<std::int64_t>(bits.size());
  const bool per_sample = mixing_weights.dim() == 2;
  const bool valid = terms > 0 && mixing_weights.size(-1) == terms &&
                     (mixing_weights.dim() == 1 ||
                      (per_sample && x.dim() > 0 && mixing_weights.size(0) == x.size(0)));
  if (!valid) {
    throw std::logic_error("QuantizerOp::forward_mixed: expected mixing weights [B] or [N, B] "
                           "with N = x.size(0) for B = " + std::to_string(terms) +
                           " bit-widths; this is a bug in the caller");
  }

  // A per-sample weight broadcasts as [N, 1, ..., 1] against x.
  std::vector<std::int64_t> sample_shape(static_cast<std::size_t>(x.dim()), 1);
  if (per_sample) sample_shape[0] = x.size(0);
  torch::Tensor sum;
  for (std::int64_t i = 0; i < terms; ++i) {
    torch::Tensor weight = mixing_weights.select(-1, i);
    if (per_sample) weight = weight.view(sample_shape);
    const torch::Tensor quantized = forward(x, bits[static_cast<std::size_t>(i)]);
    const torch::Tensor term = quantized * weight.to(quantized.scalar_type());
    sum = sum.defined() ? sum + term : term;
  }
  return sum;
}

QuantizationGrid QuantizerOp::export_grid(const torch::Tensor&, int) const {
  throw Error("this quantizer cannot be exported to ONNX: its ops do not implement "
              "QuantizerOp::export_grid()");
}

Quantizer::~Quantizer() = default;
SearchContext::~SearchContext() = default;
SearchStrategy::~SearchStrategy() = default;

}  // namespace nasq::sdk
