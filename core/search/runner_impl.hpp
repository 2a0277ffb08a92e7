// Internal declaration of the search runner, shared by its source files.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/cost/oracle.hpp"
#include "core/data/batch_loader.hpp"
#include "core/data/data_options.hpp"
#include "core/model/supernet.hpp"
#include "core/plugin/host.hpp"
#include "core/search/block_costs.hpp"
#include "core/search/expected_cost.hpp"
#include "core/search/run_record.hpp"
#include "core/search/search_runner.hpp"
#include "nasq/sdk/search_strategy.hpp"

namespace nasq::search {

// Values of the [run] and [search] sections the runner uses.
struct RunnerOptions {
  std::string strategy;
  std::int64_t epochs = 0;
  std::int64_t warmup_epochs = 0;
  std::int64_t batch_size = 64;
  std::int64_t steps_per_epoch = 0;  // 0: one pass over the training split
  double weight_lr = 0.05;
  double weight_momentum = 0.9;
  double weight_decay = 1e-4;
  bool cosine_schedule = true;
  std::int64_t checkpoint_every = 50;
  std::int64_t evaluation_batches = 20;
  std::uint64_t seed = 1;
  std::string device = "cpu";
  bool deterministic = false;
  std::int64_t threads = 0;
  model::SupernetOptions supernet;
};

// Running sums of one epoch's steps, kept in checkpoints.
struct EpochSums {
  double train_loss = 0.0, train_correct = 0.0, train_samples = 0.0, train_steps = 0.0;
  double val_loss = 0.0, val_correct = 0.0, val_samples = 0.0, val_steps = 0.0;
  std::map<std::string, double> records;
  double data_seconds = 0.0;  // waiting for batches and moving them to the device
};

class Runner final : public sdk::SearchContext {
 public:
  Runner(PluginFactory& factory, std::filesystem::path run_directory);
  SearchResult run(bool resume);

  const std::vector<sdk::Decision>& decisions() const override { return decisions_; }
  torch::Device device() const override { return device_; }
  std::int64_t steps_per_epoch() const override { return steps_per_epoch_; }
  std::int64_t batch_size() const override { return options_.batch_size; }
  std::int64_t epochs() const override { return options_.epochs; }
  std::int64_t epoch() const override {
    return std::max<std::int64_t>(0, epoch_index_ - options_.warmup_epochs);
  }
  std::int64_t global_step() const override { return global_step_; }
  const std::vector<sdk::Budget>& budgets() const override { return budgets_; }
  std::mt19937_64& rng() override { return strategy_rng_; }
  sdk::Logger& logger() override { return *logger_; }

  sdk::StepResult train_weights(const std::vector<torch::Tensor>& weights) override;
  sdk::StepResult validation_loss(const std::vector<torch::Tensor>& weights) override;
  sdk::Candidate evaluate(const sdk::ChoiceIndices& choices) override;
  sdk::Cost cost(const sdk::ChoiceIndices& choices) override;
  bool cost_is_additive() const override { return table_ != nullptr; }
  torch::Tensor expected_cost(const std::vector<torch::Tensor>& probabilities,
                              const std::string& metric) override;
  void record(const std::string& column, double value) override;

 private:
  // Setup, in search_runner.cpp.
  void setup();
  void setup_data();
  void setup_costs();
  void setup_budgets();
  void setup_strategy();

  // The loop, in search_runner.cpp.
  void run_epoch();
  void take_step(bool warmup);
  std::vector<torch::Tensor> uniform_sample();
  void finish_epoch();
  void report_progress(bool force);
  void write_probabilities();
  SearchResult derive();

  // Checkpoints, in search_checkpoint.cpp.
  void save_checkpoint();
  void load_checkpoint();
  std::string provenance() const;

  // Returns the next batch on the device, starting a new epoch of the
  // loader when one ends, and adds the time it took to sums_.data_seconds.
  data::Batch next_batch(data::BatchLoader& loader);
  void set_learning_rate();

  PluginFactory& factory_;
  Stack& stack_;
  std::filesystem::path directory_;
  RunnerOptions options_;
  torch::Device device_{torch::kCPU};
  std::unique_ptr<sdk::Logger> logger_;

  std::unique_ptr<space::SearchSpace> space_;
  std::vector<sdk::Decision> decisions_;
  std::shared_ptr<sdk::Quantizer> quantizer_;
  std::optional<model::Supernet> supernet_;
  std::unique_ptr<torch::optim::SGD> optimizer_;

  data::DataOptions data_options_;
  std::unique_ptr<data::BatchLoader> train_loader_;
  std::unique_ptr<data::BatchLoader> validation_loader_;
  std::unique_ptr<data::BatchLoader> evaluation_loader_;
  std::int64_t steps_per_epoch_ = 0;

  std::unique_ptr<CostOracle> oracle_;
  std::unique_ptr<BlockCostTable> table_;
  std::map<std::string, std::unique_ptr<ExpectedCost>> expected_;
  std::int64_t cost_batch_ = 16;
  std::vector<sdk::Budget> budgets_;

  std::shared_ptr<sdk::SearchStrategy> strategy_;
  std::mt19937_64 strategy_rng_;
  std::mt19937_64 warmup_rng_;

  std::int64_t epoch_index_ = 0;    // counts warm-up epochs too
  std::int64_t step_in_epoch_ = 0;
  std::int64_t global_step_ = 0;
  std::int64_t rows_written_ = 0;
  EpochSums sums_;
  std::unique_ptr<MetricsFile> metrics_;
  std::chrono::steady_clock::time_point epoch_start_;
  std::chrono::steady_clock::time_point last_progress_;
  double epoch_seconds_before_resume_ = 0.0;
};

}  // namespace nasq::search
