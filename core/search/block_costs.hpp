// Hardware cost of every choice combination of every MB block, for budgets,
// exact expected costs and fast costing of sampled architectures.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/cost/oracle.hpp"
#include "core/space/architecture.hpp"
#include "core/space/search_space.hpp"

namespace nasq::search {

// LayerSpecs of one MB block for the given choice values (empty when
// skipped), built with the network graph's rules at `batch`.
std::vector<sdk::LayerSpec> block_layers(const space::BlockSlot& slot,
                                         const space::BlockChoice& choice, std::int64_t batch);

// Minimum and maximum of one metric over every architecture of a space.
struct CostBounds {
  double min = 0.0;
  double max = 0.0;
  bool exact = true;  // false: estimated by sampling (non-additive model)
};

// For an additive hardware model, a network's cost is the cost of the fixed
// layers (stem, head, pooling, FC) plus one term per block that depends only
// on that block's five choices. This table contains every such term.
class BlockCostTable {
 public:
  // Costs every combination of every block through `oracle` (cached per
  // layer). Throws sdk::Error when the model is not additive.
  BlockCostTable(const space::SearchSpace& space, CostOracle& oracle, std::int64_t batch);

  const space::SearchSpace& space() const { return space_; }
  std::int64_t batch() const { return batch_; }

  // Choice counts of a block's decisions, in decision order (s, m, k, b1, b2).
  std::vector<std::int64_t> shape(int block) const;
  // `metric` of every combination of `block`, row-major over shape(block).
  std::vector<double> values(int block, const std::string& metric) const;
  // Cost of the layers that do not depend on any decision.
  const sdk::Cost& fixed() const { return fixed_; }

  // Cost of an architecture given as choice indices (decisions() order).
  sdk::Cost architecture_cost(const std::vector<int>& choices) const;
  double architecture_metric(const std::vector<int>& choices, const std::string& metric) const;

  // Exact minimum and maximum of `metric` over the space: per-block extremes
  // over every combination (fewer bits or a smaller kernel is not always
  // cheaper on every model), summed with the fixed part.
  CostBounds bounds(const std::string& metric) const;

 private:
  std::size_t combination_index(int block, const std::vector<int>& choices) const;

  const space::SearchSpace& space_;
  std::int64_t batch_;
  sdk::Cost fixed_;
  std::vector<std::vector<sdk::Cost>> blocks_;  // [block][combination]
};

// Every distinct layer the space can produce: the fixed layers and the
// layers of every choice combination of every block. A lookup-table model
// checks these in prepare() before any training.
std::vector<sdk::LayerSpec> space_layers(const space::SearchSpace& space, std::int64_t batch);

// Layers of the fixed part of a space's networks: stem, head, pool and FC.
std::vector<sdk::LayerSpec> fixed_layers(const space::SearchSpace& space, std::int64_t batch);

// Estimates bounds of `metric` for a non-additive model from the smallest
// and largest architectures and `samples` random ones (seeded).
CostBounds sampled_bounds(const space::SearchSpace& space, CostOracle& oracle,
                          std::int64_t batch, const std::string& metric, int samples,
                          std::uint64_t seed);

}  // namespace nasq::search
