// Strategy plugin "bits-only": searches b1 and b2 on a fixed architecture (the HAQ-style comparison).
#include <nasq/sdk/error.hpp>

#include "gumbel_strategy.hpp"

namespace {

class BitsOnly final : public nasq::strategies::GumbelStrategy {
 public:
  BitsOnly(const nasq::sdk::ConfigView& config, nasq::sdk::PluginHost&)
      : GumbelStrategy(nasq::strategies::read_gumbel_options(
            config, nasq::strategies::CostEstimator::reinforce)),
        expansion_(static_cast<int>(config.get_int("expansion"))),
        kernel_(static_cast<int>(config.get_int("kernel"))) {}

  static std::vector<nasq::sdk::KeySpec> keys() {
    auto keys = nasq::strategies::gumbel_keys(true);
    keys.push_back({"expansion", nasq::sdk::KeyType::integer, "6", "",
                    "expansion ratio of every block of the fixed architecture", {}, 1, 64});
    keys.push_back({"kernel", nasq::sdk::KeyType::integer, "3", "pixels",
                    "depthwise kernel of every block of the fixed architecture", {}, 1, 15});
    return keys;
  }

 protected:
  // Keeps every block (where keeping is offered) with the configured
  // expansion and kernel; only bit decisions are searched.
  void on_epoch(nasq::sdk::SearchContext&) override {
    const auto& decisions = decision_list();
    for (std::size_t d = 0; d < decisions.size(); ++d) {
      const std::string& kind = decisions[d].kind;
      if (kind == "b1" || kind == "b2") continue;
      int value = kernel_;
      if (kind == "s") value = 0;
      if (kind == "m") value = expansion_;
      const int index = choice_index(d, value);
      if (index < 0) {
        throw nasq::sdk::Error("bits-only: " + decisions[d].name + " has no choice " +
                               std::to_string(value) + "; set [search.bits-only] " +
                               (kind == "m" ? "expansion" : "kernel") +
                               " to a value of the space's choice set");
      }
      freeze(d, index);
    }
  }

 private:
  int expansion_;
  int kernel_;
};

}  // namespace

NASQ_STRATEGY_PLUGIN(BitsOnly, "bits-only", "1.0.0")
