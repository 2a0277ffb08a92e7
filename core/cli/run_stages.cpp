// Report and export stages of `nasq run` and `nasq sweep`.
#include "core/cli/command.hpp"
#include "core/export/onnx_export.hpp"
#include "core/export/torch_export.hpp"
#include "core/export/trained_network.hpp"
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

// Writes export.pt and model.onnx from one load of the trained network.
int run_export_stage(PluginFactory& factory, const std::filesystem::path& run_directory) {
  const exporting::TrainedNetwork trained = exporting::load_trained_network(factory, run_directory);
  exporting::export_pickle(trained, run_directory);
  exporting::export_onnx(trained, run_directory);
  return 0;
}

}  // namespace nasq::cli
