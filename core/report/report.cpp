// Writing report.html for one or several run directories.
#include "core/report/report.hpp"

#include <stdexcept>
#include <system_error>

#include "core/report/comparison_report.hpp"
#include "core/report/run_report.hpp"
#include "core/util/atomic_file.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::report {

std::filesystem::path write_report(const std::vector<std::filesystem::path>& run_directories,
                                   const std::filesystem::path& output_directory) {
  if (run_directories.empty()) {
    throw std::logic_error("write_report: no run directory given. This is a bug in the caller");
  }
  std::vector<RunDirectory> runs;
  for (const auto& directory : run_directories) runs.push_back(load_run_directory(directory));
  const std::string html =
      runs.size() == 1 ? render_run_report(runs[0]) : render_comparison_report(runs);

  std::error_code error;
  std::filesystem::create_directories(output_directory, error);
  if (error) {
    throw sdk::Error("failed to create the output directory " + output_directory.string() + ": " +
                     error.message());
  }
  const std::filesystem::path file = output_directory / "report.html";
  write_text_atomically(file, html);
  return file;
}

}  // namespace nasq::report
