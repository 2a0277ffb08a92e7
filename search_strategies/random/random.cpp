// Strategy plugin "random": uniform random architectures within the budgets,
// scored on the trained supernet.
#include "population.hpp"

namespace {

class RandomPlugin final : public nasq::strategies::RandomSearch {
 public:
  RandomPlugin(const nasq::sdk::ConfigView& config, nasq::sdk::PluginHost&)
      : RandomSearch(nasq::strategies::read_random_search_options(config)) {}

  static std::vector<nasq::sdk::KeySpec> keys() { return nasq::strategies::random_search_keys(); }
};

}  // namespace

NASQ_STRATEGY_PLUGIN(RandomPlugin, "random", "1.0.0")
