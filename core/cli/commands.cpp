// The table of nasq subcommands; every command is registered here only.
#include "core/cli/command.hpp"

namespace nasq::cli {

int run_plugins(const std::vector<std::string>& arguments);
int run_config(const std::vector<std::string>& arguments);

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"plugins", "list plugins found on the search path, or one plugin's keys", run_plugins},
      {"config", "validate a stack and print the resolved config (config check)", run_config},
  };
  return table;
}

}  // namespace nasq::cli
