// A differentiable architecture search with Gumbel-Softmax samples of every
// decision: the shared engine of the reinforce-hybrid, gumbel-darts,
// sequential, bits-only and nas-only strategy plugins, which differ in how
// the cost term is estimated and which decisions are searched when.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nasq/sdk/search_strategy.hpp>

#include "objective.hpp"

namespace nasq::strategies {

enum class CostEstimator {
  reinforce,  // mean over k sampled architectures, with an EMA baseline
  exact,      // differentiable exact expectation (additive models only)
};

struct GumbelOptions {
  CostEstimator estimator = CostEstimator::reinforce;
  double tau_initial = 5.0;
  double tau_decay = 0.956;  // per search epoch, exponential
  double tau_min = 0.1;
  double theta_lr = 0.01;
  double theta_weight_decay = 5e-4;
  std::int64_t samples = 8;      // k, architectures costed per step
  double baseline_decay = 0.9;
  bool per_sample_noise = false;
};

// Keys every Gumbel-based plugin declares (tau_*, theta_*, noise; samples and
// baseline_decay when `reinforce`).
std::vector<sdk::KeySpec> gumbel_keys(bool reinforce);
GumbelOptions read_gumbel_options(const sdk::ConfigView& config, CostEstimator estimator);

class GumbelStrategy : public sdk::SearchStrategy {
 public:
  explicit GumbelStrategy(GumbelOptions options);

  void begin(sdk::SearchContext& context) override;
  void step(sdk::SearchContext& context) override;
  void end_epoch(sdk::SearchContext& context) override;
  std::vector<torch::Tensor> probabilities() const override;
  sdk::ChoiceIndices derive(sdk::SearchContext& context,
                            std::vector<sdk::Candidate>& pareto) override;
  void save_state(torch::serialize::OutputArchive& archive) const override;
  void load_state(torch::serialize::InputArchive& archive) override;

  // Temperature at a search epoch: max(tau_min, tau_initial * tau_decay^epoch).
  double temperature(std::int64_t epoch) const;

 protected:
  // Called at the start of every step and epoch; subclasses freeze or free
  // decisions here. The default does nothing.
  virtual void on_epoch(sdk::SearchContext& context);

  // Fixes decision `index` to choice `choice` (no sampling, no update), or
  // frees it again with choice -1.
  void freeze(std::size_t index, int choice);
  // The choice index of `value` in decision `index`, or -1.
  int choice_index(std::size_t index, int value) const;
  int most_likely(std::size_t index) const;
  // The decision logits (leaf tensors the optimizer updates).
  std::vector<torch::Tensor>& logits() { return logits_; }
  const std::vector<sdk::Decision>& decision_list() const { return decisions_; }

 private:
  std::vector<torch::Tensor> gumbel_weights(sdk::SearchContext& context, bool attached);
  std::vector<torch::Tensor> probabilities_attached() const;
  torch::Tensor cost_term(sdk::SearchContext& context);
  torch::Tensor reinforce_term(sdk::SearchContext& context, const sdk::Budget& budget,
                               std::size_t budget_index);
  std::vector<int> sample_architecture(sdk::SearchContext& context,
                                       const std::vector<torch::Tensor>& probabilities);

  GumbelOptions options_;
  std::vector<sdk::Decision> decisions_;
  std::vector<torch::Tensor> logits_;
  std::vector<int> frozen_;  // choice index, or -1 when searched
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::vector<EmaBaseline> baselines_;
  std::int64_t steps_ = 0;
};

}  // namespace nasq::strategies
