// Differentiable expected cost over independent per-decision distributions.
#include "core/search/expected_cost.hpp"

#include <torch/torch.h>

#include "core/space/search_space.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::search {

ExpectedCost::ExpectedCost(const BlockCostTable& table, const std::string& metric)
    : fixed_(sdk::metric_value(table.fixed(), metric)) {
  const auto block_count = static_cast<int>(table.space().blocks().size());
  for (int block = 0; block < block_count; ++block) {
    const std::vector<double> values = table.values(block, metric);
    blocks_.push_back(torch::tensor(values, torch::kFloat64).reshape(table.shape(block)));
  }
}

torch::Tensor ExpectedCost::operator()(const std::vector<torch::Tensor>& probabilities) const {
  const std::size_t expected = blocks_.size() * space::kDecisionsPerBlock;
  if (probabilities.size() != expected) {
    throw sdk::Error("expected cost needs " + std::to_string(expected) +
                     " probability vectors, got " + std::to_string(probabilities.size()));
  }
  torch::Tensor total = torch::tensor(fixed_, torch::kFloat64);
  for (std::size_t block = 0; block < blocks_.size(); ++block) {
    const std::size_t first = block * space::kDecisionsPerBlock;
    const auto p = [&](std::size_t d) { return probabilities[first + d].to(torch::kFloat64).cpu(); };
    total = total + torch::einsum("s,m,k,a,b,smkab->", {p(0), p(1), p(2), p(3), p(4), blocks_[block]});
  }
  return total;
}

}  // namespace nasq::search
