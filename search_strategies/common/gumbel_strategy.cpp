// Gumbel-Softmax architecture search with a REINFORCE or exact cost term.
#include "gumbel_strategy.hpp"

#include <cmath>
#include <random>

#include <nasq/sdk/error.hpp>

namespace nasq::strategies {
namespace {

sdk::KeySpec float_key(std::string name, double value, std::string doc, double min, double max) {
  sdk::KeySpec spec{std::move(name), sdk::KeyType::floating, std::to_string(value), "",
                    std::move(doc)};
  spec.min = min;
  spec.max = max;
  return spec;
}

torch::Tensor one_hot(std::int64_t index, std::int64_t count) {
  return torch::one_hot(torch::tensor(index), count).to(torch::kFloat32);
}

}  // namespace

std::vector<sdk::KeySpec> gumbel_keys(bool reinforce) {
  sdk::KeySpec noise{"noise", sdk::KeyType::string, "\"per_batch\"", "",
                     "Gumbel noise drawn once per batch (fast) or per image (per_sample, slower)"};
  noise.allowed = {"per_batch", "per_sample"};
  std::vector<sdk::KeySpec> keys = {
      float_key("tau_initial", 5.0, "Gumbel-Softmax temperature of the first search epoch", 1e-6, 1e6),
      float_key("tau_decay", 0.956, "factor the temperature is multiplied by each epoch", 1e-6, 1.0),
      float_key("tau_min", 0.1, "lowest temperature; must be above 0", 1e-6, 1e6),
      float_key("theta_lr", 0.01, "Adam learning rate of the decision logits", 0.0, 100.0),
      float_key("theta_weight_decay", 5e-4, "Adam weight decay of the decision logits", 0.0, 1.0),
      noise};
  if (reinforce) {
    sdk::KeySpec samples{"samples", sdk::KeyType::integer, "8", "",
                         "architectures sampled and costed per step (k)"};
    samples.min = 1;
    samples.max = 4096;
    keys.push_back(samples);
    keys.push_back(float_key("baseline_decay", 0.9,
                             "decay of the exponential moving average cost baseline", 0.0, 1.0));
  }
  return keys;
}

GumbelOptions read_gumbel_options(const sdk::ConfigView& config, CostEstimator estimator) {
  GumbelOptions options;
  options.estimator = estimator;
  options.tau_initial = config.get_double("tau_initial");
  options.tau_decay = config.get_double("tau_decay");
  options.tau_min = config.get_double("tau_min");
  options.theta_lr = config.get_double("theta_lr");
  options.theta_weight_decay = config.get_double("theta_weight_decay");
  options.per_sample_noise = config.get_string("noise") == "per_sample";
  if (estimator == CostEstimator::reinforce) {
    options.samples = config.get_int("samples");
    options.baseline_decay = config.get_double("baseline_decay");
  }
  return options;
}

GumbelStrategy::GumbelStrategy(GumbelOptions options) : options_(options) {}

double GumbelStrategy::temperature(std::int64_t epoch) const {
  return std::max(options_.tau_min,
                  options_.tau_initial * std::pow(options_.tau_decay, static_cast<double>(epoch)));
}

void GumbelStrategy::begin(sdk::SearchContext& context) {
  decisions_ = context.decisions();
  logits_.clear();
  for (const auto& decision : decisions_) {
    logits_.push_back(torch::zeros({static_cast<std::int64_t>(decision.choices.size())},
                                   torch::requires_grad()));
  }
  frozen_.assign(decisions_.size(), -1);
  optimizer_ = std::make_unique<torch::optim::Adam>(
      logits_, torch::optim::AdamOptions(options_.theta_lr).weight_decay(options_.theta_weight_decay));
  baselines_.assign(context.budgets().size(), EmaBaseline(options_.baseline_decay));
  if (options_.estimator == CostEstimator::exact && !context.cost_is_additive()) {
    throw sdk::Error("gumbel-darts needs the exact expected cost, which only an additive hardware "
                     "model gives; use the reinforce-hybrid strategy with this hardware model");
  }
  on_epoch(context);
}

void GumbelStrategy::on_epoch(sdk::SearchContext&) {}

void GumbelStrategy::freeze(std::size_t index, int choice) { frozen_.at(index) = choice; }

int GumbelStrategy::choice_index(std::size_t index, int value) const {
  const auto& choices = decisions_.at(index).choices;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == value) return static_cast<int>(i);
  }
  return -1;
}

int GumbelStrategy::most_likely(std::size_t index) const {
  if (frozen_[index] >= 0) return frozen_[index];
  return static_cast<int>(logits_[index].argmax().item<std::int64_t>());
}

std::vector<torch::Tensor> GumbelStrategy::gumbel_weights(sdk::SearchContext& context,
                                                          bool attached) {
  const double tau = temperature(context.epoch());
  std::uniform_real_distribution<double> uniform(1e-10, 1.0 - 1e-10);
  std::vector<torch::Tensor> weights;
  weights.reserve(logits_.size());
  for (std::size_t d = 0; d < logits_.size(); ++d) {
    const std::int64_t count = logits_[d].size(0);
    if (frozen_[d] >= 0 || count == 1) {
      weights.push_back(one_hot(std::max(frozen_[d], 0), count));
      continue;
    }
    const std::int64_t rows = options_.per_sample_noise ? context.batch_size() : 1;
    std::vector<float> noise(static_cast<std::size_t>(rows * count));
    for (auto& value : noise) value = static_cast<float>(-std::log(-std::log(uniform(context.rng()))));
    torch::Tensor gumbel = torch::tensor(noise).reshape({rows, count});
    if (!options_.per_sample_noise) gumbel = gumbel.reshape({count});
    const torch::Tensor logits = attached ? logits_[d] : logits_[d].detach();
    weights.push_back(torch::softmax((logits + gumbel) / tau, -1));
  }
  return weights;
}

std::vector<torch::Tensor> GumbelStrategy::probabilities_attached() const {
  std::vector<torch::Tensor> result;
  for (std::size_t d = 0; d < logits_.size(); ++d) {
    const std::int64_t count = logits_[d].size(0);
    result.push_back(frozen_[d] >= 0 ? one_hot(frozen_[d], count) : torch::softmax(logits_[d], 0));
  }
  return result;
}

std::vector<torch::Tensor> GumbelStrategy::probabilities() const {
  std::vector<torch::Tensor> result;
  for (const auto& p : probabilities_attached()) result.push_back(p.detach());
  return result;
}

std::vector<int> GumbelStrategy::sample_architecture(
    sdk::SearchContext& context, const std::vector<torch::Tensor>& probabilities) {
  std::vector<int> choices;
  choices.reserve(probabilities.size());
  for (const auto& p : probabilities) {
    const torch::Tensor values = p.detach().to(torch::kFloat64).contiguous();
    std::discrete_distribution<int> pick(values.data_ptr<double>(),
                                         values.data_ptr<double>() + values.numel());
    choices.push_back(pick(context.rng()));
  }
  return choices;
}

torch::Tensor GumbelStrategy::reinforce_term(sdk::SearchContext& context,
                                             const sdk::Budget& budget, std::size_t budget_index) {
  const std::vector<torch::Tensor> probabilities = probabilities_attached();
  const double scale = budget.normalize ? 1.0 / budget.budget : 1.0;
  std::vector<std::vector<int>> samples;
  std::vector<double> costs;
  double raw_mean = 0.0;
  for (std::int64_t i = 0; i < options_.samples; ++i) {
    samples.push_back(sample_architecture(context, probabilities));
    const double cost = sdk::metric_value(context.cost(samples.back()), budget.metric);
    raw_mean += cost / static_cast<double>(options_.samples);
    costs.push_back(cost * scale);
  }
  context.record("sampled_" + budget.metric, raw_mean);
  if (context.cost_is_additive()) {
    torch::NoGradGuard no_grad;
    context.record("exact_" + budget.metric,
                   context.expected_cost(probabilities, budget.metric).item<double>());
  }

  const double baseline = baselines_[budget_index].update(costs);
  // The penalty [E J - c]_+ has a gradient only while the estimate exceeds
  // the budget. Below the budget, the term and its gradient are exactly zero.
  if (raw_mean <= budget.budget || budget.lambda == 0.0) return torch::zeros({});

  std::vector<torch::Tensor> log_probabilities;
  for (std::size_t d = 0; d < logits_.size(); ++d) {
    log_probabilities.push_back(frozen_[d] >= 0 ? torch::zeros_like(logits_[d])
                                                : torch::log_softmax(logits_[d], 0));
  }
  torch::Tensor surrogate = torch::zeros({});
  for (std::size_t i = 0; i < samples.size(); ++i) {
    torch::Tensor log_p = torch::zeros({});
    for (std::size_t d = 0; d < logits_.size(); ++d) {
      log_p = log_p + log_probabilities[d][samples[i][d]];
    }
    surrogate = surrogate + (costs[i] - baseline) * log_p;
  }
  return budget.lambda * surrogate / static_cast<double>(samples.size());
}

torch::Tensor GumbelStrategy::cost_term(sdk::SearchContext& context) {
  torch::Tensor total = torch::zeros({});
  const auto& budgets = context.budgets();
  for (std::size_t b = 0; b < budgets.size(); ++b) {
    const sdk::Budget& budget = budgets[b];
    if (options_.estimator == CostEstimator::reinforce) {
      total = total + reinforce_term(context, budget, b);
      continue;
    }
    const torch::Tensor expected = context.expected_cost(probabilities_attached(), budget.metric);
    const double scale = budget.normalize ? 1.0 / budget.budget : 1.0;
    const torch::Tensor excess = torch::relu((expected - budget.budget) * scale);
    total = total + (budget.lambda * excess).to(torch::kFloat32);
  }
  return total;
}

void GumbelStrategy::step(sdk::SearchContext& context) {
  on_epoch(context);
  context.train_weights(gumbel_weights(context, false));

  optimizer_->zero_grad();
  const sdk::StepResult validation = context.validation_loss(gumbel_weights(context, true));
  const torch::Tensor objective = validation.loss.cpu() + cost_term(context);
  // The objective is a constant when every decision is frozen and no
  // penalty applies; there is nothing to update then.
  if (objective.requires_grad()) objective.backward();
  for (const auto& logits : logits_) {
    if (logits.grad().defined() && !torch::isfinite(logits.grad()).all().item<bool>()) {
      throw sdk::Error("a decision logit gradient is not finite at step " +
                       std::to_string(context.global_step()) +
                       "; lower theta_lr or raise tau_min");
    }
  }
  optimizer_->step();
  ++steps_;
  context.record("temperature", temperature(context.epoch()));
}

void GumbelStrategy::end_epoch(sdk::SearchContext& context) {
  context.record("temperature", temperature(context.epoch()));
}

sdk::ChoiceIndices GumbelStrategy::derive(sdk::SearchContext&, std::vector<sdk::Candidate>&) {
  sdk::ChoiceIndices choices;
  for (std::size_t d = 0; d < logits_.size(); ++d) choices.push_back(most_likely(d));
  return choices;
}

void GumbelStrategy::save_state(torch::serialize::OutputArchive& archive) const {
  for (std::size_t d = 0; d < logits_.size(); ++d) {
    archive.write("logits." + std::to_string(d), logits_[d].detach());
  }
  archive.write("frozen", torch::tensor(std::vector<std::int64_t>(frozen_.begin(), frozen_.end())));
  std::vector<double> baseline_values;
  std::vector<std::int64_t> baseline_ready;
  for (const auto& baseline : baselines_) {
    baseline_values.push_back(baseline.value());
    baseline_ready.push_back(baseline.initialized() ? 1 : 0);
  }
  archive.write("baselines", torch::tensor(baseline_values, torch::kFloat64));
  archive.write("baselines_ready", torch::tensor(baseline_ready));
  archive.write("steps", torch::tensor(steps_));
  // LibTorch 1.13's zero_grad() zeroes a defined gradient instead of
  // resetting it, so Adam keeps stepping logits that had a gradient once and
  // are frozen now. A resumed search recreates those gradients to match.
  std::vector<std::uint8_t> gradient_defined;
  for (const auto& logits : logits_) gradient_defined.push_back(logits.grad().defined() ? 1 : 0);
  archive.write("logits_gradient_defined", torch::tensor(gradient_defined, torch::kUInt8));
  torch::serialize::OutputArchive optimizer;
  optimizer_->save(optimizer);
  archive.write("optimizer", optimizer);
}

void GumbelStrategy::load_state(torch::serialize::InputArchive& archive) {
  {
    torch::NoGradGuard no_grad;
    for (std::size_t d = 0; d < logits_.size(); ++d) {
      torch::Tensor saved;
      archive.read("logits." + std::to_string(d), saved);
      if (saved.sizes() != logits_[d].sizes()) {
        throw sdk::Error("checkpoint logits of " + decisions_[d].name + " have " +
                         std::to_string(saved.numel()) + " choices, the space has " +
                         std::to_string(logits_[d].numel()));
      }
      logits_[d].copy_(saved);
    }
  }
  torch::Tensor frozen;
  archive.read("frozen", frozen);
  for (std::size_t d = 0; d < frozen_.size(); ++d) {
    frozen_[d] = static_cast<int>(frozen[static_cast<std::int64_t>(d)].item<std::int64_t>());
  }
  torch::Tensor values;
  torch::Tensor ready;
  archive.read("baselines", values);
  archive.read("baselines_ready", ready);
  for (std::size_t b = 0; b < baselines_.size(); ++b) {
    baselines_[b].restore(values[static_cast<std::int64_t>(b)].item<double>(),
                          ready[static_cast<std::int64_t>(b)].item<std::int64_t>() != 0);
  }
  torch::Tensor steps;
  archive.read("steps", steps);
  steps_ = steps.item<std::int64_t>();
  // Checkpoints written before this key existed resume without these gradients.
  torch::Tensor gradient_defined;
  if (archive.try_read("logits_gradient_defined", gradient_defined)) {
    if (gradient_defined.numel() != static_cast<std::int64_t>(logits_.size())) {
      throw sdk::Error("invalid checkpoint: gradient flags for " +
                       std::to_string(gradient_defined.numel()) + " decisions, but the space has " +
                       std::to_string(logits_.size()));
    }
    for (std::size_t d = 0; d < logits_.size(); ++d) {
      const bool defined = gradient_defined[static_cast<std::int64_t>(d)].item<std::uint8_t>() != 0;
      logits_[d].mutable_grad() = defined ? torch::zeros_like(logits_[d]) : torch::Tensor();
    }
  }
  torch::serialize::InputArchive optimizer;
  archive.read("optimizer", optimizer);
  optimizer_->load(optimizer);
}

}  // namespace nasq::strategies
