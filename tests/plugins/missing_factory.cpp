// Broken test plugin: a valid descriptor but no factory entry symbol.
#include <vector>

#include <nasq/sdk/plugin.hpp>

NASQ_SDK_EXPORT const nasq::sdk::PluginDescriptor* nasq_plugin_descriptor() {
  static const nasq::sdk::PluginDescriptor descriptor{
      nasq::sdk::kAbiVersion, "hardware", "factoryless-hardware", "1.0.0", "",
      nasq::sdk::kCxx11Abi, NASQ_SDK_COMPILER};
  return &descriptor;
}

NASQ_SDK_EXPORT void nasq_plugin_keys(std::vector<nasq::sdk::KeySpec>* keys) { keys->clear(); }
