// Broken test plugin: a descriptor that claims SDK ABI version 99, which no nasq uses.
#include <vector>

#include <nasq/sdk/hardware_model.hpp>
#include <nasq/sdk/plugin.hpp>

NASQ_SDK_EXPORT const nasq::sdk::PluginDescriptor* nasq_plugin_descriptor() {
  static const nasq::sdk::PluginDescriptor descriptor{
      99, "hardware", "future-hardware", "3.0.0", "",
      nasq::sdk::kCxx11Abi, NASQ_SDK_COMPILER};
  return &descriptor;
}

NASQ_SDK_EXPORT void nasq_plugin_keys(std::vector<nasq::sdk::KeySpec>* keys) { keys->clear(); }

NASQ_SDK_EXPORT nasq::sdk::HardwareModel* nasq_create_hardware(const nasq::sdk::ConfigView*,
                                                              nasq::sdk::PluginHost*) {
  return nullptr;
}
