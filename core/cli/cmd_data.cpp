// `nasq data show`: what the search and final training will read from the data set.
#include <iostream>

#include "core/cli/command.hpp"
#include "core/data/dataset.hpp"
#include "core/data/stack_options.hpp"

namespace po = boost::program_options;

namespace nasq::cli {

int run_data(const std::vector<std::string>& arguments) {
  po::options_description options = common_options();
  options.add(stack_options());
  options.add_options()
      ("action", po::value<std::string>(), "show")
      ("stack", po::value<std::string>(), "the TOML stack");
  po::variables_map values;
  const std::string usage = "nasq data show STACK.toml [--set KEY=VALUE]...";
  if (!parse_arguments(arguments, usage, options, {"action", "stack"}, values)) return 0;
  if (values["action"].as<std::string>() != "show") {
    throw UsageError("unknown data action '" + values["action"].as<std::string>() + "'\nusage: " + usage);
  }
  const std::unique_ptr<Stack> stack = open_stack(values);
  const data::DataOptions data_options =
      data::data_options_from_stack(*stack, stack->get_int("search.batch_size"));
  std::cout << data::format_summary(data::describe(data_options));
  return 0;
}

}  // namespace nasq::cli
