// Entry point of the nasq executable: dispatches to the subcommands.
#include <torch/version.h>

#include <iostream>
#include <string>
#include <vector>

#include "core/cli/command.hpp"
#include "core/util/allocator.hpp"
#include "nasq/sdk/abi.hpp"
#include "nasq/sdk/error.hpp"

namespace {

void print_help() {
  std::cout << "nasq " NASQ_VERSION
               " - joint search of network architecture and per-layer bit-widths\n\n"
               "usage: nasq [--help] [--version] COMMAND [ARGS...]\n\ncommands:\n";
  for (const auto& command : nasq::cli::commands()) {
    std::cout << "  " << command.name;
    for (std::size_t i = std::string(command.name).size(); i < 10; ++i) std::cout << ' ';
    std::cout << command.summary << "\n";
  }
  std::cout << "\n`nasq COMMAND --help` describes a command's arguments.\n";
}

int dispatch(const std::vector<std::string>& arguments) {
  if (arguments.empty() || arguments[0] == "--help" || arguments[0] == "-h") {
    print_help();
    return arguments.empty() ? 2 : 0;
  }
  if (arguments[0] == "--version") {
    std::cout << "nasq " NASQ_VERSION << "\nSDK ABI " << nasq::sdk::kAbiVersion << " (SDK "
              << nasq::sdk::kSdkVersion << ")\nLibTorch " TORCH_VERSION "\n";
    return 0;
  }
  for (const auto& command : nasq::cli::commands()) {
    if (arguments[0] == command.name) {
      return command.run(std::vector<std::string>(arguments.begin() + 1, arguments.end()));
    }
  }
  throw nasq::cli::UsageError("unknown command '" + arguments[0] +
                              "'; `nasq --help` lists the commands");
}

}  // namespace

int main(int argc, char** argv) {
  nasq::util::keep_freed_memory();
  const std::vector<std::string> arguments(argv + 1, argv + argc);
  try {
    return dispatch(arguments);
  } catch (const nasq::cli::UsageError& error) {
    std::cerr << "nasq: " << error.what() << "\n";
    return 2;
  } catch (const nasq::sdk::Error& error) {
    std::cerr << "nasq: error: " << error.what() << "\n";
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "nasq: internal error: " << error.what() << "\n";
    return 3;
  }
}
