// Checks of SpaceOptions, shared by SearchSpace and the stack loader.
#pragma once

#include <functional>
#include <string>

#include "core/space/search_space.hpp"

namespace nasq::space {

// Returns where a value was set, as "file:line:column", or "" when unknown.
// `key` is a [search_space] key ("kernel_choices") with `stage` = -1, or a
// stage key ("repeats") with the stage index.
using OriginLookup = std::function<std::string(const std::string& key, int stage)>;

// Throws sdk::ConfigError for the first invalid value. The message names the
// stage or key, the value and the accepted range, and starts with the
// location when `origin` returns one.
void validate_space_options(const SpaceOptions& options, const OriginLookup& origin = {});

}  // namespace nasq::space
