// `nasq report`: an HTML report of one run directory, or a comparison of several.
#include <filesystem>

#include "core/cli/command.hpp"
#include "core/report/report.hpp"
#include "core/util/log.hpp"

namespace po = boost::program_options;

namespace nasq::cli {
namespace {

const char* const kUsage = "nasq report RUN_DIR... [--out DIR]";

// The directory report.html goes to: --out, else the run directory when
// there is one run. Several runs need --out.
std::filesystem::path output_directory(const po::variables_map& values,
                                       const std::vector<std::filesystem::path>& runs) {
  if (values.count("out")) return values["out"].as<std::string>();
  if (runs.size() == 1) return runs[0];
  throw UsageError("--out DIR is required when comparing several runs\nusage: " +
                   std::string(kUsage));
}

}  // namespace

int run_report(const std::vector<std::string>& arguments) {
  po::options_description options = common_options();
  options.add_options()
      ("run", po::value<std::vector<std::string>>(), "run directory (repeatable)")
      ("out", po::value<std::string>(),
       "directory for report.html, created when missing (default: the run directory for one "
       "run; required for several runs)");
  po::variables_map values;
  if (!parse_arguments(arguments, kUsage, options, {"run"}, values, true)) return 0;
  if (!values.count("run")) {
    throw UsageError(std::string("missing argument RUN_DIR\nusage: ") + kUsage);
  }
  const auto names = values["run"].as<std::vector<std::string>>();
  const std::vector<std::filesystem::path> runs(names.begin(), names.end());

  const std::filesystem::path file = report::write_report(runs, output_directory(values, runs));
  log_info("wrote " + file.string());
  return 0;
}

}  // namespace nasq::cli
