// Plugin discovery and loading through Boost.DLL: one registry per kind,
// keyed by name, with the descriptor checked before anything else is called.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nasq/sdk/config_view.hpp"
#include "nasq/sdk/hardware_model.hpp"
#include "nasq/sdk/plugin.hpp"

namespace nasq {

enum class PluginKind { hardware, quantizer, strategy };

const char* to_string(PluginKind kind) noexcept;
std::optional<PluginKind> parse_plugin_kind(std::string_view text) noexcept;

// Self-description of a loaded library, from its descriptor and keys.
struct PluginInfo {
  PluginKind kind = PluginKind::hardware;
  std::string name;
  std::string version;
  std::string torch_version;  // empty for plugins without LibTorch
  std::filesystem::path path;
  std::vector<sdk::KeySpec> keys;
};

// A library found in a plugin directory that the loader did not accept.
struct RefusedLibrary {
  std::filesystem::path path;
  std::string name;  // empty when the descriptor could not be read
  std::string reason;
};

// Directories searched for plugins, in order: `command_line` (--plugin-path),
// NASQ_PLUGIN_PATH (colon-separated), `stack_paths` ([plugins] paths), and the
// plugin directory of the build or install beside the executable. The current
// directory is never searched unless one of these names it.
std::vector<std::filesystem::path> plugin_search_path(
    const std::vector<std::string>& command_line, const std::vector<std::string>& stack_paths,
    const std::filesystem::path& stack_directory);

class PluginRegistry {
 public:
  PluginRegistry();
  ~PluginRegistry();
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // Loads every shared library in `directories` (in order; missing
  // directories are skipped with a debug line). A name found in an earlier
  // directory shadows the same name in a later one (logged as a warning).
  // Throws sdk::Error when one directory contains two libraries with the same
  // kind and name.
  void scan(const std::vector<std::filesystem::path>& directories);

  // Loads one library file; returns its info or records a refusal.
  // Throws sdk::Error when the file does not exist.
  const PluginInfo* load_file(const std::filesystem::path& file);

  std::vector<const PluginInfo*> plugins(std::optional<PluginKind> kind = std::nullopt) const;
  const std::vector<RefusedLibrary>& refused() const { return refused_; }

  // The plugin of `kind` called `name`. Throws sdk::Error that gives the
  // refusal reason when the library was refused, or lists every available
  // plugin of that kind with path and version.
  const PluginInfo& find(PluginKind kind, const std::string& name) const;

  // Object made by a plugin factory, with a handle that keeps its library
  // loaded; typed wrappers own `object` and hold `library` in their deleter.
  struct RawObject {
    void* object = nullptr;
    std::shared_ptr<void> library;
  };

  // Calls the plugin's factory. Throws sdk::Error naming the plugin when the
  // factory throws or returns null.
  RawObject create(PluginKind kind, const std::string& name, const sdk::ConfigView& config,
                   sdk::PluginHost& host) const;

  std::shared_ptr<sdk::HardwareModel> create_hardware_model(const std::string& name,
                                                            const sdk::ConfigView& config,
                                                            sdk::PluginHost& host) const;

 private:
  struct Loaded;
  static std::string check_build(const sdk::PluginDescriptor& descriptor, PluginKind kind);
  const PluginInfo* register_loaded(std::shared_ptr<Loaded> loaded);
  std::map<std::pair<PluginKind, std::string>, std::shared_ptr<Loaded>> loaded_;
  std::vector<RefusedLibrary> refused_;
};

}  // namespace nasq
