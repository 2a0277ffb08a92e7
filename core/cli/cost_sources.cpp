// Layer lists for `nasq cost` built through the network graph.
#include "core/cli/cost_sources.hpp"

#include "core/cli/command.hpp"
#include "core/space/architecture.hpp"
#include "core/space/network_graph.hpp"
#include "core/space/reference_networks.hpp"
#include "core/space/space_config.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::cli {
namespace {

// The graph's LayerSpec list with each layer's name; max pools are left out
// of both.
std::vector<NamedLayer> named_layers(const space::NetworkGraph& graph, std::int64_t batch) {
  const std::vector<sdk::LayerSpec> specs = graph.layer_specs(batch);
  std::vector<NamedLayer> layers;
  for (const auto vertex : graph.layers_in_order()) {
    const space::LayerNode& node = graph.layer(vertex);
    if (node.kind == space::NodeKind::max_pool) continue;
    NamedLayer layer;
    layer.name = node.name;
    layers.push_back(layer);
  }
  if (layers.size() != specs.size()) {
    throw sdk::Error("internal error: the network graph listed " + std::to_string(specs.size()) +
                     " layer specs for " + std::to_string(layers.size()) + " layers");
  }
  for (std::size_t i = 0; i < specs.size(); ++i) layers[i].spec = specs[i];
  return layers;
}

}  // namespace

std::vector<NamedLayer> network_layers(const std::string& network, std::int64_t input_size,
                                       std::int64_t batch, int weight_bits, int activation_bits) {
  return named_layers(space::reference_graph(network, input_size, weight_bits, activation_bits),
                      batch);
}

std::vector<NamedLayer> architecture_layers(Stack& stack, const std::string& arch_file,
                                            std::int64_t batch) {
  const space::SearchSpace search_space = space::load_search_space(stack);
  const space::Architecture architecture = space::load_architecture(search_space, arch_file);
  return named_layers(space::build_network(search_space, architecture), batch);
}

CostSession open_cost_session(const boost::program_options::variables_map& values,
                              const std::vector<std::string>& extra_overrides) {
  std::vector<std::string> overrides;
  if (values.count("set")) overrides = values["set"].as<std::vector<std::string>>();
  if (values.count("hardware")) overrides.push_back("hardware.plugin=" + values["hardware"].as<std::string>());
  overrides.insert(overrides.end(), extra_overrides.begin(), extra_overrides.end());

  CostSession session;
  session.stack = std::make_unique<Stack>(
      values.count("stack") ? Stack::load_file(values["stack"].as<std::string>(), overrides)
                            : Stack::parse("", "(defaults)", overrides));
  session.stack->validate_core();
  session.registry = std::make_unique<PluginRegistry>();
  session.registry->scan(search_path(values, session.stack.get()));
  session.factory = std::make_unique<PluginFactory>(*session.stack, *session.registry);
  session.plugin = session.stack->selected_plugin("hardware");
  return session;
}

bool declares_key(const PluginInfo& info, const std::string& key) {
  for (const auto& spec : info.keys) {
    if (spec.name == key) return true;
  }
  return false;
}

}  // namespace nasq::cli
