// Plugin discovery, descriptor checks and factory calls.
#include "core/plugin/registry.hpp"

#include <torch/version.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "core/util/log.hpp"
#include "core/util/text.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq {

namespace {

using DescriptorFunction = const sdk::PluginDescriptor*();
using KeysFunction = void(std::vector<sdk::KeySpec>*);
using FactoryFunction = void*(const sdk::ConfigView*, sdk::PluginHost*);

const char* factory_symbol(PluginKind kind) {
  switch (kind) {
    case PluginKind::hardware: return "nasq_create_hardware";
    case PluginKind::quantizer: return "nasq_create_quantizer";
    case PluginKind::strategy: return "nasq_create_strategy";
  }
  return "";
}

bool is_shared_library(const std::filesystem::path& path) {
  return std::filesystem::is_regular_file(path) && path.extension() == ".so";
}

std::string compiler_id() { return NASQ_SDK_COMPILER; }

// Libraries are never unloaded before exit: plugin code may still run from
// static destructors and objects the core keeps in globals.
std::vector<std::shared_ptr<boost::dll::shared_library>>& library_store() {
  static auto* store = new std::vector<std::shared_ptr<boost::dll::shared_library>>();
  return *store;
}

}  // namespace

struct PluginRegistry::Loaded {
  PluginInfo info;
  std::shared_ptr<boost::dll::shared_library> library;
  FactoryFunction* factory = nullptr;
};

const char* to_string(PluginKind kind) noexcept {
  switch (kind) {
    case PluginKind::hardware: return "hardware";
    case PluginKind::quantizer: return "quantizer";
    case PluginKind::strategy: return "strategy";
  }
  return "unknown";
}

std::optional<PluginKind> parse_plugin_kind(std::string_view text) noexcept {
  if (text == "hardware") return PluginKind::hardware;
  if (text == "quantizer") return PluginKind::quantizer;
  if (text == "strategy") return PluginKind::strategy;
  return std::nullopt;
}

std::vector<std::filesystem::path> plugin_search_path(
    const std::vector<std::string>& command_line, const std::vector<std::string>& stack_paths,
    const std::filesystem::path& stack_directory) {
  std::vector<std::filesystem::path> directories;
  for (const auto& path : command_line) directories.emplace_back(path);

  if (const char* environment = std::getenv("NASQ_PLUGIN_PATH")) {
    std::istringstream stream(environment);
    std::string entry;
    while (std::getline(stream, entry, ':')) {
      if (!entry.empty()) directories.emplace_back(entry);
    }
  }

  for (const auto& path : stack_paths) {
    std::filesystem::path directory(path);
    directories.push_back(directory.is_absolute() ? directory : stack_directory / directory);
  }

  const std::filesystem::path executable_dir = boost::dll::program_location().parent_path().string();
  directories.push_back(executable_dir.parent_path() / NASQ_PLUGIN_RELDIR);
  return directories;
}

PluginRegistry::PluginRegistry() = default;
PluginRegistry::~PluginRegistry() = default;

const PluginInfo* PluginRegistry::load_file(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) {
    throw sdk::Error("plugin library '" + file.string() + "' not found");
  }
  auto refuse = [&](std::string name, std::string reason) -> const PluginInfo* {
    log_warn("rejected plugin library " + file.string() + ": " + reason);
    refused_.push_back({file, std::move(name), std::move(reason)});
    return nullptr;
  };

  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code error;
  library->load(file.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local,
                error);
  if (error) return refuse("", "cannot load the library: " + error.message());
  if (!library->has("nasq_plugin_descriptor")) {
    return refuse("", "missing entry symbol 'nasq_plugin_descriptor'; build the plugin with "
                      "the NASQ_*_PLUGIN macros of the nasq SDK");
  }

  const sdk::PluginDescriptor* descriptor =
      library->get<DescriptorFunction>("nasq_plugin_descriptor")();
  if (descriptor == nullptr) return refuse("", "nasq_plugin_descriptor() returned null");
  if (descriptor->abi_version != sdk::kAbiVersion) {
    return refuse("", "built against SDK ABI version " + std::to_string(descriptor->abi_version) +
                          ", but this nasq uses SDK ABI version " +
                          std::to_string(sdk::kAbiVersion) + "; rebuild the plugin");
  }
  const std::string name = descriptor->name != nullptr ? descriptor->name : "";
  const auto kind = parse_plugin_kind(descriptor->kind != nullptr ? descriptor->kind : "");
  if (!kind) {
    return refuse(name, std::string("unknown plugin kind '") +
                            (descriptor->kind != nullptr ? descriptor->kind : "") +
                            "'; expected hardware, quantizer or strategy");
  }
  if (const std::string reason = check_build(*descriptor, *kind); !reason.empty()) {
    return refuse(name, reason);
  }
  for (const char* symbol : {"nasq_plugin_keys", factory_symbol(*kind)}) {
    if (!library->has(symbol)) {
      return refuse(name, std::string("missing entry symbol '") + symbol +
                              "'; build the plugin with the NASQ_*_PLUGIN macros of the nasq SDK");
    }
  }

  auto loaded = std::make_shared<Loaded>();
  loaded->info.kind = *kind;
  loaded->info.name = name;
  loaded->info.version = descriptor->version != nullptr ? descriptor->version : "";
  loaded->info.torch_version = descriptor->torch_version != nullptr ? descriptor->torch_version : "";
  loaded->info.path = std::filesystem::absolute(file).lexically_normal();
  try {
    library->get<KeysFunction>("nasq_plugin_keys")(&loaded->info.keys);
  } catch (const std::exception& error) {
    return refuse(name, std::string("nasq_plugin_keys() threw: ") + error.what());
  }
  loaded->factory = &library->get<FactoryFunction>(factory_symbol(*kind));
  loaded->library = library;
  library_store().push_back(library);
  return register_loaded(std::move(loaded));
}

std::string PluginRegistry::check_build(const sdk::PluginDescriptor& descriptor, PluginKind kind) {
  const std::string torch_version =
      descriptor.torch_version != nullptr ? descriptor.torch_version : "";
  if (kind != PluginKind::hardware && torch_version != TORCH_VERSION) {
    return "built against LibTorch " + (torch_version.empty() ? "(none)" : torch_version) +
           ", but this nasq uses LibTorch " TORCH_VERSION "; rebuild the plugin";
  }
  if (descriptor.cxx11_abi != sdk::kCxx11Abi) {
    return "built with _GLIBCXX_USE_CXX11_ABI=" + std::to_string(descriptor.cxx11_abi) +
           ", but this nasq uses " + std::to_string(sdk::kCxx11Abi) + "; rebuild the plugin";
  }
  const std::string compiler = descriptor.compiler != nullptr ? descriptor.compiler : "";
  if (compiler != compiler_id()) {
    return "built with compiler '" + compiler + "', but this nasq was built with '" +
           compiler_id() + "'; rebuild the plugin with the same compiler";
  }
  return "";
}

const PluginInfo* PluginRegistry::register_loaded(std::shared_ptr<Loaded> loaded) {
  const auto key = std::make_pair(loaded->info.kind, loaded->info.name);
  const auto existing = loaded_.find(key);
  if (existing == loaded_.end()) {
    const PluginInfo* info = &loaded->info;
    loaded_.emplace(key, std::move(loaded));
    return info;
  }
  const PluginInfo& first = existing->second->info;
  std::error_code error;
  if (std::filesystem::equivalent(first.path, loaded->info.path, error)) return &first;
  if (first.path.parent_path() == loaded->info.path.parent_path()) {
    throw sdk::Error("two " + std::string(to_string(key.first)) + " plugins named '" + key.second +
                     "' in directory " + first.path.parent_path().string() + ": " +
                     first.path.filename().string() + " and " +
                     loaded->info.path.filename().string() + "; remove one of them");
  }
  log_warn(std::string(to_string(key.first)) + " plugin '" + key.second + "' from " +
           first.path.string() + " shadows the one in " + loaded->info.path.string());
  return &first;
}

void PluginRegistry::scan(const std::vector<std::filesystem::path>& directories) {
  std::vector<std::filesystem::path> scanned;
  for (const auto& directory : directories) {
    std::error_code error;
    if (!std::filesystem::is_directory(directory, error)) {
      log_debug("plugin directory " + directory.string() + " does not exist; skipped");
      continue;
    }
    // The same directory can be named twice (for example --plugin-path and
    // the default directory); its libraries are loaded once.
    const std::filesystem::path canonical = std::filesystem::canonical(directory, error);
    if (std::find(scanned.begin(), scanned.end(), canonical) != scanned.end()) continue;
    scanned.push_back(canonical);
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
      if (is_shared_library(entry.path())) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) load_file(file);
  }
}

std::vector<const PluginInfo*> PluginRegistry::plugins(std::optional<PluginKind> kind) const {
  std::vector<const PluginInfo*> result;
  for (const auto& [key, loaded] : loaded_) {
    if (!kind || key.first == *kind) result.push_back(&loaded->info);
  }
  return result;
}

const PluginInfo& PluginRegistry::find(PluginKind kind, const std::string& name) const {
  const auto found = loaded_.find({kind, name});
  if (found != loaded_.end()) return found->second->info;

  for (const auto& refused : refused_) {
    if (refused.name == name) {
      throw sdk::Error(std::string(to_string(kind)) + " plugin '" + name + "' in " +
                       refused.path.string() + " was refused: " + refused.reason);
    }
  }
  std::string message = "unknown " + std::string(to_string(kind)) + " plugin '" + name + "'";
  std::vector<std::string> names;
  std::string available;
  for (const PluginInfo* info : plugins(kind)) {
    names.push_back(info->name);
    available += "\n  " + info->name + " " + info->version + " (" + info->path.string() + ")";
  }
  const std::string suggestion = closest_match(name, names);
  if (!suggestion.empty()) message += "; did you mean '" + suggestion + "'?";
  message += available.empty() ? "; no plugins of this kind were found (check --plugin-path and "
                                 "NASQ_PLUGIN_PATH)"
                               : "; available " + std::string(to_string(kind)) + " plugins:" +
                                     available;
  throw sdk::Error(message);
}

PluginRegistry::RawObject PluginRegistry::create(PluginKind kind, const std::string& name,
                                                 const sdk::ConfigView& config,
                                                 sdk::PluginHost& host) const {
  find(kind, name);
  const Loaded& loaded = *loaded_.at({kind, name});
  void* object = nullptr;
  try {
    object = loaded.factory(&config, &host);
  } catch (const sdk::ConfigError& error) {
    throw sdk::ConfigError(error.key(), std::string(to_string(kind)) + " plugin '" + name +
                                            "' rejected its configuration: " + error.what());
  } catch (const std::exception& error) {
    throw sdk::Error(std::string(to_string(kind)) + " plugin '" + name + "' (" +
                     loaded.info.path.string() + ") failed to start: " + error.what());
  } catch (...) {
    throw sdk::Error(std::string(to_string(kind)) + " plugin '" + name + "' (" +
                     loaded.info.path.string() + ") failed to start: unknown exception");
  }
  if (object == nullptr) {
    throw sdk::Error(std::string(to_string(kind)) + " plugin '" + name +
                     "' returned no object from its factory");
  }
  return {object, loaded.library};
}

std::shared_ptr<sdk::HardwareModel> PluginRegistry::create_hardware_model(
    const std::string& name, const sdk::ConfigView& config, sdk::PluginHost& host) const {
  RawObject raw = create(PluginKind::hardware, name, config, host);
  auto* model = static_cast<sdk::HardwareModel*>(raw.object);
  return std::shared_ptr<sdk::HardwareModel>(
      model, [library = raw.library](sdk::HardwareModel* pointer) { delete pointer; });
}

}  // namespace nasq
