// The population strategies on a toy search context: Pareto sets, the budget
// filter, aging evolution, early termination, derivation, determinism and
// checkpoint state.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <tuple>

#include <nasq/sdk/error.hpp>

#include "population.hpp"

using nasq::sdk::Candidate;
using nasq::sdk::ChoiceIndices;
using nasq::strategies::AgingEvolutionProposer;
using nasq::strategies::EvolutionOptions;
using nasq::strategies::RandomSearch;
using nasq::strategies::RandomSearchOptions;
using nasq::strategies::RegularizedEvolution;

namespace {

// Four decisions of three choices (81 architectures). Choice c of decision d
// costs c + 1 mJ and 2 * (c + 1) ms, and lowers the validation loss by
// c * (1 + d / 10), so larger architectures score better and cost more.
// Energy runs from 4 mJ to 12 mJ, and only the smallest architecture costs 4 mJ.
class ToyContext final : public nasq::sdk::SearchContext {
 public:
  explicit ToyContext(std::vector<double> energy_budgets, std::uint64_t seed = 11) {
    for (int d = 0; d < 4; ++d) {
      decisions_.push_back({"block" + std::to_string(d) + ".k", "k", d, {3, 5, 7}});
    }
    for (const double budget : energy_budgets) {
      budgets_.push_back({"energy_mj", budget, 1.0, false, 4.0, 12.0});
    }
    generator_.seed(seed);
  }

  const std::vector<nasq::sdk::Decision>& decisions() const override { return decisions_; }
  torch::Device device() const override { return torch::kCPU; }
  std::int64_t steps_per_epoch() const override { return 4; }
  std::int64_t batch_size() const override { return 2; }
  std::int64_t epochs() const override { return 1; }
  std::int64_t epoch() const override { return 0; }
  std::int64_t global_step() const override { return 0; }
  const std::vector<nasq::sdk::Budget>& budgets() const override { return budgets_; }
  std::mt19937_64& rng() override { return generator_; }
  nasq::sdk::Logger& logger() override { return logger_; }

  nasq::sdk::StepResult train_weights(const std::vector<torch::Tensor>& weights) override {
    trained_paths.push_back(weights);
    return {torch::zeros({}), 0.0, 2};
  }
  nasq::sdk::StepResult validation_loss(const std::vector<torch::Tensor>&) override {
    throw std::logic_error("population strategies must not ask for a validation batch");
  }
  Candidate evaluate(const ChoiceIndices& choices) override {
    const nasq::sdk::Cost architecture_cost = cost(choices);
    for (const auto& budget : budgets_) {
      if (architecture_cost.energy_mj > budget.budget) ++infeasible_evaluations;
    }
    evaluated.push_back(choices);
    const double loss = toy_loss(choices);
    return {choices, loss, 1.0 / loss, architecture_cost};
  }
  static double toy_loss(const ChoiceIndices& choices) {
    double loss = 10.0;
    for (std::size_t d = 0; d < choices.size(); ++d) {
      loss -= choices[d] * (1.0 + static_cast<double>(d) / 10.0);
    }
    return loss;
  }
  nasq::sdk::Cost cost(const ChoiceIndices& choices) override {
    ++cost_calls;
    nasq::sdk::Cost result;
    for (const int choice : choices) {
      result.energy_mj += choice + 1;
      result.latency_ms += 2.0 * (choice + 1);
    }
    return result;
  }
  bool cost_is_additive() const override { return true; }
  torch::Tensor expected_cost(const std::vector<torch::Tensor>&, const std::string&) override {
    throw std::logic_error("population strategies must not ask for an expected cost");
  }
  void record(const std::string& column, double value) override { records[column] = value; }

  bool logged(nasq::sdk::LogLevel level, const std::string& part) const {
    for (const auto& [line_level, line] : logger_.lines) {
      if (line_level == level && line.find(part) != std::string::npos) return true;
    }
    return false;
  }

  std::vector<std::vector<torch::Tensor>> trained_paths;
  std::vector<ChoiceIndices> evaluated;
  std::int64_t infeasible_evaluations = 0;
  std::int64_t cost_calls = 0;
  std::map<std::string, double> records;

 private:
  class CapturingLogger final : public nasq::sdk::Logger {
   public:
    void log(nasq::sdk::LogLevel level, std::string_view message) override {
      lines.emplace_back(level, std::string(message));
    }
    std::vector<std::pair<nasq::sdk::LogLevel, std::string>> lines;
  };
  std::vector<nasq::sdk::Decision> decisions_;
  std::vector<nasq::sdk::Budget> budgets_;
  std::mt19937_64 generator_;
  CapturingLogger logger_;
};

Candidate candidate(ChoiceIndices choices, double loss, double energy_mj, double latency_ms = 0.0) {
  Candidate result;
  result.choices = std::move(choices);
  result.validation_loss = loss;
  result.cost.energy_mj = energy_mj;
  result.cost.latency_ms = latency_ms;
  return result;
}

std::vector<ChoiceIndices> choices_of(const std::vector<Candidate>& candidates) {
  std::vector<ChoiceIndices> result;
  for (const auto& entry : candidates) result.push_back(entry.choices);
  return result;
}

double energy_of(ToyContext& context, const ChoiceIndices& choices) {
  return context.cost(choices).energy_mj;
}

std::string serialized_state(const nasq::strategies::PopulationStrategy& strategy) {
  torch::serialize::OutputArchive archive;
  strategy.save_state(archive);
  std::ostringstream stream;
  archive.save_to(stream);
  return stream.str();
}

EvolutionOptions small_evolution() {
  EvolutionOptions options;
  options.population = 4;
  options.sample = 2;
  options.cycles = 12;
  return options;
}

RandomSearchOptions small_random(std::int64_t candidates = 10) {
  RandomSearchOptions options;
  options.candidates = candidates;
  return options;
}

}  // namespace

TEST_CASE("Pareto set drops dominated candidates") {
  const std::vector<Candidate> candidates = {
      candidate({0}, 1.0, 5.0),  // on the front
      candidate({1}, 2.0, 3.0),  // on the front, cheapest
      candidate({2}, 1.5, 6.0),  // dominated by {0}: higher loss and cost
      candidate({3}, 3.0, 3.0),  // dominated by {1}: same cost, higher loss
      candidate({4}, 1.0, 7.0),  // dominated by {0}: same loss, higher cost
      candidate({5}, 0.5, 9.0),  // on the front, lowest loss
  };
  const auto front = nasq::strategies::pareto_set(candidates, "energy_mj");
  const std::vector<ChoiceIndices> expected = {{1}, {0}, {5}};
  CHECK(choices_of(front) == expected);
}

TEST_CASE("Pareto set keeps exact ties") {
  const std::vector<Candidate> candidates = {
      candidate({0}, 1.0, 5.0),
      candidate({1}, 1.0, 5.0),  // another architecture with the same scores
      candidate({0}, 1.0, 5.0),  // the first architecture again
      candidate({2}, std::numeric_limits<double>::quiet_NaN(), 1.0),
  };
  const auto front = nasq::strategies::pareto_set(candidates, "energy_mj");
  const std::vector<ChoiceIndices> expected = {{0}, {1}};
  CHECK(choices_of(front) == expected);
}

TEST_CASE("Pareto set uses the named metric") {
  const std::vector<Candidate> candidates = {
      candidate({0}, 1.0, 5.0, 9.0),
      candidate({1}, 2.0, 3.0, 1.0),
      candidate({2}, 1.5, 4.0, 0.5),
  };
  const std::vector<ChoiceIndices> by_energy = {{1}, {2}, {0}};
  const std::vector<ChoiceIndices> by_latency = {{2}, {0}};
  CHECK(choices_of(nasq::strategies::pareto_set(candidates, "energy_mj")) == by_energy);
  CHECK(choices_of(nasq::strategies::pareto_set(candidates, "latency_ms")) == by_latency);
  CHECK(nasq::strategies::pareto_set({}, "energy_mj").empty());
}

TEST_CASE("Pareto metric follows the first budget") {
  CHECK(nasq::strategies::pareto_metric({}) == "energy_mj");
  const std::vector<nasq::sdk::Budget> budgets = {{"latency_ms", 2.0, 1.0, false, 0.0, 9.0},
                                                  {"energy_mj", 3.0, 1.0, false, 0.0, 9.0}};
  CHECK(nasq::strategies::pareto_metric(budgets) == "latency_ms");
}

TEST_CASE("feasibility includes the budget itself") {
  nasq::sdk::Cost cost;
  cost.energy_mj = 3.0;
  cost.latency_ms = 5.0;
  const std::vector<nasq::sdk::Budget> energy = {{"energy_mj", 3.0, 1.0, false, 0.0, 9.0}};
  const std::vector<nasq::sdk::Budget> both = {{"energy_mj", 3.0, 1.0, false, 0.0, 9.0},
                                               {"latency_ms", 4.0, 1.0, false, 0.0, 9.0}};
  CHECK(nasq::strategies::is_feasible(cost, {}));
  CHECK(nasq::strategies::is_feasible(cost, energy));
  CHECK_FALSE(nasq::strategies::is_feasible(cost, both));
  CHECK(nasq::strategies::budget_ratio(cost, energy) == doctest::Approx(1.0));
  CHECK(nasq::strategies::budget_ratio(cost, both) == doctest::Approx(1.25));
  CHECK(nasq::strategies::budget_ratio(cost, {}) == 0.0);
}

TEST_CASE("budget filter never evaluates infeasible architectures") {
  for (const bool evolution : {false, true}) {
    INFO("evolution: " << evolution);
    ToyContext context({7.0});
    std::unique_ptr<nasq::strategies::PopulationStrategy> strategy;
    if (evolution) {
      strategy = std::make_unique<RegularizedEvolution>(small_evolution());
    } else {
      strategy = std::make_unique<RandomSearch>(small_random(20));
    }
    strategy->begin(context);
    std::vector<Candidate> pareto;
    strategy->derive(context, pareto);
    CHECK(context.infeasible_evaluations == 0);
    CHECK_FALSE(context.evaluated.empty());
    REQUIRE(context.records.count("rejection_rate") == 1);
    CHECK(context.records.at("rejection_rate") > 0.0);
    CHECK(context.records.at("rejection_rate") < 1.0);
    // Every proposal is costed, and the rejected ones are never evaluated.
    CHECK(context.cost_calls > static_cast<std::int64_t>(context.evaluated.size()));
    CHECK_FALSE(pareto.empty());
    for (const auto& entry : pareto) CHECK(entry.cost.energy_mj <= 7.0);
  }
}

TEST_CASE("random search evaluates each architecture once") {
  ToyContext context({});
  RandomSearch strategy(small_random(200));
  strategy.begin(context);
  std::vector<Candidate> pareto;
  strategy.derive(context, pareto);
  // 200 uniform draws from 81 architectures repeat some. Repeats reuse the
  // earlier evaluation because the weights do not change during derive().
  CHECK(context.evaluated.size() < 200);
  std::set<ChoiceIndices> unique(context.evaluated.begin(), context.evaluated.end());
  CHECK(unique.size() == context.evaluated.size());
  CHECK(context.records.at("rejection_rate") == 0.0);
  CHECK(context.logged(nasq::sdk::LogLevel::info, "repeats"));
}

TEST_CASE("aging evolution removes the oldest member") {
  ToyContext context({});
  AgingEvolutionProposer proposer(context.decisions(), 3, 2);
  std::mt19937_64 rng(5);
  std::vector<Candidate> told;
  for (int i = 0; i < 3; ++i) {
    const ChoiceIndices choices = proposer.propose(rng);
    told.push_back(candidate(choices, 5.0 - i, 1.0));
    proposer.tell(told.back());
    CHECK(proposer.population().size() == static_cast<std::size_t>(i + 1));
  }

  for (int cycle = 0; cycle < 5; ++cycle) {
    const ChoiceIndices child = proposer.propose(rng);
    bool one_mutation_away = false;
    for (const auto& member : proposer.population()) {
      int changed = 0;
      for (std::size_t d = 0; d < child.size(); ++d) changed += child[d] != member.choices[d];
      one_mutation_away = one_mutation_away || changed == 1;
    }
    CHECK(one_mutation_away);
    told.push_back(candidate(child, 1.0 - cycle, 1.0));
    proposer.tell(told.back());
    REQUIRE(proposer.population().size() == 3);
    const std::size_t newest = told.size() - 1;
    CHECK(proposer.population()[0].validation_loss == told[newest - 2].validation_loss);
    CHECK(proposer.population()[1].validation_loss == told[newest - 1].validation_loss);
    CHECK(proposer.population()[2].validation_loss == told[newest].validation_loss);
  }
}

TEST_CASE("tournament of the whole population mutates the best") {
  ToyContext context({});
  AgingEvolutionProposer proposer(context.decisions(), 3, 3);
  proposer.tell(candidate({0, 0, 0, 0}, 3.0, 1.0));
  proposer.tell(candidate({1, 1, 1, 1}, 1.0, 1.0));
  proposer.tell(candidate({2, 2, 2, 2}, 2.0, 1.0));
  std::mt19937_64 rng(9);
  for (int i = 0; i < 20; ++i) {
    const ChoiceIndices child = proposer.propose(rng);
    int changed = 0;
    for (const int choice : child) changed += choice != 1;
    CHECK(changed == 1);
  }
}

TEST_CASE("evolution stops when almost nothing is feasible") {
  // Only the smallest of 81 architectures meets a 4 mJ budget.
  ToyContext context({4.0});
  EvolutionOptions options = small_evolution();
  options.window = 20;
  options.max_rejection_rate = 0.9;
  options.cycles = 1000;
  RegularizedEvolution strategy(options);
  strategy.begin(context);
  std::vector<Candidate> pareto;
  const ChoiceIndices derived = strategy.derive(context, pareto);

  CHECK(context.cost_calls < options.population + options.cycles);
  REQUIRE(context.records.count("rejection_rate") == 1);
  CHECK(context.records.at("rejection_rate") > 0.9);
  CHECK(context.logged(nasq::sdk::LogLevel::warn, "max_rejection_rate"));
  CHECK(context.logged(nasq::sdk::LogLevel::info, "rejection rate"));
  // Either the one feasible architecture was found, or none was and the
  // fallback evaluated the closest one with a warning.
  const bool found = derived == ChoiceIndices{0, 0, 0, 0};
  CHECK(context.infeasible_evaluations == (found ? 0 : 1));
  CHECK(found != context.logged(nasq::sdk::LogLevel::warn, "no proposed architecture"));
}

TEST_CASE("random search stops after max_attempts rejections") {
  ToyContext context({4.0});
  RandomSearchOptions options = small_random(5);
  options.max_attempts = 3;
  RandomSearch strategy(options);
  strategy.begin(context);
  std::vector<Candidate> pareto;
  strategy.derive(context, pareto);
  CHECK(context.logged(nasq::sdk::LogLevel::warn, "max_attempts"));
  CHECK(context.records.at("rejection_rate") > 0.0);
  CHECK(context.infeasible_evaluations <= 1);  // at most the closest-architecture fallback
}

TEST_CASE("without feasible proposals the closest one is derived") {
  // A budget below every architecture. The core rejects such budgets, but the
  // strategy must still return an architecture.
  ToyContext context({3.0});
  RandomSearchOptions options = small_random(5);
  options.max_attempts = 30;
  RandomSearch strategy(options);
  strategy.begin(context);
  std::vector<Candidate> pareto;
  const ChoiceIndices derived = strategy.derive(context, pareto);
  REQUIRE(context.evaluated.size() == 1);
  CHECK(context.evaluated.front() == derived);
  CHECK(context.records.at("rejection_rate") == 1.0);
  CHECK(context.logged(nasq::sdk::LogLevel::warn, "no proposed architecture meets the budgets"));
  REQUIRE(pareto.size() == 1);
  CHECK(pareto.front().choices == derived);
}

TEST_CASE("derived architecture is feasible and best") {
  for (const bool evolution : {false, true}) {
    INFO("evolution: " << evolution);
    ToyContext context({7.0, 8.0});
    std::unique_ptr<nasq::strategies::PopulationStrategy> strategy;
    if (evolution) {
      strategy = std::make_unique<RegularizedEvolution>(small_evolution());
    } else {
      strategy = std::make_unique<RandomSearch>(small_random());
    }
    strategy->begin(context);
    std::vector<Candidate> pareto;
    const ChoiceIndices derived = strategy->derive(context, pareto);
    CHECK(energy_of(context, derived) <= 7.0);
    double lowest = std::numeric_limits<double>::infinity();
    for (const auto& choices : context.evaluated) {
      lowest = std::min(lowest, ToyContext::toy_loss(choices));
    }
    CHECK(ToyContext::toy_loss(derived) == lowest);
    // The Pareto set ends with the lowest loss and contains the derived one.
    REQUIRE_FALSE(pareto.empty());
    CHECK(pareto.back().validation_loss == lowest);
    const auto pareto_choices = choices_of(pareto);
    CHECK(std::find(pareto_choices.begin(), pareto_choices.end(), derived) != pareto_choices.end());
  }
}

TEST_CASE("evolution finds the best feasible architecture") {
  // Under a 6 mJ budget the one best feasible architecture spends both extra
  // mJ on the last decision, and 200 cycles of single mutations find it.
  ToyContext context({6.0});
  EvolutionOptions options = small_evolution();
  options.cycles = 200;
  RegularizedEvolution strategy(options);
  strategy.begin(context);
  std::vector<Candidate> pareto;
  const ChoiceIndices derived = strategy.derive(context, pareto);
  CHECK(derived == ChoiceIndices{0, 0, 0, 2});
  CHECK(ToyContext::toy_loss(derived) == doctest::Approx(10.0 - 2 * 1.3));
}

TEST_CASE("same seed gives the same search") {
  const auto run = [](bool evolution, std::uint64_t seed) {
    ToyContext context({8.0}, seed);
    std::unique_ptr<nasq::strategies::PopulationStrategy> strategy;
    if (evolution) {
      strategy = std::make_unique<RegularizedEvolution>(small_evolution());
    } else {
      strategy = std::make_unique<RandomSearch>(small_random());
    }
    strategy->begin(context);
    for (int i = 0; i < 5; ++i) strategy->step(context);
    std::vector<Candidate> pareto;
    const ChoiceIndices derived = strategy->derive(context, pareto);
    std::vector<ChoiceIndices> paths;
    for (const auto& weights : context.trained_paths) {
      ChoiceIndices path;
      for (const auto& weight : weights) {
        path.push_back(static_cast<int>(weight.argmax().item<std::int64_t>()));
      }
      paths.push_back(path);
    }
    return std::make_tuple(derived, choices_of(pareto), context.evaluated, paths);
  };
  for (const bool evolution : {false, true}) {
    INFO("evolution: " << evolution);
    CHECK(run(evolution, 21) == run(evolution, 21));
    CHECK(run(evolution, 21) != run(evolution, 22));
  }
}

TEST_CASE("step trains one uniform one-hot path") {
  ToyContext context({});
  RandomSearch strategy(small_random());
  strategy.begin(context);
  std::vector<std::vector<int>> seen(4, std::vector<int>(3, 0));
  for (int i = 0; i < 60; ++i) strategy.step(context);
  CHECK(strategy.steps() == 60);
  REQUIRE(context.trained_paths.size() == 60);
  for (const auto& weights : context.trained_paths) {
    REQUIRE(weights.size() == 4);
    for (std::size_t d = 0; d < weights.size(); ++d) {
      CHECK(weights[d].sizes() == torch::IntArrayRef{3});
      CHECK(weights[d].sum().item<double>() == 1.0);
      CHECK(weights[d].max().item<double>() == 1.0);
      ++seen[d][static_cast<std::size_t>(weights[d].argmax().item<std::int64_t>())];
    }
  }
  for (const auto& counts : seen) {
    for (const int count : counts) CHECK(count > 5);
  }
}

TEST_CASE("probabilities are choice frequencies") {
  ToyContext context({});
  RandomSearch strategy(small_random(30));
  strategy.begin(context);
  for (const auto& p : strategy.probabilities()) {
    CHECK(torch::allclose(p, torch::full({3}, 1.0 / 3.0)));
  }
  std::vector<Candidate> pareto;
  strategy.derive(context, pareto);

  // Repeated proposals count once per proposal. A fresh proposer on the same
  // seed draws the same 30 architectures, so it rebuilds the counts.
  ToyContext replay({});
  std::vector<std::vector<double>> counts(4, std::vector<double>(3, 0.0));
  nasq::strategies::UniformProposer proposer(replay.decisions());
  for (int i = 0; i < 30; ++i) {
    const ChoiceIndices choices = proposer.propose(replay.rng());
    for (std::size_t d = 0; d < choices.size(); ++d) {
      counts[d][static_cast<std::size_t>(choices[d])] += 1.0;
    }
  }
  const auto probabilities = strategy.probabilities();
  REQUIRE(probabilities.size() == 4);
  for (std::size_t d = 0; d < 4; ++d) {
    CHECK(probabilities[d].sum().item<double>() == doctest::Approx(1.0));
    for (std::size_t c = 0; c < 3; ++c) {
      CHECK(probabilities[d][static_cast<std::int64_t>(c)].item<double>() ==
            doctest::Approx(counts[d][c] / 30.0));
    }
  }
}

TEST_CASE("saved state restores the step counter") {
  ToyContext context({});
  RegularizedEvolution saved(small_evolution());
  saved.begin(context);
  for (int i = 0; i < 7; ++i) saved.step(context);

  std::istringstream stream(serialized_state(saved));
  torch::serialize::InputArchive archive;
  archive.load_from(stream);
  RegularizedEvolution restored(small_evolution());
  restored.begin(context);
  restored.load_state(archive);
  CHECK(restored.steps() == 7);
  CHECK(serialized_state(restored) == serialized_state(saved));
}

TEST_CASE("resumed search matches an uninterrupted one") {
  const auto finish = [](nasq::strategies::PopulationStrategy& strategy, ToyContext& context,
                         int steps) {
    for (int i = 0; i < steps; ++i) strategy.step(context);
    std::vector<Candidate> pareto;
    return strategy.derive(context, pareto);
  };
  ToyContext straight_context({8.0});
  RegularizedEvolution straight(small_evolution());
  straight.begin(straight_context);
  const ChoiceIndices expected = finish(straight, straight_context, 6);

  // Resuming restores the context's generator (the core saves it) and the
  // strategy's state.
  ToyContext first_context({8.0});
  RegularizedEvolution first(small_evolution());
  first.begin(first_context);
  for (int i = 0; i < 3; ++i) first.step(first_context);
  std::istringstream stream(serialized_state(first));
  torch::serialize::InputArchive archive;
  archive.load_from(stream);

  ToyContext resumed_context({8.0});
  resumed_context.rng() = first_context.rng();
  RegularizedEvolution resumed(small_evolution());
  resumed.begin(resumed_context);
  resumed.load_state(archive);
  CHECK(finish(resumed, resumed_context, 3) == expected);
  CHECK(resumed.steps() == 6);
}

TEST_CASE("invalid options raise config errors") {
  EvolutionOptions too_large_sample = small_evolution();
  too_large_sample.sample = 5;
  try {
    RegularizedEvolution strategy(too_large_sample);
    FAIL("sample > population was accepted");
  } catch (const nasq::sdk::ConfigError& error) {
    CHECK(error.key() == "sample");
    CHECK(std::string(error.what()).find("population = 4") != std::string::npos);
  }

  EvolutionOptions rate = small_evolution();
  rate.max_rejection_rate = 1.5;
  CHECK_THROWS_AS(RegularizedEvolution{rate}, nasq::sdk::ConfigError);
  EvolutionOptions window = small_evolution();
  window.window = 0;
  CHECK_THROWS_AS(RegularizedEvolution{window}, nasq::sdk::ConfigError);
  CHECK_THROWS_AS(RandomSearch{small_random(0)}, nasq::sdk::ConfigError);
  CHECK_THROWS_AS((AgingEvolutionProposer({}, 2, 3)), std::invalid_argument);
}

TEST_CASE("key defaults match the option structs") {
  const auto defaults = [](const std::vector<nasq::sdk::KeySpec>& keys) {
    std::map<std::string, std::string> result;
    for (const auto& key : keys) result[key.name] = key.default_toml;
    return result;
  };
  const auto random_keys = defaults(nasq::strategies::random_search_keys());
  const RandomSearchOptions random_options;
  CHECK(random_keys.size() == 2);
  CHECK(random_keys.at("candidates") == std::to_string(random_options.candidates));
  CHECK(random_keys.at("max_attempts") == std::to_string(random_options.max_attempts));

  const auto evolution_keys = defaults(nasq::strategies::evolution_keys());
  const EvolutionOptions evolution_options;
  CHECK(evolution_keys.size() == 6);
  CHECK(evolution_keys.at("population") == std::to_string(evolution_options.population));
  CHECK(evolution_keys.at("sample") == std::to_string(evolution_options.sample));
  CHECK(evolution_keys.at("cycles") == std::to_string(evolution_options.cycles));
  CHECK(std::stod(evolution_keys.at("max_rejection_rate")) == evolution_options.max_rejection_rate);
  CHECK(evolution_keys.at("window") == std::to_string(evolution_options.window));
  CHECK(evolution_keys.at("max_attempts") == std::to_string(evolution_options.max_attempts));
}
