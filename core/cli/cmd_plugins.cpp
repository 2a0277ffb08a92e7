// `nasq plugins`: lists the plugins found on the search path, or one plugin's keys.
#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>

#include "core/cli/command.hpp"
#include "core/util/text.hpp"
#include "nasq/sdk/error.hpp"

namespace po = boost::program_options;

namespace nasq::cli {
namespace {

std::string key_type_name(sdk::KeyType type) {
  switch (type) {
    case sdk::KeyType::boolean: return "bool";
    case sdk::KeyType::integer: return "int";
    case sdk::KeyType::floating: return "float";
    case sdk::KeyType::string: return "string";
    case sdk::KeyType::integer_list: return "int list";
    case sdk::KeyType::floating_list: return "float list";
    case sdk::KeyType::string_list: return "string list";
    case sdk::KeyType::quantity: return "quantity";
  }
  return "?";
}

nlohmann::json keys_json(const std::vector<sdk::KeySpec>& keys) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& spec : keys) {
    array.push_back({{"name", spec.name},
                     {"type", key_type_name(spec.type)},
                     {"default", spec.default_toml},
                     {"unit", spec.unit},
                     {"allowed", spec.allowed},
                     {"min", spec.min <= spec.max ? nlohmann::json(spec.min) : nlohmann::json()},
                     {"max", spec.min <= spec.max ? nlohmann::json(spec.max) : nlohmann::json()},
                     {"doc", spec.doc}});
  }
  return array;
}

void print_keys(const PluginInfo& info, const std::string& format) {
  if (format == "json") {
    std::cout << keys_json(info.keys).dump(2) << "\n";
    return;
  }
  std::cout << "[" << to_string(info.kind) << "." << info.name << "] keys of " << info.name << " "
            << info.version << " (" << info.path.string() << ")\n";
  for (const auto& spec : info.keys) {
    std::cout << "  " << std::left << std::setw(24) << spec.name << std::setw(12)
              << key_type_name(spec.type) << " default "
              << (spec.default_toml.empty() ? "(required)" : spec.default_toml);
    if (!spec.unit.empty()) std::cout << " [" << spec.unit << "]";
    if (spec.min <= spec.max) std::cout << " range " << spec.min << ".." << spec.max;
    std::cout << "\n      " << spec.doc;
    if (!spec.allowed.empty()) std::cout << " (one of: " << join(spec.allowed, ", ") << ")";
    std::cout << "\n";
  }
}

void print_table(const std::vector<const PluginInfo*>& plugins,
                 const std::vector<RefusedLibrary>& refused) {
  std::cout << std::left << std::setw(10) << "KIND" << std::setw(20) << "NAME" << std::setw(10)
            << "VERSION" << std::setw(10) << "LIBTORCH" << "PATH\n";
  for (const PluginInfo* info : plugins) {
    std::cout << std::setw(10) << to_string(info->kind) << std::setw(20) << info->name
              << std::setw(10) << info->version << std::setw(10)
              << (info->torch_version.empty() ? "-" : info->torch_version) << info->path.string()
              << "\n";
  }
  if (!refused.empty()) {
    std::cout << "\nrefused libraries:\n";
    for (const auto& library : refused) {
      std::cout << "  " << library.path.string() << ": " << library.reason << "\n";
    }
  }
}

void print_json(const std::vector<const PluginInfo*>& plugins,
                const std::vector<RefusedLibrary>& refused) {
  nlohmann::json document = {{"plugins", nlohmann::json::array()},
                             {"refused", nlohmann::json::array()}};
  for (const PluginInfo* info : plugins) {
    document["plugins"].push_back({{"kind", to_string(info->kind)},
                                   {"name", info->name},
                                   {"version", info->version},
                                   {"torch_version", info->torch_version},
                                   {"path", info->path.string()},
                                   {"keys", keys_json(info->keys)}});
  }
  for (const auto& library : refused) {
    document["refused"].push_back(
        {{"path", library.path.string()}, {"name", library.name}, {"reason", library.reason}});
  }
  std::cout << document.dump(2) << "\n";
}

}  // namespace

int run_plugins(const std::vector<std::string>& arguments) {
  po::options_description options = common_options();
  options.add_options()
      ("kind", po::value<std::string>(), "only plugins of this kind: hardware, quantizer, strategy")
      ("format", po::value<std::string>()->default_value("table"), "output format: table or json")
      ("keys", po::value<std::string>(), "print the config keys of the plugin with this name");
  po::variables_map values;
  if (!parse_arguments(arguments, "nasq plugins [--kind K] [--format table|json] [--keys NAME]",
                       options, {}, values)) {
    return 0;
  }
  const std::string format = values["format"].as<std::string>();
  if (format != "table" && format != "json") {
    throw UsageError("invalid --format '" + format + "'; use table or json");
  }
  std::optional<PluginKind> kind;
  if (values.count("kind")) {
    kind = parse_plugin_kind(values["kind"].as<std::string>());
    if (!kind) {
      throw UsageError("invalid --kind '" + values["kind"].as<std::string>() +
                       "'; use hardware, quantizer or strategy");
    }
  }

  PluginRegistry registry;
  registry.scan(search_path(values, nullptr));

  if (values.count("keys")) {
    const std::string name = values["keys"].as<std::string>();
    for (const PluginKind candidate : {PluginKind::hardware, PluginKind::quantizer,
                                       PluginKind::strategy}) {
      if (kind && candidate != *kind) continue;
      for (const PluginInfo* info : registry.plugins(candidate)) {
        if (info->name == name) {
          print_keys(*info, format);
          return 0;
        }
      }
    }
    registry.find(kind.value_or(PluginKind::hardware), name);  // throws, listing what exists
  }

  if (format == "json") {
    print_json(registry.plugins(kind), registry.refused());
  } else {
    print_table(registry.plugins(kind), registry.refused());
  }
  return 0;
}

}  // namespace nasq::cli
