// Test helper: runs a shell command and captures its exit code and output.
#pragma once

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace nasq::test {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream stream(file);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

// Runs `command` through /bin/sh with stdout and stderr sent to files.
inline CommandResult run_command(const std::string& command) {
  static int counter = 0;
  const std::string stem = "cmd_output_" + std::to_string(counter++);
  const std::string out_file = stem + ".out";
  const std::string err_file = stem + ".err";
  const int status = std::system((command + " >" + out_file + " 2>" + err_file).c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_text(out_file);
  result.err = read_text(err_file);
  return result;
}

// Path of the built nasq executable, quoted for the shell, with the plugin
// search path limited to the given directories (NASQ_PLUGIN_PATH cleared).
inline std::string nasq_command() {
  return "env -u NASQ_PLUGIN_PATH '" NASQ_BINARY_DIR "/bin/nasq'";
}

inline void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream stream(file);
  stream << text;
}

}  // namespace nasq::test
