// Report and export stages of `nasq run`.
#include "core/cli/command.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::cli {

int run_report_stage(const std::filesystem::path& run_directory) {
  throw sdk::Error("report stage not available yet for " + run_directory.string());
}

int run_report_directories(const std::vector<std::filesystem::path>& runs,
                           const std::filesystem::path& output) {
  throw sdk::Error("report not available yet for " + std::to_string(runs.size()) + " runs in " +
                   output.string());
}

int run_export_stage(PluginFactory&, const std::filesystem::path& run_directory) {
  throw sdk::Error("export stage not available yet for " + run_directory.string());
}

}  // namespace nasq::cli
