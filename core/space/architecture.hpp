// A discrete architecture of a search space (one value per decision), its
// labels, and its arch.json form.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/space/search_space.hpp"

namespace nasq::space {

// The values chosen for one MB block.
struct BlockChoice {
  bool skip = false;
  int expansion = 6;
  int kernel = 3;
  int bottleneck_bits = 8;  // expansion and projection 1x1 convs
  int depthwise_bits = 8;

  bool operator==(const BlockChoice&) const = default;
};

// "MB6 5x5 [4,2]" (expansion, kernel, bottleneck bits, depthwise bits) or "skip".
std::string block_label(const BlockChoice& choice);

// One BlockChoice per block of a space, in block order.
struct Architecture {
  std::vector<BlockChoice> blocks;

  bool operator==(const Architecture&) const = default;
};

// Builds the architecture that picks choices[i] (an index into
// space.decisions()[i].choices) for every decision. Throws sdk::Error for a
// wrong count or an index out of range.
Architecture architecture_from_indices(const SearchSpace& space, const std::vector<int>& choices);
// Returns the choice index of each decision, in decisions() order. Throws
// like validate_architecture().
std::vector<int> architecture_indices(const SearchSpace& space, const Architecture& architecture);

// Checks that `architecture` has one block per block of `space` and that
// every value is in that block's choice set. `source` (a file name, or "" for
// none) starts the message of the sdk::Error thrown, which names the block
// and the value.
void validate_architecture(const SearchSpace& space, const Architecture& architecture,
                           const std::string& source = "");

// The architectures with the fewest and the most MACs, weights and weight
// bits. The smallest skips every block that offers skipping and uses the
// smallest expansion, kernel and bit-widths elsewhere. The largest keeps
// every block that offers keeping and uses the largest values.
Architecture smallest_architecture(const SearchSpace& space);
Architecture largest_architecture(const SearchSpace& space);

// Returns the arch.json text: format version, the space's description and fingerprint,
// and one object per block (see docs/search_space.md).
std::string architecture_to_json(const SearchSpace& space, const Architecture& architecture);
// Parses arch.json text and checks it against `space`. Throws sdk::Error
// naming `source`, the block and the value for malformed JSON, a missing
// block or field, a value outside the choice set, a wrong block count, or a
// file made for another macro-architecture.
Architecture architecture_from_json(const SearchSpace& space, const std::string& text,
                                    const std::string& source);

void save_architecture(const SearchSpace& space, const Architecture& architecture,
                       const std::filesystem::path& file);
Architecture load_architecture(const SearchSpace& space, const std::filesystem::path& file);

}  // namespace nasq::space
