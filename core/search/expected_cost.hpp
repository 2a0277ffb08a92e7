// Exact expected cost of a factorised decision distribution, differentiable
// with LibTorch, from per-block cost tables.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "core/search/block_costs.hpp"

namespace nasq::search {

class ExpectedCost {
 public:
  // Builds one dense tensor per block (float64) of `metric` from `table`.
  ExpectedCost(const BlockCostTable& table, const std::string& metric);

  // E[metric] = fixed + sum over blocks of sum over combinations of the
  // product of the five decisions' probabilities times the table entry.
  // `probabilities` has one 1-D tensor per decision (decisions() order).
  // The result is a float64 scalar that gradients flow through.
  torch::Tensor operator()(const std::vector<torch::Tensor>& probabilities) const;

 private:
  double fixed_ = 0.0;
  std::vector<torch::Tensor> blocks_;
};

}  // namespace nasq::search
