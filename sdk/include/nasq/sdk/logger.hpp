// Logger interface the core hands to plugins; plugins never print.
#pragma once

#include <string_view>

namespace nasq::sdk {

enum class LogLevel { trace, debug, info, warn, error };

// Sink for plugin log lines. The core's implementation is thread-safe and
// prefixes each line with the plugin's name. The reference stays valid for the
// lifetime of every object the plugin creates.
class Logger {
 public:
  virtual ~Logger();
  virtual void log(LogLevel level, std::string_view message) = 0;

  void debug(std::string_view message) { log(LogLevel::debug, message); }
  void info(std::string_view message) { log(LogLevel::info, message); }
  void warn(std::string_view message) { log(LogLevel::warn, message); }
  void error(std::string_view message) { log(LogLevel::error, message); }
};

}  // namespace nasq::sdk
