// Search strategy interface: the algorithm that chooses architectures, driven
// step by step by the core. Uses LibTorch.
//
// Contract:
// - The core creates one strategy per search through the plugin factory and
//   owns it. It calls begin() once, then load_state() when resuming, then
//   step() steps_per_epoch() times per epoch, end_epoch() after each epoch,
//   and finally derive() once. save_state() may be called after any step()
//   or end_epoch(); a strategy restored with load_state() must continue
//   exactly as the saved one would have. Warm-up epochs, which train the
//   weights on uniformly sampled paths, run before the first step() and are
//   not counted in epochs().
// - The SearchContext gives access to everything the core owns: the space's
//   decisions, the supernet's weight training and validation loss, the cost
//   of discrete architectures, random numbers, and the run record. The
//   context outlives every call; the strategy must not keep tensors that the
//   context returns beyond the call, except its own parameters.
// - Threading: every call comes from one thread.
// - Errors: nasq::sdk::Error for problems the user can fix (for example a
//   hardware model that is not additive when the strategy needs one); the
//   core stops the search, keeps the last checkpoint and reports the message.
#pragma once

#include <torch/serialize/archive.h>
#include <torch/types.h>
#include <torch/version.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "nasq/sdk/hardware_model.hpp"
#include "nasq/sdk/plugin.hpp"

namespace nasq::sdk {

// One categorical decision of the space, such as the kernel of block 4.
struct Decision {
  std::string name;          // "block4.k"
  std::string kind;          // "s", "m", "k", "b1" or "b2"
  int block = 0;             // MB block index, from 0
  std::vector<int> choices;  // choice values (skip: 0 = keep, 1 = skip)
};

// A discrete architecture: one choice index per decision, in decisions() order.
using ChoiceIndices = std::vector<int>;

// Result of one training or validation step.
struct StepResult {
  torch::Tensor loss;  // scalar; attached to the autograd graph for validation steps
  double accuracy = 0.0;
  std::int64_t samples = 0;
};

// An architecture with its scores, for population strategies and Pareto sets.
struct Candidate {
  ChoiceIndices choices;
  double validation_loss = 0.0;
  double validation_accuracy = 0.0;
  Cost cost;
};

// A constraint of the objective: lambda * [E cost(metric) - budget]_+, with
// the cost divided by the budget when `normalize` is true.
struct Budget {
  std::string metric;  // a Cost field name, such as "energy_mj"
  double budget = 0.0; // in the metric's unit (mJ for energy_mj)
  double lambda = 0.0;
  bool normalize = false;
  // Exact minimum and maximum of the metric over the space (estimated by
  // sampling for a non-additive model). A budget above `max` never binds.
  double space_min = 0.0;
  double space_max = 0.0;
};

class SearchContext {
 public:
  virtual ~SearchContext();

  virtual const std::vector<Decision>& decisions() const = 0;
  virtual torch::Device device() const = 0;
  virtual std::int64_t steps_per_epoch() const = 0;
  // Images per training and validation batch.
  virtual std::int64_t batch_size() const = 0;
  virtual std::int64_t epochs() const = 0;
  // Zero-based epoch of the next step() call.
  virtual std::int64_t epoch() const = 0;
  // Steps taken so far over the whole search.
  virtual std::int64_t global_step() const = 0;
  // Cost constraints of the objective (empty: accuracy only).
  virtual const std::vector<Budget>& budgets() const = 0;
  // The strategy's generator; its state is saved in every checkpoint.
  virtual std::mt19937_64& rng() = 0;
  virtual Logger& logger() = 0;

  // Performs one optimizer step of the supernet weights on the next training
  // batch. `weights` has one 1-D tensor per decision (soft or one-hot mixing
  // weights, summing to 1); the core detaches them.
  virtual StepResult train_weights(const std::vector<torch::Tensor>& weights) = 0;
  // Forward pass on the next validation batch; the loss stays attached to the
  // graph of `weights`, so the strategy can back-propagate into its logits.
  virtual StepResult validation_loss(const std::vector<torch::Tensor>& weights) = 0;
  // Loss and accuracy of a discrete architecture on the whole validation split
  // with the current supernet weights.
  virtual Candidate evaluate(const ChoiceIndices& choices) = 0;

  // Hardware cost of a discrete architecture (cached).
  virtual Cost cost(const ChoiceIndices& choices) = 0;
  // True when the hardware model's cost is additive over layers.
  virtual bool cost_is_additive() const = 0;
  // Exact expected value of `metric` (a Cost field name) under independent
  // decisions with the given probabilities (one 1-D tensor per decision);
  // differentiable. Raises Error when the hardware model is not additive.
  virtual torch::Tensor expected_cost(const std::vector<torch::Tensor>& probabilities,
                                      const std::string& metric) = 0;

  // Adds values to this epoch's row of the run's metrics (for example the
  // temperature or the sampled cost).
  virtual void record(const std::string& column, double value) = 0;
};

class SearchStrategy {
 public:
  virtual ~SearchStrategy();

  virtual void begin(SearchContext& context) = 0;
  virtual void step(SearchContext& context) = 0;
  virtual void end_epoch(SearchContext& context) = 0;
  // Current probability of each choice, one 1-D tensor per decision (for the
  // run record); population strategies return empirical frequencies.
  virtual std::vector<torch::Tensor> probabilities() const = 0;
  // The architecture the search found; population strategies also fill `pareto`.
  virtual ChoiceIndices derive(SearchContext& context, std::vector<Candidate>& pareto) = 0;

  virtual void save_state(torch::serialize::OutputArchive& archive) const = 0;
  virtual void load_state(torch::serialize::InputArchive& archive) = 0;
};

}  // namespace nasq::sdk

// Declares a search-strategy plugin. `Class` derives from SearchStrategy, has
// a constructor Class(const ConfigView&, PluginHost&) and a static
// std::vector<KeySpec> keys().
#define NASQ_STRATEGY_PLUGIN(Class, name_literal, version_literal)                         \
  NASQ_SDK_DEFINE_DESCRIPTOR(Class, "strategy", name_literal, version_literal,             \
                             TORCH_VERSION)                                                \
  NASQ_SDK_EXPORT ::nasq::sdk::SearchStrategy* nasq_create_strategy(                       \
      const ::nasq::sdk::ConfigView* config, ::nasq::sdk::PluginHost* host) {              \
    return new Class(*config, *host);                                                     \
  }
