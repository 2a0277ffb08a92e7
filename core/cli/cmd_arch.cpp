// `nasq arch show|draw`: an arch.json file's blocks, sizes and drawings.
#include <fstream>
#include <iostream>

#include "core/cli/command.hpp"
#include "core/space/architecture_drawing.hpp"
#include "core/space/space_config.hpp"
#include "core/space/space_report.hpp"
#include "nasq/sdk/error.hpp"

namespace po = boost::program_options;

namespace nasq::cli {
namespace {

const char* const kUsage =
    "nasq arch show ARCH.json --stack STACK.toml [--set KEY=VALUE]...\n"
    "       nasq arch draw ARCH.json --stack STACK.toml --format dot|svg [--out FILE]";

void write_output(const std::string& text, const po::variables_map& values) {
  if (!values.count("out")) {
    std::cout << text;
    return;
  }
  const std::string file = values["out"].as<std::string>();
  std::ofstream stream(file);
  stream << text;
  if (!stream) throw sdk::Error("failed to write " + file);
  std::cerr << "wrote " << file << "\n";
}

}  // namespace

int run_arch(const std::vector<std::string>& arguments) {
  po::options_description options = common_options();
  options.add(stack_options());
  options.add_options()
      ("action", po::value<std::string>(), "show or draw")
      ("arch", po::value<std::string>(), "the arch.json file")
      ("stack", po::value<std::string>(), "the TOML stack the architecture belongs to (required)")
      ("format", po::value<std::string>()->default_value("svg"), "draw: dot or svg")
      ("out", po::value<std::string>(), "draw: output file (default: standard output)");
  po::variables_map values;
  if (!parse_arguments(arguments, kUsage, options, {"action", "arch"}, values)) return 0;
  const std::string action = values["action"].as<std::string>();
  if (action != "show" && action != "draw") {
    throw UsageError("unknown arch action '" + action + "'\nusage: " + kUsage);
  }
  if (!values.count("stack")) throw UsageError(std::string("missing --stack\nusage: ") + kUsage);
  const std::string format = values["format"].as<std::string>();
  if (format != "dot" && format != "svg") {
    throw UsageError("invalid --format '" + format + "'; use dot or svg");
  }

  const std::unique_ptr<Stack> stack = open_stack(values);
  const space::SearchSpace space = space::load_search_space(*stack);
  const space::Architecture architecture =
      space::load_architecture(space, values["arch"].as<std::string>());
  if (action == "show") {
    std::cout << space::format_architecture(space, architecture);
    return 0;
  }
  write_output(format == "dot" ? space::architecture_dot(space, architecture)
                               : space::architecture_svg(space, architecture),
               values);
  return 0;
}

}  // namespace nasq::cli
