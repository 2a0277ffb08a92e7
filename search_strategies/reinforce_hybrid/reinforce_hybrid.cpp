// Strategy plugin "reinforce-hybrid": Gumbel-Softmax for the loss, REINFORCE for the hardware cost.
#include "gumbel_strategy.hpp"

namespace {

class ReinforceHybrid final : public nasq::strategies::GumbelStrategy {
 public:
  ReinforceHybrid(const nasq::sdk::ConfigView& config, nasq::sdk::PluginHost&)
      : GumbelStrategy(nasq::strategies::read_gumbel_options(
            config, nasq::strategies::CostEstimator::reinforce)) {}

  static std::vector<nasq::sdk::KeySpec> keys() { return nasq::strategies::gumbel_keys(true); }
};

}  // namespace

NASQ_STRATEGY_PLUGIN(ReinforceHybrid, "reinforce-hybrid", "1.0.0")
