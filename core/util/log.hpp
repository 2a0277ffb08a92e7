// Process-wide logging setup on spdlog, and the SDK logger the core hands to plugins.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "nasq/sdk/logger.hpp"

namespace nasq {

// Sets the level of the console logger ("trace", "debug", "info", "warn",
// "error", "off"). Throws nasq::sdk::Error for another name.
void set_log_level(const std::string& level);

// Adds a log file sink (appending); used for the log in a run directory.
void add_log_file(const std::filesystem::path& file);

// Logs through the core's logger; the message is already formatted.
void log_info(const std::string& message);
void log_warn(const std::string& message);
void log_debug(const std::string& message);
void log_error(const std::string& message);

// sdk::Logger that prefixes each line with "[plugin NAME] ".
std::unique_ptr<sdk::Logger> make_plugin_logger(const std::string& plugin_name);

}  // namespace nasq
