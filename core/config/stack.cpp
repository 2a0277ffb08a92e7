// Loading, overriding, validating and printing TOML stacks.
#include "core/config/stack.hpp"

#include <fstream>
#include <sstream>

#include "core/config/toml_detail.hpp"
#include "core/config/units.hpp"
#include "core/util/text.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq {

using config_detail::SourceInfo;

struct Stack::Impl {
  toml::table root;
  SourceInfo info;
  std::filesystem::path base_directory;
};

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream stream(path);
  while (std::getline(stream, part, '.')) parts.push_back(part);
  return parts;
}

// Applies one "key.path=value" override; the value is TOML, or a bare string.
void apply_override(toml::table& root, const std::string& assignment, SourceInfo& info) {
  const auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw sdk::ConfigError(assignment, "invalid --set \"" + assignment +
                                           "\": expected KEY.PATH=VALUE, such as "
                                           "search.energy_lambda=0.5");
  }
  const std::string path = assignment.substr(0, equals);
  const std::string literal = assignment.substr(equals + 1);
  toml::table parsed;
  try {
    parsed = config_detail::parse_value_literal(literal);
  } catch (const toml::parse_error&) {
    parsed.insert("value", literal);
  }

  const std::vector<std::string> parts = split_path(path);
  toml::table* table = &root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    toml::node* child = table->get(parts[i]);
    if (child == nullptr) {
      table->insert(parts[i], toml::table{});
      child = table->get(parts[i]);
    }
    if (!child->is_table()) {
      throw sdk::ConfigError(path, "--set " + path + ": '" + parts[i] + "' is not a table");
    }
    table = child->as_table();
  }
  table->insert_or_assign(parts.back(), *parsed.get("value"));
  info.overridden.insert(path);
}

const SectionSchema* find_section(const std::string& name) {
  for (const auto& section : core_schema()) {
    if (section.name == name) return &section;
  }
  return nullptr;
}

const sdk::KeySpec& find_core_key(const std::string& path) {
  const auto dot = path.find('.');
  const SectionSchema* section = find_section(path.substr(0, dot));
  if (section != nullptr && dot != std::string::npos) {
    const std::string key = path.substr(dot + 1);
    for (const auto& spec : section->keys) {
      if (spec.name == key) return spec;
    }
  }
  throw sdk::ConfigError(path, "internal error: '" + path + "' is not a declared core key");
}

}  // namespace

Stack::Stack(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Stack::Stack(Stack&&) noexcept = default;
Stack& Stack::operator=(Stack&&) noexcept = default;
Stack::~Stack() = default;

Stack Stack::parse(const std::string& text, const std::string& source_name,
                   const std::vector<std::string>& overrides) {
  auto impl = std::make_unique<Impl>();
  impl->info.source_name = source_name;
  try {
    impl->root = toml::parse(text, source_name);
  } catch (const toml::parse_error& error) {
    throw sdk::ConfigError("", source_name + ":" + std::to_string(error.source().begin.line) +
                                   ":" + std::to_string(error.source().begin.column) +
                                   ": invalid TOML: " + std::string(error.description()));
  }
  for (const auto& assignment : overrides) apply_override(impl->root, assignment, impl->info);
  return Stack(std::move(impl));
}

Stack Stack::load_file(const std::filesystem::path& file,
                       const std::vector<std::string>& overrides) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) {
    throw sdk::ConfigError("", "cannot read stack file '" + file.string() +
                                   "': no such file or not readable");
  }
  std::ostringstream text;
  text << stream.rdbuf();
  Stack stack = parse(text.str(), file.string(), overrides);
  stack.impl_->base_directory = std::filesystem::absolute(file).parent_path();
  stack.impl_->info.base_directory = stack.impl_->base_directory.string();
  return stack;
}

const std::string& Stack::source_name() const { return impl_->info.source_name; }

std::filesystem::path Stack::base_directory() const {
  return impl_->base_directory.empty() ? std::filesystem::current_path() : impl_->base_directory;
}

void Stack::validate_core() {
  std::vector<std::string> section_names;
  for (const auto& section : core_schema()) section_names.push_back(section.name);

  for (auto&& [key, node] : impl_->root) {
    const std::string name(key.str());
    if (find_section(name) != nullptr) continue;
    std::string message = config_detail::location_of(impl_->info, name, &node) +
                          ": unknown section '" + name + "'";
    const std::string suggestion = closest_match(name, section_names);
    message += suggestion.empty() ? "; valid sections: " + join(section_names, ", ")
                                  : "; did you mean '" + suggestion + "'?";
    throw sdk::ConfigError(name, message);
  }

  for (const auto& section : core_schema()) {
    toml::node* node = impl_->root.get(section.name);
    if (node == nullptr) {
      impl_->root.insert(section.name, toml::table{});
      node = impl_->root.get(section.name);
    }
    if (!node->is_table()) {
      throw sdk::ConfigError(section.name, config_detail::location_of(impl_->info, section.name, node) +
                                               ": '" + section.name + "' must be a table");
    }
    config_detail::validate_table(*node->as_table(), section.name, section.keys, impl_->info,
                                  !section.plugin_kind.empty(), section.table_arrays);
  }
}

std::string Stack::selected_plugin(const std::string& section) const {
  return get_string(section + ".plugin");
}

std::vector<std::string> Stack::subtables(const std::string& section) const {
  std::vector<std::string> names;
  const toml::table* table = impl_->root[section].as_table();
  if (table == nullptr) return names;
  for (auto&& [key, node] : *table) {
    if (node.is_table()) names.emplace_back(key.str());
  }
  return names;
}

std::unique_ptr<sdk::ConfigView> Stack::plugin_view(const std::string& section,
                                                    const std::string& plugin,
                                                    const std::vector<sdk::KeySpec>& keys) {
  toml::table* section_table = impl_->root[section].as_table();
  if (section_table == nullptr) {
    impl_->root.insert(section, toml::table{});
    section_table = impl_->root[section].as_table();
  }
  if (!section_table->contains(plugin)) section_table->insert(plugin, toml::table{});
  toml::node* node = section_table->get(plugin);
  const std::string table_path = section + "." + plugin;
  if (!node->is_table()) {
    throw sdk::ConfigError(table_path, config_detail::location_of(impl_->info, table_path, node) +
                                           ": '" + table_path + "' must be a table");
  }
  config_detail::validate_table(*node->as_table(), table_path, keys, impl_->info, false);
  return config_detail::make_view(*node->as_table(), table_path, keys, impl_->info);
}

std::vector<std::unique_ptr<sdk::ConfigView>> Stack::table_array(
    const std::string& path, const std::vector<sdk::KeySpec>& keys) {
  std::vector<std::unique_ptr<sdk::ConfigView>> views;
  toml::node* node = impl_->root.at_path(path).node();
  if (node == nullptr) return views;
  toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    throw sdk::ConfigError(path, location(path) + ": '" + path +
                                     "' must be an array of tables ([[" + path + "]])");
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    toml::table& table = *array->get(i)->as_table();
    const std::string element_path = path + "[" + std::to_string(i) + "]";
    config_detail::validate_table(table, element_path, keys, impl_->info, false);
    views.push_back(config_detail::make_view(table, element_path, keys, impl_->info));
  }
  return views;
}

namespace {
const toml::node& require_node(const toml::table& root, const std::string& path) {
  const toml::node* node = root.at_path(path).node();
  if (node == nullptr) {
    throw sdk::ConfigError(path, "internal error: '" + path + "' read before validation");
  }
  return *node;
}
}  // namespace

bool Stack::has(const std::string& path) const {
  return impl_->root.at_path(path).node() != nullptr;
}
bool Stack::get_bool(const std::string& path) const {
  return config_detail::read_bool(require_node(impl_->root, path), path);
}
std::int64_t Stack::get_int(const std::string& path) const {
  return config_detail::read_int(require_node(impl_->root, path), path);
}
double Stack::get_double(const std::string& path) const {
  return config_detail::read_double(require_node(impl_->root, path), path);
}
std::string Stack::get_string(const std::string& path) const {
  return config_detail::read_string(require_node(impl_->root, path), path);
}
std::vector<std::int64_t> Stack::get_int_list(const std::string& path) const {
  return config_detail::read_int_list(require_node(impl_->root, path), path);
}
std::vector<double> Stack::get_double_list(const std::string& path) const {
  return config_detail::read_double_list(require_node(impl_->root, path), path);
}
std::vector<std::string> Stack::get_string_list(const std::string& path) const {
  return config_detail::read_string_list(require_node(impl_->root, path), path);
}
double Stack::get_quantity(const std::string& path) const {
  return parse_quantity(get_string(path), find_core_key(path).unit);
}

std::string Stack::location(const std::string& path) const {
  return config_detail::location_of(impl_->info, path, impl_->root.at_path(path).node());
}

std::string Stack::to_toml() const {
  std::ostringstream out;
  out << toml::toml_formatter(impl_->root);
  return out.str();
}

std::string Stack::to_json() const {
  std::ostringstream out;
  out << toml::json_formatter(impl_->root);
  return out.str();
}

}  // namespace nasq
