// ConfigView over a validated plugin table of a stack.
#include <filesystem>

#include "core/config/toml_detail.hpp"
#include "core/config/units.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::config_detail {
namespace {

class TomlConfigView final : public sdk::ConfigView {
 public:
  TomlConfigView(const toml::table& table, std::string table_path, std::vector<sdk::KeySpec> keys,
                 SourceInfo info)
      : table_(table),
        table_path_(std::move(table_path)),
        keys_(std::move(keys)),
        info_(std::move(info)) {}

  std::string table_path() const override { return table_path_; }

  bool is_set(std::string_view key) const override {
    const toml::node* node = table_.get(key);
    return node != nullptr && (node->source().begin.line > 0 || info_.overridden.count(path(key)));
  }

  bool get_bool(std::string_view key) const override {
    return read_bool(node(key, sdk::KeyType::boolean), path(key));
  }
  std::int64_t get_int(std::string_view key) const override {
    return read_int(node(key, sdk::KeyType::integer), path(key));
  }
  double get_double(std::string_view key) const override {
    return read_double(node(key, sdk::KeyType::floating), path(key));
  }
  std::string get_string(std::string_view key) const override {
    return read_string(node(key, sdk::KeyType::string), path(key));
  }
  std::vector<std::int64_t> get_int_list(std::string_view key) const override {
    return read_int_list(node(key, sdk::KeyType::integer_list), path(key));
  }
  std::vector<double> get_double_list(std::string_view key) const override {
    return read_double_list(node(key, sdk::KeyType::floating_list), path(key));
  }
  std::vector<std::string> get_string_list(std::string_view key) const override {
    return read_string_list(node(key, sdk::KeyType::string_list), path(key));
  }
  double get_quantity(std::string_view key) const override {
    const sdk::KeySpec& key_spec = spec(key, sdk::KeyType::quantity);
    return parse_quantity(read_string(*table_.get(key), path(key)), key_spec.unit);
  }

  std::string resolve_path(std::string_view key) const override {
    const std::filesystem::path path(get_string(key));
    if (path.is_absolute() || info_.base_directory.empty()) return path.string();
    return (std::filesystem::path(info_.base_directory) / path).lexically_normal().string();
  }

  std::string location(std::string_view key) const override {
    return location_of(info_, path(key), table_.get(key));
  }

 private:
  std::string path(std::string_view key) const { return table_path_ + "." + std::string(key); }

  const sdk::KeySpec& spec(std::string_view key, sdk::KeyType type) const {
    for (const auto& candidate : keys_) {
      if (candidate.name != key) continue;
      if (candidate.type != type) {
        throw sdk::ConfigError(std::string(key), "internal error: plugin read '" + path(key) +
                                                     "' as " + type_name(type) +
                                                     " but declared it as " +
                                                     type_name(candidate.type));
      }
      return candidate;
    }
    throw sdk::ConfigError(std::string(key),
                           "internal error: plugin read undeclared key '" + path(key) + "'");
  }

  const toml::node& node(std::string_view key, sdk::KeyType type) const {
    spec(key, type);
    return *table_.get(key);
  }

  // The stack's own table (copies of toml++ nodes lose their source lines).
  const toml::table& table_;
  std::string table_path_;
  std::vector<sdk::KeySpec> keys_;
  SourceInfo info_;
};

}  // namespace

std::unique_ptr<sdk::ConfigView> make_view(const toml::table& table, std::string table_path,
                                           std::vector<sdk::KeySpec> keys, SourceInfo info) {
  return std::make_unique<TomlConfigView>(table, std::move(table_path),
                                          std::move(keys), std::move(info));
}

}  // namespace nasq::config_detail
