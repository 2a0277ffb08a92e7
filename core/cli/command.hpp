// The nasq subcommand table and the options every subcommand shares.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/config/stack.hpp"
#include "core/plugin/host.hpp"
#include "core/plugin/registry.hpp"

namespace nasq::cli {

// Raised for a malformed command line (exit code 2).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Command {
  const char* name;
  const char* summary;
  // Runs the command on its own arguments (after the command name); returns
  // the exit code. Throws sdk::Error for user errors and UsageError.
  int (*run)(const std::vector<std::string>& arguments);
};

// Every subcommand, in the order `nasq --help` lists them.
const std::vector<Command>& commands();

// Options every subcommand accepts: --help, --log-level, --plugin-path.
boost::program_options::options_description common_options();
// Options of commands that read a stack: --set (repeatable).
boost::program_options::options_description stack_options();

// Parses `arguments` with `options` (and one positional name per entry of
// `positional`, the last one repeatable when `repeat_last`). Prints help and
// returns false when --help was given. Applies --log-level.
bool parse_arguments(const std::vector<std::string>& arguments, const std::string& usage,
                     const boost::program_options::options_description& options,
                     const std::vector<std::string>& positional,
                     boost::program_options::variables_map& values, bool repeat_last = false);

// A validated stack with its plugin registry scanned and the selected
// plugins' tables checked.
struct Session {
  std::unique_ptr<Stack> stack;
  std::unique_ptr<PluginRegistry> registry;
  std::unique_ptr<PluginFactory> factory;
};

// Loads the stack named by the "stack" option, applies --set, validates the
// core sections, scans plugins (--plugin-path, NASQ_PLUGIN_PATH, [plugins]
// paths, the default directory) and checks the tables of the selected plugins.
Session open_session(const boost::program_options::variables_map& values);

// Loads the stack named by the "stack" option, applies --set and validates
// the core sections only, for commands that need no plugins.
std::unique_ptr<Stack> open_stack(const boost::program_options::variables_map& values);

// Returns the run directory of --resume, --run-dir, or else a new one under
// the stack's [run] output_dir. Throws UsageError when both options are given
// and sdk::Error when the --resume directory does not exist.
std::filesystem::path run_directory_option(const boost::program_options::variables_map& values,
                                           const Stack& stack, const std::string& usage);

// Plugin directories from --plugin-path, the environment and the default.
std::vector<std::filesystem::path> search_path(const boost::program_options::variables_map& values,
                                               const Stack* stack);

}  // namespace nasq::cli
