// Reads the [search_space] section of a stack (keys and [[search_space.stages]])
// into a SearchSpace.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/space/search_space.hpp"
#include "nasq/sdk/config_view.hpp"

namespace nasq {
class Stack;
}

namespace nasq::space {

// Keys of one [[search_space.stages]] table: index, channels, repeats, stride.
std::vector<sdk::KeySpec> stage_keys();

// Returns the class count that the [data] section implies without reading any
// file. That is 10 for fashion-mnist, mnist and cifar10, and 100 or 20 for
// cifar100 (fine or coarse labels). An image folder gives no count.
std::optional<std::int64_t> data_class_count(const Stack& stack);

// Builds the options of a stack whose core sections are validated. It starts
// from the preset and applies the [search_space] keys that are not 0, then
// the stage tables. The class count is num_classes when set, else
// `data_classes`, else the preset's. Without `data_classes` it uses
// data_class_count(stack). Throws sdk::ConfigError with file and line for an
// invalid value, or when num_classes contradicts a known class count.
SpaceOptions load_space_options(Stack& stack,
                                std::optional<std::int64_t> data_classes = std::nullopt);

// Runs load_space_options() and builds the space from the options.
SearchSpace load_search_space(Stack& stack,
                              std::optional<std::int64_t> data_classes = std::nullopt);

}  // namespace nasq::space
