// Test helper: writes run directories with results.json, metrics.csv and
// train_metrics.csv in the formats that `nasq report` reads.
#pragma once

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace nasq::test {

// The values that differ between the runs of a sweep.
struct RunFixture {
  std::string model = "reinforce-hybrid \xCE\xBB=0.1 seed 1";
  std::string strategy = "reinforce-hybrid";
  std::string lambda = "0.1";  // JSON text: a number or null
  int seed = 1;
  double top1_error = 0.0785;
  double energy_mj = 0.125;
  // Free-form text stored in provenance.note, to check escaping.
  std::string provenance_note = "fixture";
};

// Block labels of the fixture architecture: 12 blocks, 3 of them skipped.
inline std::vector<std::string> fixture_blocks() {
  return {"MB6 5x5 [4,2]", "MB3 3x3 [8,8]", "skip",          "MB6 3x3 [4,4]",
          "MB1 3x3 [2,2]", "skip",          "MB6 5x5 [8,4]", "MB3 5x5 [4,2]",
          "skip",          "MB6 3x3 [2,4]", "MB3 3x3 [4,4]", "MB6 5x5 [8,8]"};
}

inline std::string json_string(const std::string& text) {
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

inline std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.10g", value);
  return text;
}

// A complete results.json; the hardware section has 8 layers.
inline std::string results_json(const RunFixture& run) {
  std::string blocks;
  for (const std::string& label : fixture_blocks()) {
    blocks += (blocks.empty() ? "" : ", ") + json_string(label);
  }
  std::string layers;
  const char* const kinds[] = {"conv",      "conv", "depthwise", "conv",
                               "depthwise", "conv", "conv",      "fc"};
  for (int i = 0; i < 8; ++i) {
    layers += std::string(i ? ",\n      " : "") + "{\"name\": \"layer" + std::to_string(i) +
              "\", \"kind\": \"" + kinds[i] +
              "\", \"energy_mj\": " + number_text(run.energy_mj * (i + 1) / 36.0) +
              ", \"latency_ms\": " + number_text(0.01 * (8 - i)) +
              ", \"macs\": " + std::to_string(10000 * (i + 1)) + "}";
  }
  return "{\n  \"nasq_version\": \"0.1.0\",\n  \"model\": " + json_string(run.model) +
         ",\n  \"strategy\": " + json_string(run.strategy) + ",\n  \"lambda\": " + run.lambda +
         ",\n  \"seed\": " + std::to_string(run.seed) +
         ",\n  \"precision\": \"mixed 2-8 bit\",\n  \"architecture\": {\"blocks\": [" + blocks +
         "]},\n  \"test\": {\"top1_error\": " + number_text(run.top1_error) +
         ", \"top5_error\": " + number_text(run.top1_error / 8) +
         ", \"images\": 10000},\n  \"model_size_bytes\": 48200,\n  \"parameters\": 151234,\n"
         "  \"macs\": 4200000,\n  \"bitops\": 120000000,\n  \"hardware\": {\"plugin\": "
         "\"bitfusion\", \"version\": \"1.0.0\", \"batch\": 16, \"energy_mj\": " +
         number_text(run.energy_mj) + ", \"latency_ms\": 0.36,\n    \"layers\": [" + layers +
         "]},\n  \"provenance\": {\"git\": {\"commit\": \"abc123\", \"dirty\": false}, \"note\": " +
         json_string(run.provenance_note) + "}\n}\n";
}

inline std::string csv_row(const std::vector<std::string>& cells) {
  std::string row;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) row += ',';
    row += cells[i];
  }
  return row + "\n";
}

// metrics.csv of a search with 3 warm-up and 7 search epochs. The strategy
// columns are empty during warm-up, and val_loss is "nan" in epoch 4.
inline std::string search_metrics_csv() {
  std::string text =
      csv_row({"epoch", "warmup", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
               "temperature", "expected_energy_mj", "sampled_energy_mj", "exact_energy_mj",
               "entropy_s", "entropy_m", "entropy_k", "entropy_b1", "entropy_b2",
               "skip_probability_stage1", "skip_probability_stage2", "wall_s"});
  for (int epoch = 0; epoch < 10; ++epoch) {
    const bool warmup = epoch < 3;
    const double p = epoch / 9.0;  // progress of the run
    std::vector<std::string> cells = {std::to_string(epoch),
                                      warmup ? "1" : "0",
                                      number_text(1.2 - 0.7 * p),
                                      number_text(0.55 + 0.35 * p),
                                      epoch == 4 ? "nan" : number_text(1.3 - 0.6 * p),
                                      number_text(0.5 + 0.33 * p)};
    const std::vector<double> strategy = {5.0 * (1.0 - p) + 0.2, 0.2 - 0.08 * p, 0.21 - 0.09 * p,
                                          0.19 - 0.07 * p,       0.69 - 0.5 * p, 1.1 - 0.8 * p,
                                          1.0 - 0.7 * p,         1.3 - 0.9 * p,  1.2 - 0.8 * p,
                                          0.5 - 0.3 * p,         0.5 - 0.2 * p};
    for (const double value : strategy) cells.push_back(warmup ? "" : number_text(value));
    cells.push_back(number_text(12.5 + epoch));
    text += csv_row(cells);
  }
  return text;
}

// train_metrics.csv of 8 epochs with a cosine learning-rate schedule.
inline std::string training_metrics_csv() {
  std::string text = csv_row({"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
                              "learning_rate", "wall_s"});
  for (int epoch = 0; epoch < 8; ++epoch) {
    const double p = epoch / 7.0;  // progress of the run
    text += csv_row({std::to_string(epoch), number_text(0.9 - 0.6 * p), number_text(0.7 + 0.25 * p),
                     number_text(0.95 - 0.55 * p), number_text(0.68 + 0.24 * p),
                     number_text(0.05 * (1 + std::cos(3.14159265 * p)) / 2), "20.5"});
  }
  return text;
}

// Writes a complete run directory: results.json and both metrics files.
inline void write_run(const std::filesystem::path& directory, const RunFixture& run = {}) {
  std::filesystem::create_directories(directory);
  write_text(directory / "results.json", results_json(run));
  write_text(directory / "metrics.csv", search_metrics_csv());
  write_text(directory / "train_metrics.csv", training_metrics_csv());
}

// Writes a run directory of a run that stopped after the search: results.json
// without test, hardware and provenance, and no metrics files.
inline void write_partial_run(const std::filesystem::path& directory) {
  std::filesystem::create_directories(directory);
  write_text(directory / "results.json",
             "{\"nasq_version\": \"0.1.0\", \"model\": \"gumbel seed 3\", \"strategy\": "
             "\"gumbel\", \"lambda\": null, \"seed\": 3, \"architecture\": {\"blocks\": "
             "[\"MB6 5x5 [4,2]\", \"skip\"]}}\n");
}

// Writes a lambda sweep of two strategies, with two seeds of one setting, and
// returns the run directories.
inline std::vector<std::filesystem::path> write_sweep(const std::filesystem::path& root) {
  const std::vector<RunFixture> runs = {
      {"reinforce-hybrid \xCE\xBB=0.01 seed 1", "reinforce-hybrid", "0.01", 1, 0.071, 0.31, "a"},
      {"reinforce-hybrid \xCE\xBB=0.1 seed 1", "reinforce-hybrid", "0.1", 1, 0.079, 0.12, "b"},
      {"reinforce-hybrid \xCE\xBB=0.1 seed 2", "reinforce-hybrid", "0.1", 2, 0.081, 0.13, "c"},
      {"reinforce-hybrid \xCE\xBB=1 seed 1", "reinforce-hybrid", "1", 1, 0.112, 0.05, "d"},
      {"gumbel \xCE\xBB=0.1 seed 1", "gumbel", "0.1", 1, 0.090, 0.20, "e"}};
  std::vector<std::filesystem::path> directories;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    directories.push_back(root / ("run" + std::to_string(i)));
    write_run(directories.back(), runs[i]);
  }
  return directories;
}

inline std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace nasq::test
