// Creation of configured plugin objects from a stack, and the PluginHost
// services the core offers to them.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/config/stack.hpp"
#include "core/plugin/registry.hpp"

namespace nasq {

class PluginFactory {
 public:
  // Both references must outlive the factory and every object it creates.
  PluginFactory(Stack& stack, PluginRegistry& registry);
  ~PluginFactory();

  Stack& stack() { return stack_; }
  PluginRegistry& registry() { return registry_; }

  // Validates the table `[section.NAME]` against the plugin's keys, fills in
  // defaults and returns the view the factory of plugin NAME receives.
  std::unique_ptr<sdk::ConfigView> config_for(PluginKind kind, const std::string& section,
                                              const std::string& name);

  // Creates the hardware model called `name`, configured from [hardware.NAME].
  std::shared_ptr<sdk::HardwareModel> hardware_model(const std::string& name);

  // Calls the factory of plugin `name` of `kind`, configured from
  // [section.NAME]; the typed wrappers own the result.
  PluginRegistry::RawObject create(PluginKind kind, const std::string& section,
                                   const std::string& name);

  // Wraps a factory result of type T so that deleting it keeps the library
  // and the plugin's host alive until the object is gone.
  template <typename T>
  std::shared_ptr<T> own(const PluginRegistry::RawObject& raw, const std::string& name) {
    return std::shared_ptr<T>(static_cast<T*>(raw.object),
                              [library = raw.library, host = host_for(name)](T* pointer) {
                                delete pointer;
                              });
  }

  // Host for the plugin called `name` (one per plugin). The objects the
  // plugin creates hold a reference to it, so it outlives the factory.
  std::shared_ptr<sdk::PluginHost> host_for(const std::string& name);

 private:
  class Host;
  Stack& stack_;
  PluginRegistry& registry_;
  std::map<std::string, std::shared_ptr<Host>> hosts_;
};

}  // namespace nasq
