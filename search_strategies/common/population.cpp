// Proposal loop, budget filter, Pareto sets and proposers of the population strategies.
#include "population.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>

#include <torch/types.h>

#include <nasq/sdk/error.hpp>

namespace nasq::strategies {
namespace {

std::string format_number(double value) {
  std::ostringstream text;
  text.precision(4);
  text << value;
  return text.str();
}

void require_range(const char* key, double value, double min, double max) {
  if (value >= min && value <= max) return;
  throw sdk::ConfigError(key, std::string(key) + " = " + format_number(value) +
                                  " is outside the accepted range " + format_number(min) +
                                  " .. " + format_number(max));
}

// A choice index other than `current`, uniform among the other choices.
int other_choice(int current, std::size_t count, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> pick(0, static_cast<int>(count) - 2);
  const int drawn = pick(rng);
  return drawn >= current ? drawn + 1 : drawn;
}

// Returns the candidate with the lowest validation loss. A tie goes to the
// lower `metric` and then to the earliest, so the result is on the Pareto set.
const sdk::Candidate& best_candidate(const std::vector<sdk::Candidate>& evaluated,
                                     const std::string& metric) {
  const sdk::Candidate* best = &evaluated.front();
  for (const auto& candidate : evaluated) {
    const bool tie = !has_lower_loss(candidate, *best) && !has_lower_loss(*best, candidate);
    const bool cheaper =
        sdk::metric_value(candidate.cost, metric) < sdk::metric_value(best->cost, metric);
    if (has_lower_loss(candidate, *best) || (tie && cheaper)) best = &candidate;
  }
  return *best;
}

// Sliding count of rejections among the latest `size` proposals.
class RejectionWindow {
 public:
  explicit RejectionWindow(std::int64_t size) : size_(static_cast<std::size_t>(size)) {}

  void add(bool rejected) {
    if (size_ == 0) return;
    outcomes_.push_back(rejected);
    rejections_ += rejected ? 1 : 0;
    if (outcomes_.size() > size_) {
      rejections_ -= outcomes_.front() ? 1 : 0;
      outcomes_.pop_front();
    }
  }
  bool full() const { return size_ > 0 && outcomes_.size() == size_; }
  double rate() const {
    return full() ? static_cast<double>(rejections_) / static_cast<double>(size_) : 0.0;
  }

 private:
  std::size_t size_;
  std::deque<bool> outcomes_;
  std::int64_t rejections_ = 0;
};

void log_progress(sdk::SearchContext& context, const ProposalResult& result,
                  std::int64_t evaluations) {
  const std::string metric = pareto_metric(context.budgets());
  context.logger().info(
      "evaluated " + std::to_string(result.evaluated.size()) + "/" + std::to_string(evaluations) +
      " candidates, best validation loss " +
      format_number(best_candidate(result.evaluated, metric).validation_loss) + ", " +
      std::to_string(result.rejections) + " of " + std::to_string(result.proposals) +
      " proposals rejected");
}

}  // namespace

bool is_feasible(const sdk::Cost& cost, const std::vector<sdk::Budget>& budgets) {
  for (const auto& budget : budgets) {
    if (sdk::metric_value(cost, budget.metric) > budget.budget) return false;
  }
  return true;
}

double budget_ratio(const sdk::Cost& cost, const std::vector<sdk::Budget>& budgets) {
  double ratio = 0.0;
  for (const auto& budget : budgets) {
    const double value = sdk::metric_value(cost, budget.metric);
    // The core drops budgets of 0, so only a caller with its own list can pass
    // one. Any positive cost is then infinitely far over it.
    const double excess = budget.budget > 0.0 ? value / budget.budget
                          : value > 0.0       ? std::numeric_limits<double>::infinity()
                                              : 0.0;
    ratio = std::max(ratio, excess);
  }
  return ratio;
}

std::string pareto_metric(const std::vector<sdk::Budget>& budgets) {
  return budgets.empty() ? "energy_mj" : budgets.front().metric;
}

bool has_lower_loss(const sdk::Candidate& a, const sdk::Candidate& b) {
  if (std::isnan(a.validation_loss)) return false;
  if (std::isnan(b.validation_loss)) return true;
  return a.validation_loss < b.validation_loss;
}

std::vector<sdk::Candidate> pareto_set(const std::vector<sdk::Candidate>& candidates,
                                       const std::string& metric) {
  // Unique architectures with a numeric loss, sorted by (cost, loss).
  std::vector<sdk::Candidate> sorted;
  std::set<sdk::ChoiceIndices> seen;
  for (const auto& candidate : candidates) {
    if (std::isnan(candidate.validation_loss)) continue;
    if (!seen.insert(candidate.choices).second) continue;
    sorted.push_back(candidate);
  }
  const auto cost_of = [&](const sdk::Candidate& candidate) {
    return sdk::metric_value(candidate.cost, metric);
  };
  std::stable_sort(sorted.begin(), sorted.end(), [&](const auto& a, const auto& b) {
    const double cost_a = cost_of(a);
    const double cost_b = cost_of(b);
    if (cost_a != cost_b) return cost_a < cost_b;
    return a.validation_loss < b.validation_loss;
  });

  // Sweep groups of equal cost in increasing cost. A candidate survives when
  // its loss is the lowest of its group and strictly below every loss of
  // lower cost. Otherwise a cheaper or equally cheap candidate dominates it.
  std::vector<sdk::Candidate> front;
  double lowest_cheaper_loss = std::numeric_limits<double>::infinity();
  for (std::size_t first = 0; first < sorted.size();) {
    const double group_cost = cost_of(sorted[first]);
    std::size_t end = first;
    while (end < sorted.size() && cost_of(sorted[end]) == group_cost) ++end;
    const double group_loss = sorted[first].validation_loss;
    if (group_loss < lowest_cheaper_loss) {
      for (std::size_t i = first; i < end && sorted[i].validation_loss == group_loss; ++i) {
        front.push_back(sorted[i]);
      }
      lowest_cheaper_loss = group_loss;
    }
    first = end;
  }
  return front;
}

sdk::ChoiceIndices uniform_architecture(const std::vector<sdk::Decision>& decisions,
                                        std::mt19937_64& rng) {
  sdk::ChoiceIndices choices;
  choices.reserve(decisions.size());
  for (const auto& decision : decisions) {
    std::uniform_int_distribution<int> pick(0, static_cast<int>(decision.choices.size()) - 1);
    choices.push_back(pick(rng));
  }
  return choices;
}

Proposer::~Proposer() = default;

UniformProposer::UniformProposer(std::vector<sdk::Decision> decisions)
    : decisions_(std::move(decisions)) {}

sdk::ChoiceIndices UniformProposer::propose(std::mt19937_64& rng) {
  return uniform_architecture(decisions_, rng);
}

void UniformProposer::tell(const sdk::Candidate&) {}

AgingEvolutionProposer::AgingEvolutionProposer(std::vector<sdk::Decision> decisions,
                                               std::int64_t population_size,
                                               std::int64_t tournament_size)
    : decisions_(std::move(decisions)) {
  if (tournament_size < 1 || tournament_size > population_size) {
    throw std::invalid_argument("internal error: tournament size " +
                                std::to_string(tournament_size) + " is not in 1 .. population " +
                                std::to_string(population_size));
  }
  population_size_ = static_cast<std::size_t>(population_size);
  tournament_size_ = static_cast<std::size_t>(tournament_size);
  for (std::size_t d = 0; d < decisions_.size(); ++d) {
    if (decisions_[d].choices.size() >= 2) mutable_decisions_.push_back(d);
  }
}

sdk::ChoiceIndices AgingEvolutionProposer::propose(std::mt19937_64& rng) {
  if (population_.size() < population_size_) return uniform_architecture(decisions_, rng);
  return mutate(tournament(rng).choices, rng);
}

void AgingEvolutionProposer::tell(const sdk::Candidate& candidate) {
  population_.push_back(candidate);
  if (population_.size() > population_size_) population_.pop_front();
}

const sdk::Candidate& AgingEvolutionProposer::tournament(std::mt19937_64& rng) const {
  // Partial Fisher-Yates shuffle: the first tournament_size_ entries of
  // `members` become a uniform sample without replacement.
  std::vector<std::size_t> members(population_.size());
  std::iota(members.begin(), members.end(), std::size_t{0});
  for (std::size_t i = 0; i < tournament_size_; ++i) {
    std::uniform_int_distribution<std::size_t> pick(i, members.size() - 1);
    std::swap(members[i], members[pick(rng)]);
  }
  std::size_t parent = members.front();
  for (std::size_t i = 1; i < tournament_size_; ++i) {
    const std::size_t member = members[i];
    const bool better = has_lower_loss(population_[member], population_[parent]);
    const bool tie_and_older = !has_lower_loss(population_[parent], population_[member]) &&
                               member < parent;
    if (better || tie_and_older) parent = member;
  }
  return population_[parent];
}

sdk::ChoiceIndices AgingEvolutionProposer::mutate(const sdk::ChoiceIndices& parent,
                                                  std::mt19937_64& rng) const {
  sdk::ChoiceIndices child = parent;
  // NOTE: in a space where no decision has two choices the child equals its
  // parent, because there is nothing to mutate.
  if (mutable_decisions_.empty()) return child;
  std::uniform_int_distribution<std::size_t> pick(0, mutable_decisions_.size() - 1);
  const std::size_t d = mutable_decisions_[pick(rng)];
  child[d] = other_choice(child[d], decisions_[d].choices.size(), rng);
  return child;
}

namespace {

// The candidate of `choices`, evaluated on the first request only.
const sdk::Candidate& evaluate_once(sdk::SearchContext& context, const sdk::ChoiceIndices& choices,
                                    std::map<sdk::ChoiceIndices, sdk::Candidate>& known,
                                    ProposalResult& result) {
  const auto found = known.find(choices);
  if (found != known.end()) {
    ++result.repeats;
    return found->second;
  }
  return known.emplace(choices, context.evaluate(choices)).first->second;
}

void note_rejection(const sdk::ChoiceIndices& choices, double ratio, ProposalResult& result) {
  ++result.rejections;
  if (!result.closest_rejected || ratio < result.closest_ratio) {
    result.closest_rejected = choices;
    result.closest_ratio = ratio;
  }
}

}  // namespace

double ProposalResult::rejection_rate() const {
  return proposals > 0 ? static_cast<double>(rejections) / static_cast<double>(proposals) : 0.0;
}

ProposalResult run_proposals(sdk::SearchContext& context, Proposer& proposer,
                             const ProposalLimits& limits) {
  const auto& budgets = context.budgets();
  const std::size_t decision_count = context.decisions().size();
  const std::int64_t log_every = std::max<std::int64_t>(1, limits.evaluations / 10);
  ProposalResult result;
  RejectionWindow window(limits.window);
  std::map<sdk::ChoiceIndices, sdk::Candidate> evaluated_by_choices;
  std::int64_t rejected_in_row = 0;

  while (static_cast<std::int64_t>(result.evaluated.size()) < limits.evaluations) {
    const sdk::ChoiceIndices choices = proposer.propose(context.rng());
    if (choices.size() != decision_count) {
      throw std::logic_error("internal error: a proposer returned " +
                             std::to_string(choices.size()) + " choice indices for " +
                             std::to_string(decision_count) + " decisions");
    }
    ++result.proposals;

    // Cost first, because a cost is a table lookup while an evaluation runs
    // the validation split through the supernet.
    const sdk::Cost cost = context.cost(choices);
    const bool feasible = is_feasible(cost, budgets);
    window.add(!feasible);
    if (feasible) {
      rejected_in_row = 0;
      const sdk::Candidate& candidate =
          evaluate_once(context, choices, evaluated_by_choices, result);
      result.evaluated.push_back(candidate);
      proposer.tell(candidate);
      const auto done = static_cast<std::int64_t>(result.evaluated.size());
      if (done % log_every == 0) log_progress(context, result, limits.evaluations);
    } else {
      ++rejected_in_row;
      note_rejection(choices, budget_ratio(cost, budgets), result);
    }

    if (window.full() && window.rate() > limits.max_rejection_rate) {
      result.stop = StopReason::rejection_rate;
      break;
    }
    if (rejected_in_row >= limits.max_attempts) {
      result.stop = StopReason::attempts_exhausted;
      break;
    }
  }
  result.window_rejection_rate = window.rate();
  return result;
}

// ---- Strategy base ----------------------------------------------------------

PopulationStrategy::PopulationStrategy(ProposalLimits limits) : limits_(limits) {}

void PopulationStrategy::begin(sdk::SearchContext& context) {
  decisions_ = context.decisions();
  choice_counts_.clear();
  for (const auto& decision : decisions_) {
    choice_counts_.emplace_back(decision.choices.size(), 0);
  }
}

void PopulationStrategy::step(sdk::SearchContext& context) {
  const sdk::ChoiceIndices path = uniform_architecture(decisions_, context.rng());
  std::vector<torch::Tensor> weights;
  weights.reserve(decisions_.size());
  for (std::size_t d = 0; d < decisions_.size(); ++d) {
    torch::Tensor one_hot =
        torch::zeros({static_cast<std::int64_t>(decisions_[d].choices.size())}, torch::kFloat32);
    one_hot[path[d]] = 1.0;
    weights.push_back(one_hot);
  }
  context.train_weights(weights);
  ++steps_;
}

void PopulationStrategy::end_epoch(sdk::SearchContext&) {}

std::vector<torch::Tensor> PopulationStrategy::probabilities() const {
  std::vector<torch::Tensor> result;
  result.reserve(choice_counts_.size());
  for (const auto& counts : choice_counts_) {
    const std::int64_t total = std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
    const auto size = static_cast<std::int64_t>(counts.size());
    if (total == 0) {
      result.push_back(torch::full({size}, 1.0 / static_cast<double>(size), torch::kFloat32));
      continue;
    }
    torch::Tensor frequencies = torch::tensor(counts, torch::kFloat64) / static_cast<double>(total);
    result.push_back(frequencies.to(torch::kFloat32));
  }
  return result;
}

void PopulationStrategy::count_choices(const std::vector<sdk::Candidate>& evaluated) {
  for (const auto& candidate : evaluated) {
    for (std::size_t d = 0; d < choice_counts_.size(); ++d) {
      ++choice_counts_[d][static_cast<std::size_t>(candidate.choices[d])];
    }
  }
}

namespace {

void report_proposals(sdk::SearchContext& context, const ProposalResult& result,
                      const ProposalLimits& limits) {
  context.record("rejection_rate", result.rejection_rate());
  context.logger().info(
      std::to_string(result.proposals) + " architectures proposed, " +
      std::to_string(result.rejections) + " rejected for exceeding a budget (rejection rate " +
      format_number(result.rejection_rate()) + "), " + std::to_string(result.evaluated.size()) +
      " evaluated, " + std::to_string(result.repeats) + " of them repeats of an earlier one");
  const std::string evaluated = "evaluated " + std::to_string(result.evaluated.size()) + " of " +
                                std::to_string(limits.evaluations) + " candidates";
  if (result.stop == StopReason::rejection_rate) {
    context.logger().warn(
        "stopped early because few architectures meet the budgets: the rejection rate over the "
        "last " + std::to_string(limits.window) + " proposals is " +
        format_number(result.window_rejection_rate) + ", above max_rejection_rate " +
        format_number(limits.max_rejection_rate) + "; " + evaluated);
  } else if (result.stop == StopReason::attempts_exhausted) {
    context.logger().warn("stopped early after " + std::to_string(limits.max_attempts) +
                          " proposals in a row exceeded a budget (max_attempts); " + evaluated +
                          ". Raise max_attempts or the budget");
  }
}

// Evaluates the rejected proposal closest to the budgets, for a search that
// found nothing feasible.
sdk::Candidate evaluate_closest(sdk::SearchContext& context, const ProposalResult& result) {
  if (!result.closest_rejected) {
    throw std::logic_error("internal error: the proposal loop ended without any proposal");
  }
  context.logger().warn("no proposed architecture meets the budgets; deriving the closest one, "
                        "whose cost is " + format_number(result.closest_ratio) +
                        " times its budget. Raise the budget or max_attempts");
  return context.evaluate(*result.closest_rejected);
}

}  // namespace

sdk::ChoiceIndices PopulationStrategy::derive(sdk::SearchContext& context,
                                              std::vector<sdk::Candidate>& pareto) {
  const std::unique_ptr<Proposer> proposer = make_proposer(decisions_);
  ProposalResult result = run_proposals(context, *proposer, limits_);
  report_proposals(context, result, limits_);
  if (result.evaluated.empty()) result.evaluated.push_back(evaluate_closest(context, result));

  count_choices(result.evaluated);
  const std::string metric = pareto_metric(context.budgets());
  pareto = pareto_set(result.evaluated, metric);
  const sdk::Candidate& best = best_candidate(result.evaluated, metric);
  context.logger().info("best candidate: validation loss " + format_number(best.validation_loss) +
                        ", validation accuracy " + format_number(best.validation_accuracy) + ", " +
                        metric + " " + format_number(sdk::metric_value(best.cost, metric)) +
                        "; Pareto set of " + std::to_string(pareto.size()) + " candidates");
  return best.choices;
}

void PopulationStrategy::save_state(torch::serialize::OutputArchive& archive) const {
  archive.write("steps", torch::tensor(steps_));
}

void PopulationStrategy::load_state(torch::serialize::InputArchive& archive) {
  torch::Tensor steps;
  archive.read("steps", steps);
  steps_ = steps.item<std::int64_t>();
}

// ---- Random search and regularized evolution -------------------------------

namespace {

// Accepted ranges, shared by the key declarations and the option checks.
constexpr double kMaxCount = 1e6;
constexpr double kMaxAttempts = 1e9;

sdk::KeySpec integer_key(const char* name, std::int64_t value, double min, double max,
                         std::string doc) {
  return {name, sdk::KeyType::integer, std::to_string(value), "", std::move(doc), {}, min, max};
}

sdk::KeySpec max_attempts_key() {
  return integer_key("max_attempts", 10000, 1, kMaxAttempts,
                     "proposals in a row that may exceed a budget before the search stops "
                     "with the candidates evaluated so far");
}

ProposalLimits random_limits(const RandomSearchOptions& options) {
  require_range("candidates", static_cast<double>(options.candidates), 1, kMaxCount);
  require_range("max_attempts", static_cast<double>(options.max_attempts), 1, kMaxAttempts);
  ProposalLimits limits;
  limits.evaluations = options.candidates;
  limits.max_attempts = options.max_attempts;
  return limits;
}

ProposalLimits evolution_limits(const EvolutionOptions& options) {
  require_range("population", static_cast<double>(options.population), 1, kMaxCount);
  require_range("sample", static_cast<double>(options.sample), 1, kMaxCount);
  require_range("cycles", static_cast<double>(options.cycles), 0, kMaxCount);
  require_range("max_rejection_rate", options.max_rejection_rate, 0.0, 1.0);
  require_range("window", static_cast<double>(options.window), 1, kMaxCount);
  require_range("max_attempts", static_cast<double>(options.max_attempts), 1, kMaxAttempts);
  if (options.sample > options.population) {
    throw sdk::ConfigError("sample", "sample = " + std::to_string(options.sample) +
                                         " is larger than population = " +
                                         std::to_string(options.population) +
                                         "; the tournament draws distinct members, so set "
                                         "sample to at most population");
  }
  ProposalLimits limits;
  limits.evaluations = options.population + options.cycles;
  limits.max_attempts = options.max_attempts;
  limits.window = options.window;
  limits.max_rejection_rate = options.max_rejection_rate;
  return limits;
}

}  // namespace

std::vector<sdk::KeySpec> random_search_keys() {
  return {integer_key("candidates", 64, 1, kMaxCount,
                      "architectures within the budgets that are evaluated on the validation "
                      "split after the search epochs"),
          max_attempts_key()};
}

RandomSearchOptions read_random_search_options(const sdk::ConfigView& config) {
  RandomSearchOptions options;
  options.candidates = config.get_int("candidates");
  options.max_attempts = config.get_int("max_attempts");
  return options;
}

RandomSearch::RandomSearch(RandomSearchOptions options)
    : PopulationStrategy(random_limits(options)) {}

std::unique_ptr<Proposer> RandomSearch::make_proposer(
    const std::vector<sdk::Decision>& decisions) const {
  return std::make_unique<UniformProposer>(decisions);
}

std::vector<sdk::KeySpec> evolution_keys() {
  sdk::KeySpec rate{"max_rejection_rate", sdk::KeyType::floating, "0.95", "",
                    "the search stops early when more than this fraction of the last `window` "
                    "proposals exceed a budget"};
  rate.min = 0.0;
  rate.max = 1.0;
  return {integer_key("population", 16, 1, kMaxCount,
                      "population size P; the initial population is P random architectures "
                      "within the budgets"),
          integer_key("sample", 4, 1, kMaxCount,
                      "tournament size S: distinct members drawn per cycle, of which the one "
                      "with the lowest validation loss is the parent; at most population"),
          integer_key("cycles", 64, 0, kMaxCount,
                      "children evaluated after the initial population, one mutated decision "
                      "each"),
          rate,
          integer_key("window", 100, 1, kMaxCount,
                      "latest proposals over which the rejection rate is measured"),
          max_attempts_key()};
}

EvolutionOptions read_evolution_options(const sdk::ConfigView& config) {
  EvolutionOptions options;
  options.population = config.get_int("population");
  options.sample = config.get_int("sample");
  options.cycles = config.get_int("cycles");
  options.max_rejection_rate = config.get_double("max_rejection_rate");
  options.window = config.get_int("window");
  options.max_attempts = config.get_int("max_attempts");
  return options;
}

RegularizedEvolution::RegularizedEvolution(EvolutionOptions options)
    : PopulationStrategy(evolution_limits(options)), options_(options) {}

std::unique_ptr<Proposer> RegularizedEvolution::make_proposer(
    const std::vector<sdk::Decision>& decisions) const {
  return std::make_unique<AgingEvolutionProposer>(decisions, options_.population, options_.sample);
}

}  // namespace nasq::strategies
