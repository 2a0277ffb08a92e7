// The cost part of the search objective, lambda * [E cost - budget]_+, and
// its REINFORCE baseline; plain functions shared by the strategy plugins.
#pragma once

#include <algorithm>
#include <vector>

namespace nasq::strategies {

// lambda * max(0, cost - budget), with cost and budget divided by the budget
// when `normalize` is true. Zero when the budget is 0 (no budget).
inline double penalty(double cost, double budget, double lambda, bool normalize) {
  if (budget <= 0.0) return 0.0;
  const double scale = normalize ? 1.0 / budget : 1.0;
  return lambda * std::max(0.0, (cost - budget) * scale);
}

// The search objective for one validation loss and one expected cost.
inline double objective(double loss, double cost, double budget, double lambda, bool normalize) {
  return loss + penalty(cost, budget, lambda, normalize);
}

// Exponential moving average baseline of the sampled costs:
//   b_1 = mean of the first batch of samples,
//   b_t = decay * b_{t-1} + (1 - decay) * mean of batch t.
// The REINFORCE weight of sample i at step t is J_i - b_{t-1} (the baseline
// before this step's update), so the first step's weights are J_i - mean J.
class EmaBaseline {
 public:
  explicit EmaBaseline(double decay) : decay_(decay) {}

  bool initialized() const { return initialized_; }
  double value() const { return value_; }

  // Returns the baseline to subtract at this step, then folds `costs` in.
  double update(const std::vector<double>& costs) {
    double mean = 0.0;
    for (const double cost : costs) mean += cost;
    mean /= static_cast<double>(std::max<std::size_t>(costs.size(), 1));
    const double used = initialized_ ? value_ : mean;
    value_ = initialized_ ? decay_ * value_ + (1.0 - decay_) * mean : mean;
    initialized_ = true;
    return used;
  }

  void restore(double value, bool initialized) {
    value_ = value;
    initialized_ = initialized;
  }

 private:
  double decay_;
  double value_ = 0.0;
  bool initialized_ = false;
};

}  // namespace nasq::strategies
