// Plain-text tables of a search space and of an architecture, for the CLI.
#pragma once

#include <cstdint>
#include <string>

#include "core/space/architecture.hpp"
#include "core/space/search_space.hpp"

namespace nasq::space {

// Formats an integer with comma thousands separators: 1234567 -> "1,234,567".
std::string group_digits(std::int64_t value);

// Formats the macro-architecture, one row per block (shapes, stride, the choice set
// of each decision), the decision count, the size of the space, and the
// MACs, parameters and model size of the smallest and largest networks.
std::string format_space(const SearchSpace& space);

// Formats one row per block (label, output shape, MACs, parameters, model
// size), rows for stem, head, pool and FC, and the totals, all per image.
std::string format_architecture(const SearchSpace& space, const Architecture& architecture);

}  // namespace nasq::space
