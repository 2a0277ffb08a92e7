// Validation of a TOML table against key declarations, and typed reads.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/config/toml_detail.hpp"
#include "core/config/units.hpp"
#include "core/util/text.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::config_detail {
namespace {

std::string join_path(const std::string& table_path, const std::string& key) {
  return table_path.empty() ? key : table_path + "." + key;
}

[[noreturn]] void fail(const SourceInfo& info, const std::string& path, const toml::node* node,
                       const std::string& message) {
  throw sdk::ConfigError(path, location_of(info, path, node) + ": " + message);
}

bool is_number(const toml::node& node) { return node.is_integer() || node.is_floating_point(); }

bool matches_type(const toml::node& node, sdk::KeyType type) {
  switch (type) {
    case sdk::KeyType::boolean: return node.is_boolean();
    case sdk::KeyType::integer: return node.is_integer();
    case sdk::KeyType::floating: return is_number(node);
    case sdk::KeyType::string: return node.is_string();
    case sdk::KeyType::quantity: return node.is_string();
    case sdk::KeyType::integer_list:
    case sdk::KeyType::floating_list:
    case sdk::KeyType::string_list: {
      const auto* array = node.as_array();
      if (array == nullptr) return false;
      for (const auto& element : *array) {
        if (type == sdk::KeyType::integer_list && !element.is_integer()) return false;
        if (type == sdk::KeyType::floating_list && !is_number(element)) return false;
        if (type == sdk::KeyType::string_list && !element.is_string()) return false;
      }
      return true;
    }
  }
  return false;
}

void check_allowed(const sdk::KeySpec& spec, const std::string& value, const SourceInfo& info,
                   const std::string& path, const toml::node* node) {
  if (spec.allowed.empty()) return;
  for (const auto& allowed : spec.allowed) {
    if (allowed == value) return;
  }
  std::string message = "invalid value \"" + value + "\" for '" + path + "'; valid values: " +
                        join(spec.allowed, ", ");
  const std::string suggestion = closest_match(value, spec.allowed);
  if (!suggestion.empty()) message += " (did you mean \"" + suggestion + "\"?)";
  fail(info, path, node, message);
}

void check_range(const sdk::KeySpec& spec, double value, const SourceInfo& info,
                 const std::string& path, const toml::node* node) {
  if (spec.min > spec.max) return;
  if (value < spec.min || value > spec.max) {
    std::ostringstream message;
    message << "value " << value << " of '" << path << "' is out of range; valid range: ["
            << spec.min << ", " << spec.max << "]";
    if (!spec.unit.empty()) message << " " << spec.unit;
    fail(info, path, node, message.str());
  }
}

void check_value(const sdk::KeySpec& spec, const toml::node& node, const SourceInfo& info,
                 const std::string& path) {
  if (spec.type == sdk::KeyType::quantity && is_number(node)) {
    fail(info, path, &node,
         "'" + path + "' needs a unit: write it as a string such as \"1.5 " + spec.unit + "\"");
  }
  if (!matches_type(node, spec.type)) {
    fail(info, path, &node,
         "wrong type for '" + path + "': expected " + type_name(spec.type) + ", got " +
             std::string(toml::impl::node_type_friendly_names[static_cast<int>(node.type())]));
  }
  switch (spec.type) {
    case sdk::KeyType::string:
      check_allowed(spec, *node.value<std::string>(), info, path, &node);
      break;
    case sdk::KeyType::string_list:
      for (const auto& element : *node.as_array()) {
        check_allowed(spec, *element.value<std::string>(), info, path, &node);
      }
      break;
    case sdk::KeyType::integer:
    case sdk::KeyType::floating:
      check_range(spec, *node.value<double>(), info, path, &node);
      break;
    case sdk::KeyType::integer_list:
    case sdk::KeyType::floating_list:
      for (const auto& element : *node.as_array()) {
        check_range(spec, *element.value<double>(), info, path, &node);
      }
      break;
    case sdk::KeyType::quantity:
      try {
        check_range(spec, parse_quantity(*node.value<std::string>(), spec.unit), info, path, &node);
      } catch (const sdk::ConfigError&) {
        throw;
      } catch (const sdk::Error& error) {
        fail(info, path, &node, "'" + path + "': " + error.what());
      }
      break;
    case sdk::KeyType::boolean:
      break;
  }
}

std::vector<std::string> key_names(const std::vector<sdk::KeySpec>& keys) {
  std::vector<std::string> names;
  names.reserve(keys.size());
  for (const auto& spec : keys) names.push_back(spec.name);
  return names;
}

const sdk::KeySpec* find_spec(const std::vector<sdk::KeySpec>& keys, std::string_view name) {
  for (const auto& spec : keys) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

std::string location_of(const SourceInfo& info, const std::string& path, const toml::node* node) {
  if (info.overridden.count(path) != 0) return "--set " + path;
  if (node != nullptr && node->source().begin.line > 0) {
    return info.source_name + ":" + std::to_string(node->source().begin.line) + ":" +
           std::to_string(node->source().begin.column);
  }
  return info.source_name;
}

std::string type_name(sdk::KeyType type) {
  switch (type) {
    case sdk::KeyType::boolean: return "a boolean";
    case sdk::KeyType::integer: return "an integer";
    case sdk::KeyType::floating: return "a number";
    case sdk::KeyType::string: return "a string";
    case sdk::KeyType::integer_list: return "an array of integers";
    case sdk::KeyType::floating_list: return "an array of numbers";
    case sdk::KeyType::string_list: return "an array of strings";
    case sdk::KeyType::quantity: return "a quantity string with a unit";
  }
  return "a value";
}

toml::table parse_value_literal(const std::string& literal) {
  return toml::parse("value = " + literal);
}

void validate_table(toml::table& table, const std::string& table_path,
                    const std::vector<sdk::KeySpec>& keys, const SourceInfo& info,
                    bool any_subtable, const std::vector<std::string>& table_arrays) {
  for (auto&& [key, node] : table) {
    const std::string name(key.str());
    const std::string path = join_path(table_path, name);
    const sdk::KeySpec* spec = find_spec(keys, name);
    if (spec == nullptr && node.is_table() && any_subtable) continue;
    if (spec == nullptr && std::find(table_arrays.begin(), table_arrays.end(), name) != table_arrays.end()) {
      if (!node.is_array_of_tables()) {
        fail(info, path, &node, "'" + path + "' must be an array of tables ([[" + path + "]])");
      }
      continue;
    }
    if (spec == nullptr) {
      std::vector<std::string> valid = key_names(keys);
      valid.insert(valid.end(), table_arrays.begin(), table_arrays.end());
      std::string message = "unknown key '" + path + "'";
      const std::string suggestion = closest_match(name, valid);
      if (!suggestion.empty()) {
        message += "; did you mean '" + join_path(table_path, suggestion) + "'?";
      } else {
        message += "; valid keys of [" + table_path + "]: " + join(valid, ", ");
      }
      fail(info, path, &node, message);
    }
    check_value(*spec, node, info, path);
  }

  for (const auto& spec : keys) {
    if (table.contains(spec.name)) continue;
    const std::string path = join_path(table_path, spec.name);
    if (spec.default_toml.empty()) {
      fail(info, path, &table, "missing required key '" + path + "' (" + type_name(spec.type) +
                                   "): " + spec.doc);
    }
    const toml::table literal = parse_value_literal(spec.default_toml);
    table.insert(spec.name, *literal.get("value"));
  }
}

bool read_bool(const toml::node& node, const std::string& path) {
  if (auto value = node.value_exact<bool>()) return *value;
  throw sdk::ConfigError(path, "'" + path + "' is not a boolean");
}

std::int64_t read_int(const toml::node& node, const std::string& path) {
  if (auto value = node.value_exact<std::int64_t>()) return *value;
  throw sdk::ConfigError(path, "'" + path + "' is not an integer");
}

double read_double(const toml::node& node, const std::string& path) {
  if (auto value = node.value<double>()) return *value;
  throw sdk::ConfigError(path, "'" + path + "' is not a number");
}

std::string read_string(const toml::node& node, const std::string& path) {
  if (auto value = node.value_exact<std::string>()) return *value;
  throw sdk::ConfigError(path, "'" + path + "' is not a string");
}

std::vector<std::int64_t> read_int_list(const toml::node& node, const std::string& path) {
  std::vector<std::int64_t> values;
  const auto* array = node.as_array();
  if (array == nullptr) throw sdk::ConfigError(path, "'" + path + "' is not an array");
  for (const auto& element : *array) values.push_back(read_int(element, path));
  return values;
}

std::vector<double> read_double_list(const toml::node& node, const std::string& path) {
  std::vector<double> values;
  const auto* array = node.as_array();
  if (array == nullptr) throw sdk::ConfigError(path, "'" + path + "' is not an array");
  for (const auto& element : *array) values.push_back(read_double(element, path));
  return values;
}

std::vector<std::string> read_string_list(const toml::node& node, const std::string& path) {
  std::vector<std::string> values;
  const auto* array = node.as_array();
  if (array == nullptr) throw sdk::ConfigError(path, "'" + path + "' is not an array");
  for (const auto& element : *array) values.push_back(read_string(element, path));
  return values;
}

}  // namespace nasq::config_detail
