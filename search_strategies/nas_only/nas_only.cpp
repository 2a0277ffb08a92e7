// Strategy plugin "nas-only": searches skip, expansion and kernel at fixed bit-widths.
#include <nasq/sdk/error.hpp>

#include "gumbel_strategy.hpp"

namespace {

class NasOnly final : public nasq::strategies::GumbelStrategy {
 public:
  NasOnly(const nasq::sdk::ConfigView& config, nasq::sdk::PluginHost&)
      : GumbelStrategy(nasq::strategies::read_gumbel_options(
            config, nasq::strategies::CostEstimator::reinforce)),
        bits_(static_cast<int>(config.get_int("bits"))) {}

  static std::vector<nasq::sdk::KeySpec> keys() {
    auto keys = nasq::strategies::gumbel_keys(true);
    keys.push_back({"bits", nasq::sdk::KeyType::integer, "8", "bits",
                    "bit-width of every bottleneck and depthwise conv", {}, 1, 32});
    return keys;
  }

 protected:
  void on_epoch(nasq::sdk::SearchContext&) override {
    const auto& decisions = decision_list();
    for (std::size_t d = 0; d < decisions.size(); ++d) {
      if (decisions[d].kind != "b1" && decisions[d].kind != "b2") continue;
      const int index = choice_index(d, bits_);
      if (index < 0) {
        throw nasq::sdk::Error("nas-only: " + decisions[d].name + " has no choice of " +
                               std::to_string(bits_) + " bits; set [search.nas-only] bits to a "
                               "value of the space's bit choices");
      }
      freeze(d, index);
    }
  }

 private:
  int bits_;
};

}  // namespace

NASQ_STRATEGY_PLUGIN(NasOnly, "nas-only", "1.0.0")
