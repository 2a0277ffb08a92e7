// Loads the splits of a data set as the [data] options describe them, and
// summarises them for `nasq data show`. The splits are the search's training
// and validation splits, the full training set for final training, and the
// test set.
//
// Every function reads the files again, so callers keep the result. Errors
// are nasq::sdk::Error (files) or nasq::sdk::ConfigError (option values).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/data/data_options.hpp"
#include "core/data/image_set.hpp"

namespace nasq::data {

// The training set split for the search: weights train on `train`,
// architecture decisions on `validation`. Their union is load_full_train().
struct SearchSplits {
  ImageSet train;
  ImageSet validation;
};

// Loads the training set (after train_subset, channels and input_size) and
// splits it per class with validation_fraction and seed. Throws when the
// training split comes out empty.
SearchSplits load_search_splits(const DataOptions& options);

// Loads the training set (after train_subset, channels and input_size)
// without holding anything out, for final training.
ImageSet load_full_train(const DataOptions& options);

// Returns whether the data set has a test split; an image folder has one
// only when it contains train/ and test/ sub-folders.
bool has_test_split(const DataOptions& options);

// Loads the test set (after test_subset, channels and input_size). Throws
// when the data set has no test split.
ImageSet load_test(const DataOptions& options);

// Returns the normalization that batches use. For "auto" it is the statistics
// of `fit_set`, the split being trained on (SearchSplits::train in the
// search, the full training set in final training). For "given" it is the
// configured values, and for "none" mean 0 and std 1. Throws ConfigError
// when the given lists do not fit the channel count.
Normalization resolve_normalization(const DataOptions& options, const ImageSet& fit_set);

struct SplitSummary {
  std::string name;  // "train", "validation", "full-train", "test"
  std::int64_t count = 0;
  std::vector<std::int64_t> label_counts;  // images per class id
};

// Summary of a data set's splits, printed by `nasq data show`.
struct DatasetSummary {
  std::string kind;
  std::string path;
  std::int64_t num_classes = 0;
  std::vector<std::string> class_names;
  // Shape of one network input after resizing and channel conversion.
  std::int64_t channels = 0;
  std::int64_t height = 0;
  std::int64_t width = 0;
  std::vector<SplitSummary> splits;
  // Per-channel statistics of the search's training split.
  Normalization train_statistics;
  // The normalization the search's batches use.
  Normalization normalization;
};

// Loads every split and summarises it.
DatasetSummary describe(const DataOptions& options);

// Formats a summary as a few lines of plain text for the terminal.
std::string format_summary(const DatasetSummary& summary);

}  // namespace nasq::data
