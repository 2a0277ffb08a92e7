// Population search over a trained supernet: the proposal loop with its budget
// filter, Pareto sets, and the random and aging-evolution proposers behind the
// random and evolution strategy plugins.
//
// Both strategies train the supernet weights on one uniformly sampled path per
// step (single-path training, so they keep no logits) and do all population
// work in derive(). There a Proposer suggests discrete architectures, and the
// loop costs each one, rejects those over a budget without evaluating them,
// evaluates the rest on the validation split and passes each result to
// Proposer::tell().
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nasq/sdk/search_strategy.hpp>

namespace nasq::strategies {

// True when every budget's metric of `cost` is at or below its budget, and
// always true without budgets.
bool is_feasible(const sdk::Cost& cost, const std::vector<sdk::Budget>& budgets);

// Largest ratio metric / budget over `budgets`, or 0 without budgets. It is at
// most 1 exactly when `cost` is feasible.
double budget_ratio(const sdk::Cost& cost, const std::vector<sdk::Budget>& budgets);

// Cost axis of the Pareto set: the first budget's metric, or energy_mj
// without budgets.
std::string pareto_metric(const std::vector<sdk::Budget>& budgets);

// True when `a` has a lower validation loss than `b`, where NaN counts as
// higher than every number.
bool has_lower_loss(const sdk::Candidate& a, const sdk::Candidate& b);

// Returns the candidates that no other candidate dominates on validation loss
// and cost `metric`, both lower-is-better. One candidate dominates another
// when it is no worse on both and strictly better on one, so different
// architectures with exactly equal loss and cost are all kept. A repeated
// architecture is kept once (the first occurrence), and candidates with a NaN
// loss are left out. The result is sorted by cost, then by loss.
std::vector<sdk::Candidate> pareto_set(const std::vector<sdk::Candidate>& candidates,
                                       const std::string& metric);

// One uniformly drawn choice index per decision.
sdk::ChoiceIndices uniform_architecture(const std::vector<sdk::Decision>& decisions,
                                        std::mt19937_64& rng);

// Source of discrete architectures for the proposal loop, independent of how
// an architecture is trained or costed. The loop calls propose(), drops an
// infeasible proposal without calling tell(), and calls tell() with the
// evaluated candidate of every feasible one before the next propose().
class Proposer {
 public:
  virtual ~Proposer();
  // Next architecture, one choice index per decision. Draws random numbers
  // only from `rng`.
  virtual sdk::ChoiceIndices propose(std::mt19937_64& rng) = 0;
  // The evaluated candidate of the last proposal, which was feasible.
  virtual void tell(const sdk::Candidate& candidate) = 0;
};

// Uniform random architectures (random search).
class UniformProposer final : public Proposer {
 public:
  explicit UniformProposer(std::vector<sdk::Decision> decisions);
  sdk::ChoiceIndices propose(std::mt19937_64& rng) override;
  void tell(const sdk::Candidate& candidate) override;

 private:
  std::vector<sdk::Decision> decisions_;
};

// Regularized (aging) evolution after Real et al., "Regularized Evolution for
// Image Classifier Architecture Search" (arXiv:1802.01548). Until the
// population is full it proposes uniform architectures. Then each proposal
// draws `tournament_size` distinct members, takes the one with the lowest
// validation loss as the parent (the oldest on a tie) and changes one random
// decision to another choice. Every candidate passed to tell() joins the
// population, and once the population is over `population_size` the oldest
// member leaves.
class AgingEvolutionProposer final : public Proposer {
 public:
  // Raises std::invalid_argument when tournament_size is 0 or larger than
  // population_size.
  AgingEvolutionProposer(std::vector<sdk::Decision> decisions, std::int64_t population_size,
                         std::int64_t tournament_size);
  sdk::ChoiceIndices propose(std::mt19937_64& rng) override;
  void tell(const sdk::Candidate& candidate) override;

  // Members, oldest first.
  const std::deque<sdk::Candidate>& population() const { return population_; }

 private:
  const sdk::Candidate& tournament(std::mt19937_64& rng) const;
  sdk::ChoiceIndices mutate(const sdk::ChoiceIndices& parent, std::mt19937_64& rng) const;

  std::vector<sdk::Decision> decisions_;
  std::vector<std::size_t> mutable_decisions_;  // decisions with two or more choices
  std::size_t population_size_;
  std::size_t tournament_size_;
  std::deque<sdk::Candidate> population_;
};

// Limits of one run of the proposal loop.
struct ProposalLimits {
  // Feasible proposals to evaluate. The loop ends when they are done.
  std::int64_t evaluations = 64;
  // Proposals rejected in a row after which the loop stops.
  std::int64_t max_attempts = 10000;
  // Latest proposals over which the rejection rate is measured, or 0 to turn
  // the rate check off.
  std::int64_t window = 0;
  // The loop stops when the rejection rate over a full window exceeds this.
  double max_rejection_rate = 1.0;
};

enum class StopReason {
  completed,           // every requested evaluation done
  attempts_exhausted,  // max_attempts proposals rejected in a row
  rejection_rate,      // rejection rate over the window above max_rejection_rate
};

struct ProposalResult {
  // Feasible candidates in evaluation order. A repeated architecture appears
  // once per proposal.
  std::vector<sdk::Candidate> evaluated;
  std::int64_t proposals = 0;
  std::int64_t rejections = 0;
  // Evaluations that reused the result of an earlier candidate of the same
  // architecture, which is valid because the weights do not change meanwhile.
  std::int64_t repeats = 0;
  StopReason stop = StopReason::completed;
  // Rejection rate over the last full window when the loop ended (0 when the
  // window never filled or is off).
  double window_rejection_rate = 0.0;
  // The rejected proposal with the smallest budget_ratio, for a fallback
  // when nothing feasible was found, and that ratio.
  std::optional<sdk::ChoiceIndices> closest_rejected;
  double closest_ratio = 0.0;

  // Rejections per proposal over the whole loop (0 without proposals).
  double rejection_rate() const;
};

// Runs the proposal loop: propose, cost with context.cost(), reject an
// infeasible architecture without evaluating it, evaluate a feasible one with
// context.evaluate() and tell the proposer. Logs progress about ten times.
ProposalResult run_proposals(sdk::SearchContext& context, Proposer& proposer,
                             const ProposalLimits& limits);

// Base of the population strategies: single-path weight training in step(),
// the proposal loop in derive(), empirical choice frequencies as
// probabilities(). The only state between steps is the step counter.
class PopulationStrategy : public sdk::SearchStrategy {
 public:
  void begin(sdk::SearchContext& context) override;
  // Trains the weights on one uniform one-hot path drawn from context.rng().
  void step(sdk::SearchContext& context) override;
  void end_epoch(sdk::SearchContext& context) override;
  // Frequency of each choice among the evaluated candidates (repeats
  // counted), uniform before any evaluation.
  std::vector<torch::Tensor> probabilities() const override;
  // Runs the proposal loop and returns the feasible candidate with the lowest
  // validation loss, or the cheaper one on a tie. Fills `pareto` with the
  // Pareto set of every evaluated candidate, and records and logs the
  // rejection rate. When no proposal was feasible, it evaluates and returns
  // the one closest to the budgets and logs a warning.
  sdk::ChoiceIndices derive(sdk::SearchContext& context,
                            std::vector<sdk::Candidate>& pareto) override;
  void save_state(torch::serialize::OutputArchive& archive) const override;
  void load_state(torch::serialize::InputArchive& archive) override;

  std::int64_t steps() const { return steps_; }

 protected:
  explicit PopulationStrategy(ProposalLimits limits);
  virtual std::unique_ptr<Proposer> make_proposer(
      const std::vector<sdk::Decision>& decisions) const = 0;

 private:
  void count_choices(const std::vector<sdk::Candidate>& evaluated);

  ProposalLimits limits_;
  std::vector<sdk::Decision> decisions_;
  std::vector<std::vector<std::int64_t>> choice_counts_;  // per decision, per choice
  std::int64_t steps_ = 0;
};

struct RandomSearchOptions {
  std::int64_t candidates = 64;  // feasible architectures evaluated
  std::int64_t max_attempts = 10000;
};

// Keys of the random plugin's table, and their values.
std::vector<sdk::KeySpec> random_search_keys();
RandomSearchOptions read_random_search_options(const sdk::ConfigView& config);

// Random search: uniform architectures, rejection-sampled to the budgets.
class RandomSearch : public PopulationStrategy {
 public:
  // Raises sdk::ConfigError for a value outside its key's range.
  explicit RandomSearch(RandomSearchOptions options);

 protected:
  std::unique_ptr<Proposer> make_proposer(
      const std::vector<sdk::Decision>& decisions) const override;
};

struct EvolutionOptions {
  std::int64_t population = 16;  // P, members kept
  std::int64_t sample = 4;       // S, tournament size
  std::int64_t cycles = 64;      // children evaluated after the initial population
  double max_rejection_rate = 0.95;
  std::int64_t window = 100;
  std::int64_t max_attempts = 10000;
};

// Keys of the evolution plugin's table, and their values.
std::vector<sdk::KeySpec> evolution_keys();
EvolutionOptions read_evolution_options(const sdk::ConfigView& config);

// Regularized evolution over the trained supernet (AgingEvolutionProposer).
class RegularizedEvolution : public PopulationStrategy {
 public:
  // Raises sdk::ConfigError for a value outside its key's range or a sample
  // larger than the population.
  explicit RegularizedEvolution(EvolutionOptions options);

 protected:
  std::unique_ptr<Proposer> make_proposer(
      const std::vector<sdk::Decision>& decisions) const override;

 private:
  EvolutionOptions options_;
};

}  // namespace nasq::strategies
