// The HTML report that compares several run directories, such as a sweep of
// the cost weight lambda or an ablation.
#pragma once

#include <string>
#include <vector>

#include "core/report/run_directory.hpp"

namespace nasq::report {

// Removes a "seed N" part (also "seed=N", any case) from a model label, so
// that runs that differ only in their seed share a label:
// "reinforce-hybrid λ=0.1 seed 1" -> "reinforce-hybrid λ=0.1".
std::string label_without_seed(const std::string& label);

// Runs whose labels without seed are equal, in order of first appearance.
struct RunGroup {
  std::string label;
  std::vector<std::size_t> runs;  // indices into the run list
};

// Groups the runs by model label without seed (a run without a model label
// uses its strategy, lambda and precision) and returns the groups of at
// least two runs.
std::vector<RunGroup> seed_groups(const std::vector<RunDirectory>& runs);

// The label of a run in the scatter plot: strategy and lambda ("gumbel
// λ=0.1"), else the model label, else the directory name.
std::string point_label(const RunDirectory& run);

// Renders a self-contained HTML page with one table row per run (strategy,
// lambda, seed, precision, errors, size, energy, latency). A table of mean ±
// standard deviation per seed group follows when there is a group. A scatter
// plot of top-1 error against energy highlights the Pareto front (lower
// error and lower energy).
std::string render_comparison_report(const std::vector<RunDirectory>& runs);

}  // namespace nasq::report
