// `nasq run`, `nasq train` and `nasq evaluate`: the main job (search, final
// training, evaluation, report, export) and its stages on their own.
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/cli/command.hpp"
#include "core/search/search_runner.hpp"
#include "core/train/trainer.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/log.hpp"
#include "nasq/sdk/error.hpp"

namespace po = boost::program_options;

namespace nasq::cli {

int run_report_stage(const std::filesystem::path& run_directory);
int run_export_stage(PluginFactory& factory, const std::filesystem::path& run_directory);

namespace {

const std::vector<std::string> kStages = {"search", "train", "evaluate", "report", "export"};

std::set<std::string> parse_stages(const std::string& text) {
  std::set<std::string> stages;
  std::istringstream stream(text);
  std::string stage;
  while (std::getline(stream, stage, ',')) {
    if (std::find(kStages.begin(), kStages.end(), stage) == kStages.end()) {
      throw UsageError("unknown stage '" + stage + "' in --stages; stages: search, train, "
                       "evaluate, report, export");
    }
    stages.insert(stage);
  }
  return stages;
}

// Records the wall time of a stage in stage_times.json of the run directory.
void record_stage_time(const std::filesystem::path& directory, const std::string& stage,
                       double seconds) {
  const std::filesystem::path file = directory / "stage_times.json";
  nlohmann::json times = nlohmann::json::object();
  if (std::filesystem::exists(file)) {
    std::ifstream stream(file);
    times = nlohmann::json::parse(stream, nullptr, false);
    if (times.is_discarded() || !times.is_object()) times = nlohmann::json::object();
  }
  times[stage] = seconds;
  write_text_atomically(file, times.dump(2) + "\n");
}

// Adds stage_times.json to results.json's provenance.
void merge_stage_times(const std::filesystem::path& directory) {
  const std::filesystem::path results_file = directory / "results.json";
  const std::filesystem::path times_file = directory / "stage_times.json";
  if (!std::filesystem::exists(results_file) || !std::filesystem::exists(times_file)) return;
  std::ifstream results_stream(results_file);
  nlohmann::json results = nlohmann::json::parse(results_stream);
  std::ifstream times_stream(times_file);
  const nlohmann::json times = nlohmann::json::parse(times_stream);
  for (const auto& [stage, seconds] : times.items()) results["provenance"]["wall_s"][stage] = seconds;
  write_text_atomically(results_file, results.dump(2) + "\n");
}

template <typename Stage>
void timed(const std::filesystem::path& directory, const std::string& name, Stage stage) {
  log_info("stage " + name + " started");
  const auto start = std::chrono::steady_clock::now();
  stage();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  record_stage_time(directory, name, seconds);
  log_info("stage " + name + " finished in " + std::to_string(seconds) + " s");
}

void print_summary(const std::filesystem::path& directory) {
  std::ifstream stream(directory / "results.json");
  const nlohmann::json results = nlohmann::json::parse(stream, nullptr, false);
  if (results.is_discarded()) return;
  std::cout << "run directory: " << directory.string() << "\n";
  std::cout << "architecture:";
  for (const auto& block : results["architecture"]["blocks"]) std::cout << " " << block.get<std::string>() << ";";
  std::cout << "\ntest error: top-1 " << results["test"]["top1_error"].get<double>() * 100.0
            << " %, top-5 " << results["test"]["top5_error"].get<double>() * 100.0 << " %\n";
  std::cout << "energy: " << results["hardware"]["energy_mj"].get<double>() << " mJ, latency: "
            << results["hardware"]["latency_ms"].get<double>() << " ms (batch "
            << results["hardware"]["batch"].get<int>() << ", " << results["hardware"]["plugin"].get<std::string>()
            << ")\nmodel size: " << results["model_size_bytes"].get<std::int64_t>() << " bytes\n";
}

}  // namespace

int run_run(const std::vector<std::string>& arguments) {
  po::options_description options = common_options();
  options.add(stack_options());
  options.add_options()
      ("stack", po::value<std::string>(), "the TOML stack")
      ("run-dir", po::value<std::string>(), "run directory (default: [run] output_dir/NAME-TIMESTAMP)")
      ("resume", po::value<std::string>(), "continue the run in this directory; finished stages are kept")
      ("stages", po::value<std::string>()->default_value("search,train,evaluate,report,export"),
       "comma-separated stages to run");
  po::variables_map values;
  const std::string usage =
      "nasq run STACK.toml [--set KEY=VALUE]... [--run-dir DIR | --resume DIR] [--stages LIST]";
  if (!parse_arguments(arguments, usage, options, {"stack"}, values)) return 0;
  const std::set<std::string> stages = parse_stages(values["stages"].as<std::string>());

  Session session = open_session(values);
  const bool resume = values.count("resume") != 0;
  const std::filesystem::path directory = run_directory_option(values, *session.stack, usage);
  std::filesystem::create_directories(directory);
  const std::filesystem::path arch = directory / "arch.json";

  if (stages.count("search") && !(resume && std::filesystem::exists(arch))) {
    const bool continue_search = resume && std::filesystem::exists(directory / "checkpoint.pt");
    timed(directory, "search", [&] { search::run_search(*session.factory, directory, continue_search); });
  }
  if (stages.count("train") && !(resume && std::filesystem::exists(directory / "model.pt"))) {
    timed(directory, "train", [&] { train::run_training(*session.factory, directory, arch, resume); });
  }
  if (stages.count("evaluate")) {
    timed(directory, "evaluate", [&] { train::run_evaluation(*session.factory, directory, arch); });
    merge_stage_times(directory);
  }
  if (stages.count("report")) {
    timed(directory, "report", [&] { run_report_stage(directory); });
  }
  if (stages.count("export")) {
    timed(directory, "export", [&] { run_export_stage(*session.factory, directory); });
  }
  merge_stage_times(directory);
  print_summary(directory);
  return 0;
}

int run_train(const std::vector<std::string>& arguments) {
  po::options_description options = common_options();
  options.add(stack_options());
  options.add_options()
      ("stack", po::value<std::string>(), "the TOML stack")
      ("arch", po::value<std::string>(), "architecture to train (arch.json)")
      ("run-dir", po::value<std::string>(), "run directory (default: [run] output_dir/NAME-TIMESTAMP)")
      ("resume", po::value<std::string>(), "continue training in this run directory");
  po::variables_map values;
  const std::string usage = "nasq train STACK.toml --arch arch.json [--run-dir DIR | --resume DIR]";
  if (!parse_arguments(arguments, usage, options, {"stack"}, values)) return 0;
  if (!values.count("arch")) throw UsageError("missing --arch\nusage: " + usage);

  Session session = open_session(values);
  const bool resume = values.count("resume") != 0;
  const std::filesystem::path directory = run_directory_option(values, *session.stack, usage);
  std::filesystem::create_directories(directory);
  add_log_file(directory / "nasq.log");
  write_text_atomically(directory / "config.toml", session.stack->to_toml() + "\n");
  const std::filesystem::path arch = values["arch"].as<std::string>();
  if (std::filesystem::absolute(arch) != std::filesystem::absolute(directory / "arch.json")) {
    std::filesystem::copy_file(arch, directory / "arch.json",
                               std::filesystem::copy_options::overwrite_existing);
  }
  timed(directory, "train", [&] { train::run_training(*session.factory, directory, directory / "arch.json", resume); });
  std::cout << "run directory: " << directory.string() << "\n";
  return 0;
}

int run_evaluate(const std::vector<std::string>& arguments) {
  po::options_description options = common_options();
  options.add_options()("run", po::value<std::string>(), "run directory with config.toml, arch.json and model.pt");
  po::variables_map values;
  const std::string usage = "nasq evaluate RUN_DIR";
  if (!parse_arguments(arguments, usage, options, {"run"}, values)) return 0;

  const std::filesystem::path directory = values["run"].as<std::string>();
  const std::filesystem::path config = directory / "config.toml";
  if (!std::filesystem::exists(config)) {
    throw sdk::Error(config.string() + " not found; " + directory.string() +
                     " is not a nasq run directory");
  }
  po::variables_map session_values = values;
  session_values.insert({"stack", po::variable_value(config.string(), false)});
  Session session = open_session(session_values);
  timed(directory, "evaluate", [&] { train::run_evaluation(*session.factory, directory, directory / "arch.json"); });
  merge_stage_times(directory);
  print_summary(directory);
  return 0;
}

}  // namespace nasq::cli
