// Options of the [data] table: which data set to read, how it is subset,
// split, normalised and augmented, and how batches are assembled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/data/batch_assembly.hpp"

namespace nasq::data {

struct DataOptions {
  // Data set format: "fashion-mnist" or "mnist" (IDX files, gzip or raw),
  // "cifar10" or "cifar100" (the binary versions), or "image-folder" (one
  // sub-folder per class, optionally inside train/ and test/ folders).
  std::string kind = "fashion-mnist";
  // Folder that contains the files of `kind`.
  std::string path = "/usr/share/datasets/fashion-mnist";
  // Images kept from the training set before the validation split; 0 keeps all.
  std::int64_t train_subset = 0;
  // Images kept from the test set; 0 keeps all.
  std::int64_t test_subset = 0;
  // How subsets are drawn: "first" (the first N in file order) or "random"
  // (seeded, as equal per class as the data allows).
  std::string subset_mode = "first";
  // Share of the training set held out, per class and seeded, as the
  // validation split of the search; in [0, 1). The search trains weights on
  // one part and architecture decisions on the other, so the default halves
  // it. The test set is never used in the search.
  double validation_fraction = 0.5;
  // "auto" (per-channel mean and std of the split being trained on), "given"
  // (the `mean` and `std` lists) or "none" (pixels scaled to [0, 1] only).
  std::string normalization = "auto";
  // Per-channel mean and std of pixel / 255, used with normalization = "given";
  // one value applies to every channel.
  std::vector<double> mean;
  std::vector<double> std;
  // Side of the square network input in pixels; 0 keeps the native size
  // (28 for MNIST-style files, 32 for CIFAR). Images are resized with
  // stb_image_resize, without keeping the aspect ratio.
  std::int64_t input_size = 0;
  // 1 or 3 channels, converting grey and RGB as needed; 0 keeps the native
  // count (1 for MNIST-style, 3 for CIFAR and image folders).
  std::int64_t channels = 0;
  // Training augmentation: pad by `shift_pad` pixels and crop at random.
  bool random_shift = true;
  std::int64_t shift_pad = 4;
  // Random horizontal flips; unset selects the kind's default, see
  // mirror_enabled().
  std::optional<bool> mirror;
  // Seed of subsets, the validation split, shuffling and augmentation.
  std::uint64_t seed = 0;
  // Images per batch.
  std::int64_t batch_size = 64;
  // Threads that assemble batches ahead of the training loop; 0 assembles
  // each batch in the calling thread when it is requested.
  std::int64_t workers = 1;
  // Drops the last batch of an epoch when it is smaller than batch_size.
  bool drop_last = false;
  // CIFAR-100 label set: "fine" (100 classes) or "coarse" (20 superclasses).
  std::string cifar100_labels = "fine";
};

// The values accepted by `kind`, for messages and help text.
const std::vector<std::string>& data_kinds();

// Checks every option; throws nasq::sdk::ConfigError whose key() is the
// [data] key and whose message names the value and the accepted range.
void validate(const DataOptions& options);

// Returns whether training batches are mirrored: the `mirror` value when it
// is set, else on for CIFAR and image folders and off for MNIST-style sets
// (mirroring turns digits into other shapes and, measured, hurts Fashion-MNIST).
bool mirror_enabled(const DataOptions& options);

// Returns the training augmentation the options select.
Augmentation training_augmentation(const DataOptions& options);

}  // namespace nasq::data
