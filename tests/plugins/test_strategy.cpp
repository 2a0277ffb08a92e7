// Test search strategy: samples one uniform one-hot architecture per step.
#include <torch/torch.h>

#include <nasq/sdk/search_strategy.hpp>

namespace {

class UniformStrategy final : public nasq::sdk::SearchStrategy {
 public:
  UniformStrategy(const nasq::sdk::ConfigView& config, nasq::sdk::PluginHost&)
      : steps_(config.get_int("steps")) {}

  static std::vector<nasq::sdk::KeySpec> keys() {
    return {{"steps", nasq::sdk::KeyType::integer, "1", "", "steps taken so far (test key)"}};
  }

  void begin(nasq::sdk::SearchContext& context) override { decisions_ = context.decisions(); }

  void step(nasq::sdk::SearchContext& context) override {
    std::vector<torch::Tensor> weights;
    for (const auto& decision : decisions_) {
      const auto count = static_cast<std::int64_t>(decision.choices.size());
      std::uniform_int_distribution<std::int64_t> pick(0, count - 1);
      weights.push_back(torch::one_hot(torch::tensor(pick(context.rng())), count).to(torch::kFloat));
    }
    context.train_weights(weights);
    ++steps_;
  }

  void end_epoch(nasq::sdk::SearchContext&) override {}

  std::vector<torch::Tensor> probabilities() const override {
    std::vector<torch::Tensor> result;
    for (const auto& decision : decisions_) {
      const auto count = static_cast<std::int64_t>(decision.choices.size());
      result.push_back(torch::full({count}, 1.0 / static_cast<double>(count)));
    }
    return result;
  }

  nasq::sdk::ChoiceIndices derive(nasq::sdk::SearchContext&,
                                  std::vector<nasq::sdk::Candidate>&) override {
    return nasq::sdk::ChoiceIndices(decisions_.size(), 0);
  }

  void save_state(torch::serialize::OutputArchive& archive) const override {
    archive.write("steps", torch::tensor(steps_));
  }
  void load_state(torch::serialize::InputArchive& archive) override {
    torch::Tensor steps;
    archive.read("steps", steps);
    steps_ = steps.item<std::int64_t>();
  }

 private:
  std::int64_t steps_;
  std::vector<nasq::sdk::Decision> decisions_;
};

}  // namespace

NASQ_STRATEGY_PLUGIN(UniformStrategy, "test-strategy", "1.0.0")
