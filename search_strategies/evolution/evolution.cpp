// Strategy plugin "evolution": regularized (aging) evolution over the trained
// supernet, within the budgets.
#include "population.hpp"

namespace {

class EvolutionPlugin final : public nasq::strategies::RegularizedEvolution {
 public:
  EvolutionPlugin(const nasq::sdk::ConfigView& config, nasq::sdk::PluginHost&)
      : RegularizedEvolution(nasq::strategies::read_evolution_options(config)) {}

  static std::vector<nasq::sdk::KeySpec> keys() { return nasq::strategies::evolution_keys(); }
};

}  // namespace

NASQ_STRATEGY_PLUGIN(EvolutionPlugin, "evolution", "1.0.0")
