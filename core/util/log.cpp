// spdlog-based implementation of the core's logging functions.
#include "core/util/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "nasq/sdk/error.hpp"

namespace nasq {
namespace {

std::shared_ptr<spdlog::logger> core_logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    auto created = std::make_shared<spdlog::logger>("nasq", sink);
    created->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
    created->set_level(spdlog::level::info);
    created->flush_on(spdlog::level::info);
    return created;
  }();
  return logger;
}

spdlog::level::level_enum to_spdlog(sdk::LogLevel level) {
  switch (level) {
    case sdk::LogLevel::trace: return spdlog::level::trace;
    case sdk::LogLevel::debug: return spdlog::level::debug;
    case sdk::LogLevel::info: return spdlog::level::info;
    case sdk::LogLevel::warn: return spdlog::level::warn;
    case sdk::LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

class PluginLogger final : public sdk::Logger {
 public:
  explicit PluginLogger(std::string plugin_name) : prefix_("[plugin " + plugin_name + "] ") {}
  void log(sdk::LogLevel level, std::string_view message) override {
    core_logger()->log(to_spdlog(level), "{}{}", prefix_, message);
  }

 private:
  std::string prefix_;
};

}  // namespace

void set_log_level(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    throw sdk::Error("invalid log level '" + level +
                     "'; use one of trace, debug, info, warn, error, off");
  }
  core_logger()->set_level(parsed);
}

void add_log_file(const std::filesystem::path& file) {
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string(), false);
  sink->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  sink->set_level(spdlog::level::debug);
  core_logger()->sinks().push_back(sink);
  if (core_logger()->level() > spdlog::level::debug) {
    // The console sink keeps the user's level; the file receives debug lines.
    const auto console_level = core_logger()->level();
    core_logger()->sinks().front()->set_level(console_level);
    core_logger()->set_level(spdlog::level::debug);
  }
}

void log_info(const std::string& message) { core_logger()->info("{}", message); }
void log_warn(const std::string& message) { core_logger()->warn("{}", message); }
void log_debug(const std::string& message) { core_logger()->debug("{}", message); }
void log_error(const std::string& message) { core_logger()->error("{}", message); }

std::unique_ptr<sdk::Logger> make_plugin_logger(const std::string& plugin_name) {
  return std::make_unique<PluginLogger>(plugin_name);
}

}  // namespace nasq
