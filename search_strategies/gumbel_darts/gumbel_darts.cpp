// Strategy plugin "gumbel-darts": Gumbel-Softmax for the loss and the exact, differentiable expected cost.
#include "gumbel_strategy.hpp"

namespace {

class GumbelDarts final : public nasq::strategies::GumbelStrategy {
 public:
  GumbelDarts(const nasq::sdk::ConfigView& config, nasq::sdk::PluginHost&)
      : GumbelStrategy(
            nasq::strategies::read_gumbel_options(config, nasq::strategies::CostEstimator::exact)) {}

  static std::vector<nasq::sdk::KeySpec> keys() { return nasq::strategies::gumbel_keys(false); }
};

}  // namespace

NASQ_STRATEGY_PLUGIN(GumbelDarts, "gumbel-darts", "1.0.0")
