// Maps a validated stack's [data] section (and [run] seed) onto DataOptions.
#pragma once

#include "core/config/stack.hpp"
#include "core/data/data_options.hpp"

namespace nasq::data {

// DataOptions of `stack` with `batch_size`; relative paths are resolved
// against the stack file's directory. Throws sdk::ConfigError with file and
// line for values the data module rejects.
DataOptions data_options_from_stack(const Stack& stack, std::int64_t batch_size);

}  // namespace nasq::data
