// Bit-width sensitivity tables over the blocks of a space.
#include "core/search/sensitivity.hpp"

#include <algorithm>

#include "core/search/block_costs.hpp"

namespace nasq::search {
namespace {

space::BlockChoice reference_choice(const space::BlockSlot& slot, ReferenceChoice reference) {
  space::BlockChoice choice;
  if (reference == ReferenceChoice::mobilenetv2) {
    choice.expansion = slot.index == 0 ? 1 : 6;
    choice.kernel = 3;
  } else {
    choice.expansion = *std::max_element(slot.expansion_choices.begin(), slot.expansion_choices.end());
    choice.kernel = *std::min_element(slot.kernel_choices.begin(), slot.kernel_choices.end());
  }
  choice.bottleneck_bits = *std::max_element(slot.bottleneck_bits.begin(), slot.bottleneck_bits.end());
  choice.depthwise_bits = *std::max_element(slot.depthwise_bits.begin(), slot.depthwise_bits.end());
  return choice;
}

std::vector<int> ascending(std::vector<int> values) {
  std::sort(values.begin(), values.end());
  return values;
}

}  // namespace

std::vector<BlockSensitivity> bit_sensitivity(const space::SearchSpace& space, CostOracle& oracle,
                                              std::int64_t batch, ReferenceChoice reference) {
  std::vector<BlockSensitivity> rows;
  for (const space::BlockSlot& slot : space.blocks()) {
    BlockSensitivity row;
    row.slot = slot;
    row.reference = reference_choice(slot, reference);
    auto cost = [&](int bottleneck_bits, int depthwise_bits) {
      space::BlockChoice choice = row.reference;
      choice.bottleneck_bits = bottleneck_bits;
      choice.depthwise_bits = depthwise_bits;
      return oracle.total(block_layers(slot, choice, batch));
    };
    row.reference_cost = cost(row.reference.bottleneck_bits, row.reference.depthwise_bits);
    row.bottleneck_bits = ascending(slot.bottleneck_bits);
    for (const int bits : row.bottleneck_bits) {
      row.bottleneck_costs.push_back(cost(bits, row.reference.depthwise_bits));
    }
    row.depthwise_bits = ascending(slot.depthwise_bits);
    for (const int bits : row.depthwise_bits) {
      row.depthwise_costs.push_back(cost(row.reference.bottleneck_bits, bits));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace nasq::search
