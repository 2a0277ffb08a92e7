// Read-only view of a plugin's own config table, and the key declarations the
// core validates that table against.
//
// Contract: before a plugin's factory runs, the core has checked the table
// against the plugin's KeySpec list (unknown keys, types, units, allowed
// values) and filled in defaults, so every getter succeeds for a declared key
// of the matching type. Asking for an undeclared key, or with the wrong type,
// throws ConfigError (a plugin bug). The view is valid only during the factory
// call: copy what you need.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nasq::sdk {

enum class KeyType {
  boolean,
  integer,
  floating,
  string,
  integer_list,
  floating_list,
  string_list,
  // A number with a unit written as a string, such as "1.5 mJ"; the getter
  // returns the value converted to KeySpec::unit.
  quantity,
};

// Declaration of one key of a plugin's table.
struct KeySpec {
  std::string name;
  KeyType type = KeyType::string;
  // Default as a TOML value literal ("16", "\"ic1\"", "[1, 2]", "\"1.5 mJ\"");
  // empty means the key is required.
  std::string default_toml;
  // Unit of the value (for quantities, the unit the getter converts to);
  // empty for unitless keys.
  std::string unit;
  std::string doc;
  // For string and string_list keys: the accepted values (empty: any).
  std::vector<std::string> allowed = {};
  // For integer and floating keys: the inclusive range (ignored when min > max).
  double min = 1.0;
  double max = 0.0;
};

class ConfigView {
 public:
  virtual ~ConfigView();

  // Dotted path of the table, such as "hardware.bitfusion".
  virtual std::string table_path() const = 0;
  // True when the user wrote the key (as opposed to a filled-in default).
  virtual bool is_set(std::string_view key) const = 0;

  virtual bool get_bool(std::string_view key) const = 0;
  virtual std::int64_t get_int(std::string_view key) const = 0;
  virtual double get_double(std::string_view key) const = 0;
  virtual std::string get_string(std::string_view key) const = 0;
  virtual std::vector<std::int64_t> get_int_list(std::string_view key) const = 0;
  virtual std::vector<double> get_double_list(std::string_view key) const = 0;
  virtual std::vector<std::string> get_string_list(std::string_view key) const = 0;
  virtual double get_quantity(std::string_view key) const = 0;

  // "file:line:column" where the key was written, or the table's own location
  // for defaults; used in error messages.
  virtual std::string location(std::string_view key) const = 0;

  // The string key `key` as a file path: absolute paths unchanged, relative
  // ones resolved against the directory of the stack file.
  virtual std::string resolve_path(std::string_view key) const = 0;
};

}  // namespace nasq::sdk
