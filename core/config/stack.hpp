// A TOML stack: the file a run is configured with, plus --set overrides,
// validated against the core's key declarations and the plugins' own.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nasq/sdk/config_view.hpp"

namespace nasq {

// Key declarations of one top-level section of a stack.
struct SectionSchema {
  std::string name;                 // "data"
  std::vector<sdk::KeySpec> keys;
  std::string plugin_kind;          // non-empty: `plugin = "NAME"` selects a plugin of this kind
  // Arrays of tables ([[section.NAME]]) that the owning module validates
  // through Stack::table_array().
  std::vector<std::string> table_arrays = {};
};

// The core's sections, in the order they are printed.
const std::vector<SectionSchema>& core_schema();

class Stack {
 public:
  // Reads `file` and applies `overrides` ("key.path=value", TOML value syntax,
  // bare words taken as strings). Throws sdk::ConfigError with file and line.
  static Stack load_file(const std::filesystem::path& file,
                         const std::vector<std::string>& overrides = {});
  // Same for text in memory. `source_name` replaces the file name in messages.
  static Stack parse(const std::string& text, const std::string& source_name,
                     const std::vector<std::string>& overrides = {});

  Stack(Stack&&) noexcept;
  Stack& operator=(Stack&&) noexcept;
  ~Stack();

  const std::string& source_name() const;
  // Directory that relative paths in the stack are resolved against.
  std::filesystem::path base_directory() const;

  // Checks every core section (unknown keys, types, units, ranges) and fills
  // in defaults. Plugin sub-tables are checked by plugin_view().
  void validate_core();

  // Name of the plugin selected in `section` ("hardware" -> "bitfusion").
  std::string selected_plugin(const std::string& section) const;
  // Sub-table names found under `section` (candidates for plugin tables).
  std::vector<std::string> subtables(const std::string& section) const;
  // Checks the table `section.plugin` against `keys`, fills in defaults and
  // returns a read-only view of it, valid while the stack lives. A missing
  // table counts as empty.
  std::unique_ptr<sdk::ConfigView> plugin_view(const std::string& section,
                                               const std::string& plugin,
                                               const std::vector<sdk::KeySpec>& keys);

  // Views of the tables of the array `path` ("search_space.stages"), each
  // checked against `keys` with defaults filled in; empty when the array is
  // absent. Views are valid while the stack lives.
  std::vector<std::unique_ptr<sdk::ConfigView>> table_array(const std::string& path,
                                                            const std::vector<sdk::KeySpec>& keys);

  // Typed access to validated core keys by dotted path ("data.batch_size").
  bool get_bool(const std::string& path) const;
  std::int64_t get_int(const std::string& path) const;
  double get_double(const std::string& path) const;
  std::string get_string(const std::string& path) const;
  std::vector<std::int64_t> get_int_list(const std::string& path) const;
  std::vector<double> get_double_list(const std::string& path) const;
  std::vector<std::string> get_string_list(const std::string& path) const;
  // Quantity converted to the unit its KeySpec declares.
  double get_quantity(const std::string& path) const;
  bool has(const std::string& path) const;
  // "file:line:column" of a key, "--set path" for overrides.
  std::string location(const std::string& path) const;

  // The resolved stack (file + overrides + defaults) as TOML and as JSON.
  std::string to_toml() const;
  std::string to_json() const;

 private:
  struct Impl;
  explicit Stack(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nasq
