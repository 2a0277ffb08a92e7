// The search loop: implements the SearchContext that strategy plugins see
// (supernet training, validation losses, costs, budgets) and drives warm-up,
// search epochs, checkpoints, the run record and the derived architecture.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/plugin/host.hpp"
#include "core/space/architecture.hpp"

namespace nasq::search {

struct SearchResult {
  space::Architecture architecture;
  std::filesystem::path run_directory;
};

// Runs the search the stack describes in `run_directory` (created when
// missing). With `resume`, continues from the directory's checkpoint; the
// stack's resolved config and the plugin versions must match the ones the
// checkpoint was written with. Throws sdk::Error (or ConfigError) for user
// errors; the last checkpoint stays intact.
SearchResult run_search(PluginFactory& factory, const std::filesystem::path& run_directory,
                        bool resume);

}  // namespace nasq::search
