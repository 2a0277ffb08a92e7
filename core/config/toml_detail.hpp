// Internal helpers of the config folder that work on toml++ nodes; include
// only from core/config/*.cpp so that toml++ stays out of public headers.
#pragma once

#include <toml++/toml.h>

#include <set>
#include <string>
#include <vector>

#include "nasq/sdk/config_view.hpp"

namespace nasq::config_detail {

// Origin of a table's values, for error messages.
struct SourceInfo {
  std::string source_name;              // file name of the stack
  std::set<std::string> overridden;     // dotted paths set with --set
  std::string base_directory;           // directory relative paths are resolved against
};

// "file:line:column" of `node` at `path`, or "--set path" for an override.
std::string location_of(const SourceInfo& info, const std::string& path, const toml::node* node);

std::string type_name(sdk::KeyType type);

// Checks `table` (at dotted `table_path`) against `keys`: unknown keys (with
// the closest valid key), types, units, allowed values and ranges; fills in
// defaults. When `any_subtable` is true, sub-tables are skipped (plugin
// tables); arrays of tables named in `table_arrays` are skipped too. Throws
// sdk::ConfigError.
void validate_table(toml::table& table, const std::string& table_path,
                    const std::vector<sdk::KeySpec>& keys, const SourceInfo& info,
                    bool any_subtable, const std::vector<std::string>& table_arrays = {});

// Parses a TOML value literal ("16", "\"ic1\"", "[1, 2]") into a table
// holding it under the key "value".
toml::table parse_value_literal(const std::string& literal);

// Read-only view over a validated plugin table; `table` must outlive the view.
std::unique_ptr<sdk::ConfigView> make_view(const toml::table& table, std::string table_path,
                                           std::vector<sdk::KeySpec> keys, SourceInfo info);

// Reads a value of the given type; throws sdk::ConfigError naming the path.
bool read_bool(const toml::node& node, const std::string& path);
std::int64_t read_int(const toml::node& node, const std::string& path);
double read_double(const toml::node& node, const std::string& path);
std::string read_string(const toml::node& node, const std::string& path);
std::vector<std::int64_t> read_int_list(const toml::node& node, const std::string& path);
std::vector<double> read_double_list(const toml::node& node, const std::string& path);
std::vector<std::string> read_string_list(const toml::node& node, const std::string& path);

}  // namespace nasq::config_detail
