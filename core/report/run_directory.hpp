// The files of a finished (or partial) run directory that a report reads:
// results.json, and metrics.csv and train_metrics.csv when they exist.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/report/csv_table.hpp"

namespace nasq::report {

// Hardware cost of one layer, from results.json "hardware.layers".
struct LayerCost {
  std::string name;
  std::string kind;
  std::optional<double> energy_mj;
  std::optional<double> latency_ms;
  std::optional<std::int64_t> macs;
};

// The fields of results.json. A field the file lacks (a run that stopped
// before training, say) stays empty, and so does "lambda": null.
struct RunResults {
  std::optional<std::string> nasq_version;
  std::optional<std::string> model;  // label, e.g. "reinforce-hybrid λ=0.1 seed 1"
  std::optional<std::string> strategy;
  std::optional<double> lambda;
  std::optional<std::int64_t> seed;
  std::optional<std::string> precision;            // "mixed 2-8 bit", "uniform 8 bit"
  std::optional<std::vector<std::string>> blocks;  // "MB6 5x5 [4,2]" or "skip"
  std::optional<double> top1_error;                // fraction of the test images
  std::optional<double> top5_error;                // fraction of the test images
  std::optional<std::int64_t> test_images;
  std::optional<double> model_size_bytes;
  std::optional<std::int64_t> parameters;
  std::optional<std::int64_t> macs;
  std::optional<std::int64_t> bitops;
  std::optional<std::string> hardware_plugin;
  std::optional<std::string> hardware_version;
  std::optional<std::int64_t> hardware_batch;  // images per costed batch
  std::optional<double> energy_mj;             // per batch of hardware_batch images
  std::optional<double> latency_ms;            // per batch of hardware_batch images
  std::vector<LayerCost> layers;
  // "provenance", flattened to dotted keys and printed values, in file order.
  std::vector<std::pair<std::string, std::string>> provenance;
};

// One run directory as read for a report.
struct RunDirectory {
  std::filesystem::path path;
  std::string name;  // the directory's own name, for tables and labels
  RunResults results;
  std::optional<CsvTable> search_metrics;    // metrics.csv
  std::optional<CsvTable> training_metrics;  // train_metrics.csv
};

// Parses results.json text. Throws sdk::Error that starts with `source` for
// invalid JSON, a top level that is not an object, or a known field of the
// wrong type (the message names the field, as "test.top1_error").
RunResults parse_results(const std::string& text, const std::string& source);

// Reads a run directory. Throws sdk::Error naming the directory or file when
// the directory or its results.json is missing, when results.json is invalid
// (see parse_results), or when metrics.csv or train_metrics.csv exists but is
// malformed or lacks an "epoch" column.
RunDirectory load_run_directory(const std::filesystem::path& directory);

}  // namespace nasq::report
