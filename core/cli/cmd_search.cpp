// `nasq search`: runs the configured search strategy and writes a run directory.
#include <iostream>

#include "core/cli/command.hpp"
#include "core/search/search_runner.hpp"
#include "core/space/architecture.hpp"

namespace po = boost::program_options;

namespace nasq::cli {

int run_search(const std::vector<std::string>& arguments) {
  po::options_description options = common_options();
  options.add(stack_options());
  options.add_options()
      ("stack", po::value<std::string>(), "the TOML stack")
      ("resume", po::value<std::string>(), "continue the search in this run directory from its checkpoint")
      ("run-dir", po::value<std::string>(), "run directory for a new search (default: [run] output_dir/NAME-TIMESTAMP)");
  po::variables_map values;
  const std::string usage =
      "nasq search STACK.toml [--set KEY=VALUE]... [--resume RUN_DIR | --run-dir DIR]";
  if (!parse_arguments(arguments, usage, options, {"stack"}, values)) return 0;

  Session session = open_session(values);
  const bool resume = values.count("resume") != 0;
  const std::filesystem::path directory = run_directory_option(values, *session.stack, usage);
  if (!resume && std::filesystem::exists(directory / "checkpoint.pt")) {
    throw UsageError(directory.string() + " already contains a search; resume it with --resume " +
                     directory.string() + " or choose another --run-dir");
  }

  const search::SearchResult result = search::run_search(*session.factory, directory, resume);
  std::cout << "run directory: " << result.run_directory.string() << "\n";
  std::cout << "architecture:";
  for (const auto& block : result.architecture.blocks) std::cout << " " << space::block_label(block) << ";";
  std::cout << "\n";
  return 0;
}

}  // namespace nasq::cli
