// Strategy plugin "sequential": architecture search at the widest bits, then a bit search on the found architecture.
#include <nasq/sdk/error.hpp>

#include "gumbel_strategy.hpp"

namespace {

class Sequential final : public nasq::strategies::GumbelStrategy {
 public:
  Sequential(const nasq::sdk::ConfigView& config, nasq::sdk::PluginHost&)
      : GumbelStrategy(nasq::strategies::read_gumbel_options(
            config, nasq::strategies::CostEstimator::reinforce)),
        architecture_epochs_(config.get_int("architecture_epochs")) {}

  static std::vector<nasq::sdk::KeySpec> keys() {
    auto keys = nasq::strategies::gumbel_keys(true);
    nasq::sdk::KeySpec epochs{"architecture_epochs", nasq::sdk::KeyType::integer, "0", "",
                              "search epochs of the architecture phase at the widest bits; the "
                              "rest search bits (0: half of the search epochs, rounded up)"};
    epochs.min = 0;
    epochs.max = 1e6;
    keys.push_back(epochs);
    return keys;
  }

  void load_state(torch::serialize::InputArchive& archive) override {
    GumbelStrategy::load_state(archive);
    torch::Tensor free;
    archive.read("bits_free", free);
    bits_free_ = free.item<std::int64_t>() != 0;
  }

  void save_state(torch::serialize::OutputArchive& archive) const override {
    GumbelStrategy::save_state(archive);
    archive.write("bits_free", torch::tensor(static_cast<std::int64_t>(bits_free_ ? 1 : 0)));
  }

 protected:
  // Phase 1 freezes every bit decision at its widest choice; the first step
  // of phase 2 freezes skip, expansion and kernel at their most likely
  // choices and frees the bits. Frozen choices are saved in checkpoints, so
  // a resumed search stays in its phase.
  void on_epoch(nasq::sdk::SearchContext& context) override {
    const std::int64_t switch_epoch =
        architecture_epochs_ > 0 ? architecture_epochs_ : (context.epochs() + 1) / 2;
    const auto& decisions = decision_list();
    const bool phase_two = context.epoch() >= switch_epoch;
    for (std::size_t d = 0; d < decisions.size(); ++d) {
      const bool bits = decisions[d].kind == "b1" || decisions[d].kind == "b2";
      if (!phase_two && bits) freeze(d, widest(d));
    }
    if (!phase_two || bits_free_) return;
    for (std::size_t d = 0; d < decisions.size(); ++d) {
      const bool bits = decisions[d].kind == "b1" || decisions[d].kind == "b2";
      if (bits) {
        freeze(d, -1);
      } else {
        freeze(d, most_likely(d));
      }
    }
    bits_free_ = true;
    context.logger().info("sequential: architecture fixed, bit search starts at epoch " +
                          std::to_string(context.epoch()));
  }

 private:
  int widest(std::size_t d) const {
    const auto& choices = decision_list()[d].choices;
    return static_cast<int>(std::max_element(choices.begin(), choices.end()) - choices.begin());
  }

  std::int64_t architecture_epochs_;
  bool bits_free_ = false;
};

}  // namespace

NASQ_STRATEGY_PLUGIN(Sequential, "sequential", "1.0.0")
