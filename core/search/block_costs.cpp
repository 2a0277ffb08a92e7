// Per-block cost tables over every choice combination.
#include "core/search/block_costs.hpp"

#include <algorithm>
#include <limits>
#include <random>

#include "core/space/network_graph.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::search {
namespace {

// Calls `visit(indices)` for every combination of choice indices of `shape`,
// in row-major order.
template <typename Visit>
void for_each_combination(const std::vector<std::int64_t>& shape, Visit visit) {
  std::vector<int> indices(shape.size(), 0);
  while (true) {
    visit(indices);
    int position = static_cast<int>(shape.size()) - 1;
    while (position >= 0 && ++indices[position] == shape[position]) {
      indices[position] = 0;
      --position;
    }
    if (position < 0) return;
  }
}

space::BlockChoice choice_of(const space::BlockSlot& slot, const std::vector<int>& indices) {
  space::BlockChoice choice;
  choice.skip = slot.skip_choices[indices[0]] != 0;
  choice.expansion = slot.expansion_choices[indices[1]];
  choice.kernel = slot.kernel_choices[indices[2]];
  choice.bottleneck_bits = slot.bottleneck_bits[indices[3]];
  choice.depthwise_bits = slot.depthwise_bits[indices[4]];
  return choice;
}

}  // namespace

std::vector<sdk::LayerSpec> block_layers(const space::BlockSlot& slot,
                                         const space::BlockChoice& choice, std::int64_t batch) {
  if (choice.skip) return {};
  space::NetworkGraph graph;
  const space::Tensor input =
      graph.input(slot.input_size, slot.input_size, slot.input_channels);
  space::InvertedResidualSpec spec;
  spec.expansion = choice.expansion;
  spec.kernel = choice.kernel;
  spec.output_c = slot.output_channels;
  spec.stride = slot.stride;
  spec.bottleneck_bits = choice.bottleneck_bits;
  spec.depthwise_bits = choice.depthwise_bits;
  space::add_inverted_residual(graph, input, spec, "block" + std::to_string(slot.index));
  graph.finish();
  return graph.layer_specs(batch);
}

std::vector<sdk::LayerSpec> fixed_layers(const space::SearchSpace& space, std::int64_t batch) {
  const space::NetworkGraph graph =
      space::build_network(space, space::smallest_architecture(space));
  const std::vector<sdk::LayerSpec> specs = graph.layer_specs(batch);
  std::vector<sdk::LayerSpec> fixed;
  std::size_t index = 0;
  for (const auto vertex : graph.layers_in_order()) {
    const space::LayerNode& node = graph.layer(vertex);
    if (node.kind == space::NodeKind::max_pool) continue;
    if (node.group.rfind("block", 0) != 0) fixed.push_back(specs[index]);
    ++index;
  }
  return fixed;
}

std::vector<sdk::LayerSpec> space_layers(const space::SearchSpace& space, std::int64_t batch) {
  std::vector<sdk::LayerSpec> layers = fixed_layers(space, batch);
  for (const auto& slot : space.blocks()) {
    const std::vector<std::int64_t> shape = {
        static_cast<std::int64_t>(slot.skip_choices.size()),
        static_cast<std::int64_t>(slot.expansion_choices.size()),
        static_cast<std::int64_t>(slot.kernel_choices.size()),
        static_cast<std::int64_t>(slot.bottleneck_bits.size()),
        static_cast<std::int64_t>(slot.depthwise_bits.size())};
    for_each_combination(shape, [&](const std::vector<int>& indices) {
      for (const auto& layer : block_layers(slot, choice_of(slot, indices), batch)) {
        if (std::find(layers.begin(), layers.end(), layer) == layers.end()) layers.push_back(layer);
      }
    });
  }
  return layers;
}

BlockCostTable::BlockCostTable(const space::SearchSpace& space, CostOracle& oracle,
                               std::int64_t batch)
    : space_(space), batch_(batch) {
  if (!oracle.capabilities().additive) {
    throw sdk::Error("hardware plugin '" + oracle.plugin_name() +
                     "' is not additive over layers, so per-block cost tables do not apply");
  }
  fixed_ = oracle.total(fixed_layers(space, batch));

  for (const auto& slot : space.blocks()) {
    std::vector<sdk::LayerSpec> layers;
    std::vector<std::size_t> ends;
    for_each_combination(shape(slot.index), [&](const std::vector<int>& indices) {
      const auto block = block_layers(slot, choice_of(slot, indices), batch);
      layers.insert(layers.end(), block.begin(), block.end());
      ends.push_back(layers.size());
    });
    const std::vector<sdk::Cost> costs = oracle.layer_costs(layers);
    std::vector<sdk::Cost> table(ends.size());
    std::size_t begin = 0;
    for (std::size_t combination = 0; combination < ends.size(); ++combination) {
      for (std::size_t i = begin; i < ends[combination]; ++i) table[combination] += costs[i];
      begin = ends[combination];
    }
    blocks_.push_back(std::move(table));
  }
}

std::vector<std::int64_t> BlockCostTable::shape(int block) const {
  const space::BlockSlot& slot = space_.blocks().at(static_cast<std::size_t>(block));
  return {static_cast<std::int64_t>(slot.skip_choices.size()),
          static_cast<std::int64_t>(slot.expansion_choices.size()),
          static_cast<std::int64_t>(slot.kernel_choices.size()),
          static_cast<std::int64_t>(slot.bottleneck_bits.size()),
          static_cast<std::int64_t>(slot.depthwise_bits.size())};
}

std::vector<double> BlockCostTable::values(int block, const std::string& metric) const {
  std::vector<double> result;
  result.reserve(blocks_.at(static_cast<std::size_t>(block)).size());
  for (const auto& cost : blocks_[static_cast<std::size_t>(block)]) {
    result.push_back(sdk::metric_value(cost, metric));
  }
  return result;
}

std::size_t BlockCostTable::combination_index(int block, const std::vector<int>& choices) const {
  const auto block_shape = shape(block);
  std::size_t index = 0;
  for (std::size_t d = 0; d < block_shape.size(); ++d) {
    const int choice = choices[static_cast<std::size_t>(block) * space::kDecisionsPerBlock + d];
    if (choice < 0 || choice >= block_shape[d]) {
      throw sdk::Error("choice index " + std::to_string(choice) + " is out of range for " +
                       space_.decisions()[static_cast<std::size_t>(block) * space::kDecisionsPerBlock + d].name);
    }
    index = index * static_cast<std::size_t>(block_shape[d]) + static_cast<std::size_t>(choice);
  }
  return index;
}

sdk::Cost BlockCostTable::architecture_cost(const std::vector<int>& choices) const {
  if (choices.size() != space_.decisions().size()) {
    throw sdk::Error("an architecture of this space has " +
                     std::to_string(space_.decisions().size()) + " decisions, got " +
                     std::to_string(choices.size()));
  }
  sdk::Cost total = fixed_;
  for (std::size_t block = 0; block < blocks_.size(); ++block) {
    total += blocks_[block][combination_index(static_cast<int>(block), choices)];
  }
  return total;
}

double BlockCostTable::architecture_metric(const std::vector<int>& choices,
                                           const std::string& metric) const {
  return sdk::metric_value(architecture_cost(choices), metric);
}

CostBounds BlockCostTable::bounds(const std::string& metric) const {
  CostBounds bounds;
  bounds.min = bounds.max = sdk::metric_value(fixed_, metric);
  for (std::size_t block = 0; block < blocks_.size(); ++block) {
    const std::vector<double> block_values = values(static_cast<int>(block), metric);
    const auto [low, high] = std::minmax_element(block_values.begin(), block_values.end());
    bounds.min += *low;
    bounds.max += *high;
  }
  return bounds;
}

CostBounds sampled_bounds(const space::SearchSpace& space, CostOracle& oracle,
                          std::int64_t batch, const std::string& metric, int samples,
                          std::uint64_t seed) {
  CostBounds bounds{std::numeric_limits<double>::infinity(), 0.0, false};
  auto include = [&](const space::Architecture& architecture) {
    const auto layers = space::build_network(space, architecture).layer_specs(batch);
    const double value = sdk::metric_value(oracle.total(layers), metric);
    bounds.min = std::min(bounds.min, value);
    bounds.max = std::max(bounds.max, value);
  };
  include(space::smallest_architecture(space));
  include(space::largest_architecture(space));
  std::mt19937_64 generator(seed);
  for (int sample = 0; sample < samples; ++sample) {
    std::vector<int> choices;
    for (const auto& decision : space.decisions()) {
      std::uniform_int_distribution<int> pick(0, static_cast<int>(decision.choices.size()) - 1);
      choices.push_back(pick(generator));
    }
    include(space::architecture_from_indices(space, choices));
  }
  return bounds;
}

}  // namespace nasq::search
