// Plugin descriptor, host interface and the entry symbols every plugin exports.
//
// Loading order the core follows for each library:
//   1. nasq_plugin_descriptor(): read before anything else; the loader
//      refuses the library when abi_version, the LibTorch version (for
//      plugins that use LibTorch), the C++ ABI flag or the compiler differ
//      from the core's.
//   2. nasq_plugin_keys(): the keys of the plugin's config table.
//   3. nasq_create_<kind>(): only when a stack selects the plugin.
// Plugins must not register anything from static constructors. A library
// stays loaded while any object it created is alive. Use the
// NASQ_*_PLUGIN macros below rather than writing the entry points by hand.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "nasq/sdk/abi.hpp"
#include "nasq/sdk/config_view.hpp"
#include "nasq/sdk/logger.hpp"

namespace nasq::sdk {

class HardwareModel;

// Self-description of a plugin library. Plain C layout; abi_version is the
// first member so that any SDK version can read it.
struct PluginDescriptor {
  int abi_version;
  const char* kind;           // "hardware", "quantizer" or "strategy"
  const char* name;           // registry key, such as "bitfusion"
  const char* version;        // the plugin's own version, such as "1.2.0"
  const char* torch_version;  // LibTorch version, "" when LibTorch is not used
  int cxx11_abi;              // _GLIBCXX_USE_CXX11_ABI of the build, or -1
  const char* compiler;       // compiler id and major version, such as "gcc 12"
};

// Services the core offers to a plugin's factory and, through the reference
// the plugin keeps, to the objects it creates. Every object a plugin creates
// keeps its host (and so its logger) alive; create_hardware_model() may be
// called while the core's run is in progress.
class PluginHost {
 public:
  virtual ~PluginHost();
  // Logger whose lines carry the plugin's name.
  virtual Logger& logger() = 0;
  // Creates another hardware model configured from its table in the stack
  // (for composite models such as a lookup table with a fallback). Raises
  // Error when no such plugin exists.
  virtual std::shared_ptr<HardwareModel> create_hardware_model(std::string_view name) = 0;
};

}  // namespace nasq::sdk

#define NASQ_SDK_STRINGIFY_IMPL(x) #x
#define NASQ_SDK_STRINGIFY(x) NASQ_SDK_STRINGIFY_IMPL(x)

#if defined(__clang__)
#define NASQ_SDK_COMPILER "clang " NASQ_SDK_STRINGIFY(__clang_major__)
#elif defined(__GNUC__)
#define NASQ_SDK_COMPILER "gcc " NASQ_SDK_STRINGIFY(__GNUC__)
#else
#define NASQ_SDK_COMPILER "unknown"
#endif

#define NASQ_SDK_EXPORT extern "C" __attribute__((visibility("default")))

// Defines the descriptor and keys entry points. `torch_version` is "" for
// plugins that do not use LibTorch.
#define NASQ_SDK_DEFINE_DESCRIPTOR(Class, kind_literal, name_literal, version_literal,  \
                                   torch_version_literal)                              \
  NASQ_SDK_EXPORT const ::nasq::sdk::PluginDescriptor* nasq_plugin_descriptor() {      \
    static const ::nasq::sdk::PluginDescriptor descriptor{                             \
        ::nasq::sdk::kAbiVersion, kind_literal,       name_literal,                    \
        version_literal,          torch_version_literal, ::nasq::sdk::kCxx11Abi,        \
        NASQ_SDK_COMPILER};                                                            \
    return &descriptor;                                                                \
  }                                                                                    \
  NASQ_SDK_EXPORT void nasq_plugin_keys(std::vector<::nasq::sdk::KeySpec>* keys) {     \
    *keys = Class::keys();                                                             \
  }

// Declares a hardware-model plugin. `Class` derives from HardwareModel, has a
// constructor Class(const ConfigView&, PluginHost&) and a static
// std::vector<KeySpec> keys().
#define NASQ_HARDWARE_PLUGIN(Class, name_literal, version_literal)                      \
  NASQ_SDK_DEFINE_DESCRIPTOR(Class, "hardware", name_literal, version_literal, "")      \
  NASQ_SDK_EXPORT ::nasq::sdk::HardwareModel* nasq_create_hardware(                     \
      const ::nasq::sdk::ConfigView* config, ::nasq::sdk::PluginHost* host) {           \
    return new Class(*config, *host);                                                  \
  }
