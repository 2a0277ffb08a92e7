// PluginFactory and the per-plugin host it hands to factories.
#include "core/plugin/host.hpp"

#include "core/util/log.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq {

class PluginFactory::Host final : public sdk::PluginHost {
 public:
  Host(PluginFactory& factory, const std::string& name)
      : factory_(factory), logger_(make_plugin_logger(name)) {}

  sdk::Logger& logger() override { return *logger_; }

  std::shared_ptr<sdk::HardwareModel> create_hardware_model(std::string_view name) override {
    return factory_.hardware_model(std::string(name));
  }

 private:
  PluginFactory& factory_;
  std::unique_ptr<sdk::Logger> logger_;
};

PluginFactory::PluginFactory(Stack& stack, PluginRegistry& registry)
    : stack_(stack), registry_(registry) {}

PluginFactory::~PluginFactory() = default;

std::shared_ptr<sdk::PluginHost> PluginFactory::host_for(const std::string& name) {
  auto& host = hosts_[name];
  if (!host) host = std::make_shared<Host>(*this, name);
  return host;
}

std::unique_ptr<sdk::ConfigView> PluginFactory::config_for(PluginKind kind,
                                                           const std::string& section,
                                                           const std::string& name) {
  const PluginInfo& info = registry_.find(kind, name);
  return stack_.plugin_view(section, name, info.keys);
}

PluginRegistry::RawObject PluginFactory::create(PluginKind kind, const std::string& section,
                                                const std::string& name) {
  const auto config = config_for(kind, section, name);
  const PluginInfo& info = registry_.find(kind, name);
  log_debug("creating " + std::string(to_string(kind)) + " plugin " + name + " " + info.version +
            " from " + info.path.string());
  try {
    return registry_.create(kind, name, *config, *host_for(name));
  } catch (const sdk::ConfigError& error) {
    // A plugin's own check of a value: add where the value was written.
    throw sdk::ConfigError(error.key(), config->location(error.key()) + ": " + error.what());
  }
}

std::shared_ptr<sdk::HardwareModel> PluginFactory::hardware_model(const std::string& name) {
  return own<sdk::HardwareModel>(create(PluginKind::hardware, "hardware", name), name);
}

}  // namespace nasq
