// Test helper: ONNX's Python checker (Debian's python3-onnx) on a model file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "tests/support/process.hpp"

namespace nasq::test {

// Runs onnx.checker.check_model(model, full_check=True) with /usr/bin/python3
// on `file`. Returns std::nullopt when python3 cannot import onnx
// (python3-onnx is a test package of scripts/install-deps.sh), else the
// command's result, which prints "ok" on success.
inline std::optional<CommandResult> run_python_onnx_checker(const std::filesystem::path& file) {
  const CommandResult probe = run_command("/usr/bin/python3 -c 'import onnx'");
  if (probe.exit_code != 0) return std::nullopt;
  return run_command("/usr/bin/python3 -c \"import onnx, sys; "
                     "onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); "
                     "print('ok')\" '" + file.string() + "'");
}

}  // namespace nasq::test
