// Report and export stages of `nasq run` and `nasq sweep`.
#include "core/cli/command.hpp"
#include "core/export/torch_export.hpp"
#include "core/report/report.hpp"

namespace nasq::cli {

int run_report_stage(const std::filesystem::path& run_directory) {
  report::write_report({run_directory}, run_directory);
  return 0;
}

int run_report_directories(const std::vector<std::filesystem::path>& runs,
                           const std::filesystem::path& output) {
  report::write_report(runs, output);
  return 0;
}

// NOTE: only the pickled export is written; the ONNX model in QDQ form is
// not implemented yet.
int run_export_stage(PluginFactory& factory, const std::filesystem::path& run_directory) {
  exporting::export_pickle(factory, run_directory);
  return 0;
}

}  // namespace nasq::cli
