// Broken test plugin: a quantizer that claims another LibTorch version.
#include <vector>

#include <nasq/sdk/plugin.hpp>

NASQ_SDK_EXPORT const nasq::sdk::PluginDescriptor* nasq_plugin_descriptor() {
  static const nasq::sdk::PluginDescriptor descriptor{
      nasq::sdk::kAbiVersion, "quantizer", "old-torch-quantizer", "1.0.0", "1.4.0",
      nasq::sdk::kCxx11Abi, NASQ_SDK_COMPILER};
  return &descriptor;
}

NASQ_SDK_EXPORT void nasq_plugin_keys(std::vector<nasq::sdk::KeySpec>* keys) { keys->clear(); }

NASQ_SDK_EXPORT void* nasq_create_quantizer(const void*, void*) { return nullptr; }
