// The Gumbel-Softmax strategy engine on a toy search context: the objective's
// numbers, the REINFORCE estimate and baseline, temperatures, noise modes and
// numerical safety.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <cmath>
#include <functional>

#include "gumbel_strategy.hpp"
#include "objective.hpp"

using nasq::strategies::CostEstimator;
using nasq::strategies::GumbelOptions;
using nasq::strategies::GumbelStrategy;

namespace {

// Two decisions of three choices; the cost of an architecture is the sum of
// per-choice costs, so it is additive and its expectation is exact.
class ToyContext final : public nasq::sdk::SearchContext {
 public:
  ToyContext(std::vector<std::vector<double>> choice_costs, double budget, double lambda)
      : choice_costs_(std::move(choice_costs)) {
    for (std::size_t d = 0; d < choice_costs_.size(); ++d) {
      decisions_.push_back({"block0.d" + std::to_string(d), "k", 0, {3, 5, 7}});
    }
    budgets_.push_back({"energy_mj", budget, lambda, false, 0.0, 100.0});
    generator_.seed(7);
  }

  const std::vector<nasq::sdk::Decision>& decisions() const override { return decisions_; }
  torch::Device device() const override { return torch::kCPU; }
  std::int64_t steps_per_epoch() const override { return 10; }
  std::int64_t batch_size() const override { return 4; }
  std::int64_t epochs() const override { return 5; }
  std::int64_t epoch() const override { return epoch_; }
  std::int64_t global_step() const override { return 0; }
  const std::vector<nasq::sdk::Budget>& budgets() const override { return budgets_; }
  std::mt19937_64& rng() override { return generator_; }
  nasq::sdk::Logger& logger() override { return logger_; }

  nasq::sdk::StepResult train_weights(const std::vector<torch::Tensor>& weights) override {
    train_weights_seen = weights;
    return {torch::zeros({}), 0.0, 4};
  }
  // A loss that does not depend on the weights, so only the cost term moves
  // the logits (unless loss_weights is set).
  nasq::sdk::StepResult validation_loss(const std::vector<torch::Tensor>& weights) override {
    validation_weights_seen = weights;
    torch::Tensor loss = torch::zeros({});
    if (loss_weights) loss = loss + (weights[0] * torch::tensor({1.0f, 0.0f, 0.0f})).sum();
    return {loss, 0.0, 4};
  }
  nasq::sdk::Candidate evaluate(const nasq::sdk::ChoiceIndices& choices) override {
    return {choices, 0.0, 0.0, cost(choices)};
  }
  nasq::sdk::Cost cost(const nasq::sdk::ChoiceIndices& choices) override {
    nasq::sdk::Cost cost;
    for (std::size_t d = 0; d < choices.size(); ++d) cost.energy_mj += choice_costs_[d][choices[d]];
    return cost;
  }
  bool cost_is_additive() const override { return true; }
  torch::Tensor expected_cost(const std::vector<torch::Tensor>& probabilities,
                              const std::string&) override {
    torch::Tensor total = torch::zeros({}, torch::kFloat64);
    for (std::size_t d = 0; d < probabilities.size(); ++d) {
      total = total + (probabilities[d].to(torch::kFloat64) *
                       torch::tensor(choice_costs_[d], torch::kFloat64)).sum();
    }
    return total;
  }
  void record(const std::string& column, double value) override { records[column] = value; }

  std::int64_t epoch_ = 0;
  bool loss_weights = false;
  std::vector<torch::Tensor> train_weights_seen;
  std::vector<torch::Tensor> validation_weights_seen;
  std::map<std::string, double> records;

 private:
  class NullLogger final : public nasq::sdk::Logger {
    void log(nasq::sdk::LogLevel, std::string_view) override {}
  };
  std::vector<std::vector<double>> choice_costs_;
  std::vector<nasq::sdk::Decision> decisions_;
  std::vector<nasq::sdk::Budget> budgets_;
  std::mt19937_64 generator_;
  NullLogger logger_;
};

GumbelOptions options(CostEstimator estimator, std::int64_t samples = 32) {
  GumbelOptions result;
  result.estimator = estimator;
  result.samples = samples;
  result.theta_weight_decay = 0.0;
  result.theta_lr = 0.1;
  return result;
}

}  // namespace

TEST_CASE("objective numbers") {
  CHECK(nasq::strategies::objective(2.0, 3.0, 2.0, 0.5, false) == doctest::Approx(2.5));
  CHECK(nasq::strategies::objective(2.0, 3.0, 2.0, 0.5, true) == doctest::Approx(2.25));
  CHECK(nasq::strategies::penalty(1.5, 2.0, 0.5, false) == 0.0);
  CHECK(nasq::strategies::penalty(3.0, 0.0, 0.5, false) == 0.0);
}

TEST_CASE("EMA baseline follows its formula") {
  nasq::strategies::EmaBaseline baseline(0.9);
  CHECK_FALSE(baseline.initialized());
  CHECK(baseline.update({2.0, 4.0}) == doctest::Approx(3.0));
  CHECK(baseline.value() == doctest::Approx(3.0));
  CHECK(baseline.update({10.0}) == doctest::Approx(3.0));
  CHECK(baseline.value() == doctest::Approx(0.9 * 3.0 + 0.1 * 10.0));
  const double before = baseline.value();
  CHECK(baseline.update({0.0, 1.0}) == doctest::Approx(before));
  CHECK(baseline.value() == doctest::Approx(0.9 * before + 0.1 * 0.5));
}

TEST_CASE("samples under budget give zero penalty and gradient") {
  ToyContext context({{1.0, 2.0, 3.0}, {1.0, 1.0, 1.0}}, 100.0, 1.0);
  GumbelStrategy strategy(options(CostEstimator::reinforce));
  strategy.begin(context);
  const auto before = strategy.probabilities();
  for (int i = 0; i < 3; ++i) strategy.step(context);
  const auto after = strategy.probabilities();
  for (std::size_t d = 0; d < before.size(); ++d) CHECK(torch::equal(before[d], after[d]));
}

TEST_CASE("equal costs give zero REINFORCE gradient after warm-up") {
  ToyContext context({{5.0, 5.0, 5.0}, {5.0, 5.0, 5.0}}, 1.0, 1.0);
  GumbelStrategy strategy(options(CostEstimator::reinforce));
  strategy.begin(context);
  const auto before = strategy.probabilities();
  for (int i = 0; i < 3; ++i) strategy.step(context);
  const auto after = strategy.probabilities();
  for (std::size_t d = 0; d < before.size(); ++d) CHECK(torch::allclose(before[d], after[d]));
  CHECK(context.records.at("sampled_energy_mj") == doctest::Approx(10.0));
}

TEST_CASE("costlier choice loses probability after one update") {
  for (const auto estimator : {CostEstimator::reinforce, CostEstimator::exact}) {
    ToyContext context({{10.0, 1.0, 1.0}, {1.0, 1.0, 1.0}}, 0.5, 1.0);
    GumbelStrategy strategy(options(estimator, 256));
    strategy.begin(context);
    strategy.step(context);
    const auto probabilities = strategy.probabilities();
    CHECK(probabilities[0][0].item<double>() < 1.0 / 3.0);
    CHECK(probabilities[0][1].item<double>() > 1.0 / 3.0);
  }
}

TEST_CASE("exact estimator records no sampled cost") {
  ToyContext context({{10.0, 1.0, 1.0}, {1.0, 1.0, 1.0}}, 0.5, 1.0);
  GumbelStrategy strategy(options(CostEstimator::exact));
  strategy.begin(context);
  strategy.step(context);
  CHECK(context.records.count("sampled_energy_mj") == 0);
  CHECK(context.records.count("temperature") == 1);
}

TEST_CASE("temperature anneals to its floor") {
  GumbelOptions schedule = options(CostEstimator::reinforce);
  schedule.tau_initial = 5.0;
  schedule.tau_decay = 0.5;
  schedule.tau_min = 0.4;
  GumbelStrategy strategy(schedule);
  CHECK(strategy.temperature(0) == doctest::Approx(5.0));
  CHECK(strategy.temperature(1) == doctest::Approx(2.5));
  CHECK(strategy.temperature(3) == doctest::Approx(0.625));
  CHECK(strategy.temperature(4) == doctest::Approx(0.4));
  CHECK(strategy.temperature(100) == doctest::Approx(0.4));
}

// Gives the test access to the logits.
class ExposedStrategy final : public GumbelStrategy {
 public:
  using GumbelStrategy::GumbelStrategy;
  void set_logits(const std::vector<torch::Tensor>& values) {
    torch::NoGradGuard no_grad;
    for (std::size_t d = 0; d < values.size(); ++d) logits()[d].copy_(values[d]);
  }
  const std::vector<torch::Tensor>& current_logits() { return logits(); }
};

TEST_CASE("huge logits at the temperature floor stay finite") {
  for (const auto estimator : {CostEstimator::reinforce, CostEstimator::exact}) {
    ToyContext context({{10.0, 1.0, 1.0}, {1.0, 2.0, 3.0}}, 0.5, 1.0);
    context.loss_weights = true;
    context.epoch_ = 1000;
    GumbelOptions floor = options(estimator);
    floor.tau_min = 1e-3;
    ExposedStrategy strategy(floor);
    strategy.begin(context);
    strategy.set_logits({torch::tensor({1e4f, -1e4f, 0.0f}), torch::tensor({-1e4f, 1e4f, -1e4f})});
    for (int i = 0; i < 3; ++i) strategy.step(context);
    for (const auto& weights : context.train_weights_seen) CHECK(torch::isfinite(weights).all().item<bool>());
    for (const auto& weights : context.validation_weights_seen) CHECK(torch::isfinite(weights).all().item<bool>());
    for (const auto& logits : strategy.current_logits()) {
      CHECK(torch::isfinite(logits).all().item<bool>());
      REQUIRE(logits.grad().defined());
      CHECK(torch::isfinite(logits.grad()).all().item<bool>());
    }
    for (const auto& p : strategy.probabilities()) CHECK(torch::isfinite(p).all().item<bool>());
  }
}

TEST_CASE("noise modes are distinguishable") {
  ToyContext per_batch_context({{1.0, 2.0, 3.0}, {1.0, 2.0, 3.0}}, 100.0, 1.0);
  GumbelStrategy per_batch(options(CostEstimator::reinforce));
  per_batch.begin(per_batch_context);
  per_batch.step(per_batch_context);
  CHECK(per_batch_context.train_weights_seen[0].dim() == 1);

  ToyContext per_sample_context({{1.0, 2.0, 3.0}, {1.0, 2.0, 3.0}}, 100.0, 1.0);
  GumbelOptions per_sample_options = options(CostEstimator::reinforce);
  per_sample_options.per_sample_noise = true;
  GumbelStrategy per_sample(per_sample_options);
  per_sample.begin(per_sample_context);
  per_sample.step(per_sample_context);
  const torch::Tensor weights = per_sample_context.train_weights_seen[0];
  REQUIRE(weights.dim() == 2);
  CHECK(weights.size(0) == 4);
  CHECK_FALSE(torch::allclose(weights[0], weights[1]));
  CHECK(torch::allclose(weights.sum(1), torch::ones({4})));
}
