// The table of nasq subcommands; every command is registered here only.
#include "core/cli/command.hpp"

namespace nasq::cli {

int run_plugins(const std::vector<std::string>& arguments);
int run_config(const std::vector<std::string>& arguments);
int run_data(const std::vector<std::string>& arguments);
int run_space(const std::vector<std::string>& arguments);
int run_arch(const std::vector<std::string>& arguments);
int run_cost(const std::vector<std::string>& arguments);
int run_search(const std::vector<std::string>& arguments);
int run_report(const std::vector<std::string>& arguments);
int run_train(const std::vector<std::string>& arguments);
int run_evaluate(const std::vector<std::string>& arguments);
int run_run(const std::vector<std::string>& arguments);
int run_sweep(const std::vector<std::string>& arguments);

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"plugins", "list plugins found on the search path, or one plugin's keys", run_plugins},
      {"config", "validate a stack and print the resolved config (config check)", run_config},
      {"data", "print the data splits, class counts and statistics a stack reads (data show)",
       run_data},
      {"space", "print a stack's search space: blocks, choice sets, size (space show)", run_space},
      {"arch", "print or draw an arch.json architecture (arch show, arch draw)", run_arch},
      {"cost", "hardware cost per layer and in total of a network, layer file or architecture",
       run_cost},
      {"search", "search architecture and bit-widths; writes a run directory", run_search},
      {"report", "write report.html for a run directory, or compare several runs", run_report},
      {"train", "train an architecture from scratch with quantization-aware training", run_train},
      {"evaluate", "test errors, size and hardware cost of a trained run (results.json)",
       run_evaluate},
      {"run", "the main job: search, train, evaluate, report and export in one run directory",
       run_run},
      {"sweep", "run the main job over values of one key and several seeds, and compare them",
       run_sweep},
  };
  return table;
}

}  // namespace nasq::cli
