// `nasq sweep`: runs the main job over values of one key and several seeds,
// then reports the runs as one comparison.
#include <iostream>
#include <sstream>

#include "core/cli/command.hpp"
#include "core/util/log.hpp"
#include "nasq/sdk/error.hpp"

namespace po = boost::program_options;

namespace nasq::cli {

int run_run(const std::vector<std::string>& arguments);
int run_report_directories(const std::vector<std::filesystem::path>& runs,
                           const std::filesystem::path& output);

namespace {

struct SweepValues {
  std::string key;
  std::vector<std::string> values;
};

SweepValues parse_values(const std::string& text, const std::string& usage) {
  const auto equals = text.find('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == text.size()) {
    throw UsageError("invalid --values '" + text + "': expected KEY.PATH=V1,V2,...\nusage: " + usage);
  }
  SweepValues sweep{text.substr(0, equals), {}};
  std::istringstream stream(text.substr(equals + 1));
  std::string value;
  while (std::getline(stream, value, ',')) {
    if (value.empty()) throw UsageError("invalid --values '" + text + "': empty value");
    sweep.values.push_back(value);
  }
  return sweep;
}

}  // namespace

int run_sweep(const std::vector<std::string>& arguments) {
  po::options_description options = common_options();
  options.add(stack_options());
  options.add_options()
      ("stack", po::value<std::string>(), "the TOML stack")
      ("values", po::value<std::string>(), "KEY.PATH=V1,V2,... values to sweep (one run per value and seed)")
      ("seeds", po::value<int>()->default_value(1), "seeds per value: run.seed = 1..N")
      ("run-dir", po::value<std::string>(), "directory that holds one run directory per point")
      ("resume", po::value<std::string>(), "continue a sweep in this directory; finished runs are kept")
      ("stages", po::value<std::string>()->default_value("search,train,evaluate,report"),
       "stages of each run");
  po::variables_map values;
  const std::string usage =
      "nasq sweep STACK.toml --values KEY.PATH=V1,V2,... [--seeds N] [--set KEY=VALUE]... "
      "[--run-dir DIR | --resume DIR] [--stages LIST]";
  if (!parse_arguments(arguments, usage, options, {"stack"}, values)) return 0;
  if (!values.count("values")) throw UsageError("missing --values\nusage: " + usage);
  const SweepValues sweep = parse_values(values["values"].as<std::string>(), usage);
  const int seeds = values["seeds"].as<int>();
  if (seeds < 1) throw UsageError("--seeds must be at least 1");
  const bool resume = values.count("resume") != 0;
  const std::filesystem::path directory =
      resume ? values["resume"].as<std::string>()
             : values.count("run-dir") ? values["run-dir"].as<std::string>() : "sweep";

  std::vector<std::filesystem::path> runs;
  for (const auto& value : sweep.values) {
    for (int seed = 1; seed <= seeds; ++seed) {
      const std::filesystem::path run = directory / (sweep.key + "=" + value + "-seed" + std::to_string(seed));
      std::vector<std::string> run_arguments = {values["stack"].as<std::string>()};
      if (values.count("set")) {
        for (const auto& assignment : values["set"].as<std::vector<std::string>>()) {
          run_arguments.push_back("--set");
          run_arguments.push_back(assignment);
        }
      }
      for (const std::string& assignment :
           {sweep.key + "=" + value, "run.seed=" + std::to_string(seed)}) {
        run_arguments.push_back("--set");
        run_arguments.push_back(assignment);
      }
      if (values.count("plugin-path")) {
        for (const auto& path : values["plugin-path"].as<std::vector<std::string>>()) {
          run_arguments.push_back("--plugin-path");
          run_arguments.push_back(path);
        }
      }
      const bool exists = std::filesystem::exists(run);
      run_arguments.push_back(resume && exists ? "--resume" : "--run-dir");
      run_arguments.push_back(run.string());
      run_arguments.push_back("--stages");
      run_arguments.push_back(values["stages"].as<std::string>());
      log_info("sweep: " + sweep.key + " = " + value + ", seed " + std::to_string(seed));
      const int status = run_run(run_arguments);
      if (status != 0) return status;
      runs.push_back(run);
    }
  }
  const int status = run_report_directories(runs, directory);
  std::cout << "sweep report: " << (directory / "report.html").string() << "\n";
  return status;
}

}  // namespace nasq::cli
