// Shared option parsing and stack loading for the nasq subcommands.
#include "core/cli/command.hpp"

#include <boost/program_options/parsers.hpp>
#include <boost/program_options/positional_options.hpp>
#include <iostream>

#include "core/search/run_record.hpp"
#include "core/util/log.hpp"
#include "nasq/sdk/error.hpp"

namespace po = boost::program_options;

namespace nasq::cli {

po::options_description common_options() {
  po::options_description options("Common options");
  options.add_options()
      ("help,h", "print this help and exit")
      ("log-level", po::value<std::string>()->default_value("info"),
       "console log level: trace, debug, info, warn, error or off")
      ("plugin-path", po::value<std::vector<std::string>>()->composing(),
       "directory searched for plugins before NASQ_PLUGIN_PATH (repeatable)");
  return options;
}

po::options_description stack_options() {
  po::options_description options("Stack options");
  options.add_options()
      ("set", po::value<std::vector<std::string>>()->composing(),
       "override a stack value, KEY.PATH=VALUE in TOML syntax (repeatable; applied in order)");
  return options;
}

bool parse_arguments(const std::vector<std::string>& arguments, const std::string& usage,
                     const po::options_description& options,
                     const std::vector<std::string>& positional, po::variables_map& values,
                     bool repeat_last) {
  po::positional_options_description positions;
  for (std::size_t i = 0; i < positional.size(); ++i) {
    const bool last = i + 1 == positional.size();
    positions.add(positional[i].c_str(), last && repeat_last ? -1 : 1);
  }
  try {
    po::store(po::command_line_parser(arguments).options(options).positional(positions).run(),
              values);
    po::notify(values);
  } catch (const po::error& error) {
    throw UsageError(std::string(error.what()) + "\nusage: " + usage);
  }
  if (values.count("help")) {
    std::cout << "usage: " << usage << "\n\n" << options << "\n";
    return false;
  }
  set_log_level(values["log-level"].as<std::string>());
  for (const auto& name : positional) {
    if (!values.count(name) && !(repeat_last && name == positional.back())) {
      throw UsageError("missing argument " + name + "\nusage: " + usage);
    }
  }
  return true;
}

std::vector<std::filesystem::path> search_path(const po::variables_map& values,
                                               const Stack* stack) {
  std::vector<std::string> command_line;
  if (values.count("plugin-path")) {
    command_line = values["plugin-path"].as<std::vector<std::string>>();
  }
  std::vector<std::string> stack_paths;
  std::filesystem::path stack_directory = std::filesystem::current_path();
  if (stack != nullptr) {
    stack_paths = stack->get_string_list("plugins.paths");
    stack_directory = stack->base_directory();
  }
  return plugin_search_path(command_line, stack_paths, stack_directory);
}

std::unique_ptr<Stack> open_stack(const po::variables_map& values) {
  std::vector<std::string> overrides;
  if (values.count("set")) overrides = values["set"].as<std::vector<std::string>>();
  auto stack = std::make_unique<Stack>(
      Stack::load_file(values["stack"].as<std::string>(), overrides));
  stack->validate_core();
  return stack;
}

Session open_session(const po::variables_map& values) {
  std::vector<std::string> overrides;
  if (values.count("set")) overrides = values["set"].as<std::vector<std::string>>();

  Session session;
  session.stack = std::make_unique<Stack>(
      Stack::load_file(values["stack"].as<std::string>(), overrides));
  session.stack->validate_core();

  session.registry = std::make_unique<PluginRegistry>();
  session.registry->scan(search_path(values, session.stack.get()));
  session.factory = std::make_unique<PluginFactory>(*session.stack, *session.registry);

  const std::pair<const char*, PluginKind> selections[] = {
      {"hardware", PluginKind::hardware},
      {"quantizer", PluginKind::quantizer},
      {"search", PluginKind::strategy}};
  for (const auto& [section, kind] : selections) {
    const std::string name = session.stack->selected_plugin(section);
    try {
      session.factory->config_for(kind, section, name);
    } catch (const sdk::ConfigError&) {
      throw;
    } catch (const sdk::Error& error) {
      throw sdk::ConfigError(std::string(section) + ".plugin",
                             session.stack->location(std::string(section) + ".plugin") + ": " +
                                 error.what());
    }
  }
  return session;
}

std::filesystem::path run_directory_option(const boost::program_options::variables_map& values,
                                           const Stack& stack, const std::string& usage) {
  if (values.count("resume") && values.count("run-dir")) {
    throw UsageError("give --resume or --run-dir, not both\nusage: " + usage);
  }
  if (values.count("resume")) {
    const std::filesystem::path directory = values["resume"].as<std::string>();
    if (!std::filesystem::is_directory(directory)) {
      throw sdk::Error("cannot resume: run directory " + directory.string() +
                       " not found; give the directory of an earlier run, or --run-dir to start "
                       "a new one");
    }
    return directory;
  }
  if (values.count("run-dir")) return values["run-dir"].as<std::string>();
  return search::new_run_directory(stack);
}

}  // namespace nasq::cli
