// Final training of a discrete architecture from scratch with
// quantization-aware training, and its evaluation on the test set.
#pragma once

#include <filesystem>

#include "core/plugin/host.hpp"
#include "core/space/architecture.hpp"

namespace nasq::train {

// Trains `architecture` (an arch.json of the stack's search space) with the
// [train] settings in `run_directory`: train_metrics.csv, train_checkpoint.pt
// (written atomically after every epoch) and model.pt (the final weights).
// With `resume`, continues from train_checkpoint.pt; a finished training is
// not repeated. Throws sdk::Error for user errors.
void run_training(PluginFactory& factory, const std::filesystem::path& run_directory,
                  const std::filesystem::path& architecture_file, bool resume);

// Evaluates the trained model of `run_directory` on the test set and costs
// it with the configured hardware model; writes results.json. Returns its text.
std::string run_evaluation(PluginFactory& factory, const std::filesystem::path& run_directory,
                           const std::filesystem::path& architecture_file);

}  // namespace nasq::train
