// Bit-width sensitivity of a hardware model: how each MB block's energy and
// latency change when its bottleneck bits b1 or its depthwise bits b2 change.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/cost/oracle.hpp"
#include "core/space/architecture.hpp"
#include "core/space/search_space.hpp"

namespace nasq::search {

// One block's cost at its reference choice (widest bits) and with one of the
// two bit decisions lowered at a time.
struct BlockSensitivity {
  space::BlockSlot slot;
  space::BlockChoice reference;    // expansion, kernel and b1 = b2 = widest bits
  sdk::Cost reference_cost;
  std::vector<int> bottleneck_bits;          // values of b1, ascending
  std::vector<sdk::Cost> bottleneck_costs;   // cost at each b1, b2 at the reference
  std::vector<int> depthwise_bits;           // values of b2, ascending
  std::vector<sdk::Cost> depthwise_costs;    // cost at each b2, b1 at the reference
};

// Rule for a block's reference choice: the largest expansion and the
// smallest kernel of the block's choices, or MobileNetV2's expansion and
// kernel (expansion 1 in the first block, 6 elsewhere, kernel 3).
enum class ReferenceChoice { widest_expansion, mobilenetv2 };

// Costs every block of `space` at the reference choice and at every value of
// its b1 and b2 choice lists, at inference batch `batch`.
std::vector<BlockSensitivity> bit_sensitivity(const space::SearchSpace& space, CostOracle& oracle,
                                              std::int64_t batch, ReferenceChoice reference);

}  // namespace nasq::search
