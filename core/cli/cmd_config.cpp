// `nasq config check`: validates a stack and prints the resolved config.
#include <iostream>

#include "core/cli/command.hpp"

namespace po = boost::program_options;

namespace nasq::cli {

int run_config(const std::vector<std::string>& arguments) {
  po::options_description options = common_options();
  options.add(stack_options());
  options.add_options()
      ("action", po::value<std::string>(), "check")
      ("stack", po::value<std::string>(), "the TOML stack")
      ("format", po::value<std::string>()->default_value("toml"), "output format: toml or json");
  po::variables_map values;
  const std::string usage = "nasq config check STACK.toml [--set KEY=VALUE]... [--format toml|json]";
  if (!parse_arguments(arguments, usage, options, {"action", "stack"}, values)) return 0;
  if (values["action"].as<std::string>() != "check") {
    throw UsageError("unknown config action '" + values["action"].as<std::string>() +
                     "'\nusage: " + usage);
  }
  const std::string format = values["format"].as<std::string>();
  if (format != "toml" && format != "json") {
    throw UsageError("invalid --format '" + format + "'; use toml or json");
  }

  Session session = open_session(values);
  std::cout << (format == "json" ? session.stack->to_json() : session.stack->to_toml()) << "\n";
  std::cerr << session.stack->source_name() << ": valid\n";
  return 0;
}

}  // namespace nasq::cli
