// Error types that plugins raise and the core reports.
//
// The type information of these classes lives in the shared library
// libnasq_sdk, which the core and every plugin link, so a plugin's throw is
// caught by the core's catch clause across the library boundary.
#pragma once

#include <stdexcept>
#include <string>

namespace nasq::sdk {

// A failure caused by input the user can fix (a config value, a layer the
// model cannot cost, a file). The message names what is wrong and what to do.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
  ~Error() override;
};

// A bad value in a plugin's config table. `key` is the key inside the table
// ("array_rows"); the core adds the file, table and line.
class ConfigError : public Error {
 public:
  ConfigError(std::string key, const std::string& message);
  ~ConfigError() override;
  const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
};

}  // namespace nasq::sdk
