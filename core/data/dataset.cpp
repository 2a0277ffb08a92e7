// Builds the training, validation, full-training and test splits from the [data] options.
#include "core/data/dataset.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "core/data/cifar_reader.hpp"
#include "core/data/idx_reader.hpp"
#include "core/data/image_folder_reader.hpp"
#include "core/data/sampling.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::data {

namespace {

constexpr float kMinStd = 1e-6f;

enum class Split { train, test };

bool is_idx_kind(const std::string& kind) { return kind == "fashion-mnist" || kind == "mnist"; }

// The folder of one split of an image folder: path/train and path/test when
// path/train exists, else path itself is the training set.
std::filesystem::path image_folder_root(const DataOptions& options, Split split) {
  const std::filesystem::path root(options.path);
  const bool has_split_folders = std::filesystem::is_directory(root / "train");
  if (split == Split::train) {
    return has_split_folders ? root / "train" : root;
  }
  if (!has_split_folders) {
    throw sdk::Error(root.string() + ": image folder has no train/ and test/ sub-folders, so it has no test set; "
                                     "move the class folders into train/ and add test/ with the same classes");
  }
  return root / "test";
}

// Reads the first `limit` images (0: all) of one split in the native format.
ImageSet read_split(const DataOptions& options, Split split, std::int64_t limit) {
  const bool test = split == Split::test;
  const std::filesystem::path path(options.path);
  if (is_idx_kind(options.kind)) {
    auto names = options.kind == "mnist" ? mnist_class_names() : fashion_mnist_class_names();
    return read_idx_folder(path, test, std::move(names), IdxReadOptions{.limit = limit});
  }
  if (options.kind == "cifar10") {
    return read_cifar10_folder(path, test, CifarReadOptions{.limit = limit});
  }
  if (options.kind == "cifar100") {
    const auto labels = options.cifar100_labels == "coarse" ? CifarLabels::cifar100_coarse
                                                             : CifarLabels::cifar100_fine;
    return read_cifar100_folder(path, test, labels, CifarReadOptions{.limit = limit});
  }
  ImageFolderOptions folder_options;
  folder_options.input_size = options.input_size;
  folder_options.channels = options.channels == 0 ? 3 : options.channels;
  folder_options.limit = limit;
  if (test) {
    folder_options.expected_classes = list_image_folder_classes(image_folder_root(options, Split::train));
  }
  return read_image_folder(image_folder_root(options, split), folder_options);
}

// Applies channels and input_size to sets whose reader did not.
ImageSet shape_images(const DataOptions& options, ImageSet images) {
  if (options.channels != 0 && options.channels != images.channels) {
    images = convert_channels(images, options.channels);
  }
  if (options.input_size > 0 && (options.input_size != images.height || options.input_size != images.width)) {
    images = resize_images(images, options.input_size);
  }
  return images;
}

// Reads one split and keeps `subset` images (0: all) chosen by subset_mode.
ImageSet load_subset(const DataOptions& options, Split split, std::int64_t subset, RngStream stream) {
  const bool first = options.subset_mode == "first";
  ImageSet images = read_split(options, split, first ? subset : 0);
  if (subset > images.count) {
    spdlog::warn("{}: {} images requested but the {} split has only {}; using all", images.source, subset,
                 split == Split::test ? "test" : "training", images.count);
  }
  if (!first && subset > 0 && subset < images.count) {
    auto rng = make_rng(options.seed, stream);
    const auto chosen = balanced_subset(images.labels, images.num_classes, subset, rng);
    images = select_images(images, chosen);
  }
  images = shape_images(options, std::move(images));
  check_image_set(images);
  return images;
}

std::vector<float> expand_per_channel(const std::string& key, const std::vector<double>& values,
                                      std::int64_t channels) {
  if (values.size() != 1 && values.size() != static_cast<std::size_t>(channels)) {
    throw sdk::ConfigError(key, key + " has " + std::to_string(values.size()) + " values but the images have " +
                                    std::to_string(channels) + " channels; give one value or one per channel");
  }
  std::vector<float> result;
  for (std::int64_t c = 0; c < channels; ++c) {
    result.push_back(static_cast<float>(values.size() == 1 ? values[0] : values[static_cast<std::size_t>(c)]));
  }
  return result;
}

SplitSummary summarize_split(const std::string& name, const ImageSet& images) {
  return SplitSummary{name, images.count, count_labels(images)};
}

std::string format_floats(const std::vector<float>& values) {
  std::string text;
  for (const float value : values) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%s%.4f", text.empty() ? "" : ", ", static_cast<double>(value));
    text += buffer;
  }
  return "[" + text + "]";
}

}  // namespace

SearchSplits load_search_splits(const DataOptions& options) {
  validate(options);
  ImageSet full = load_subset(options, Split::train, options.train_subset, RngStream::train_subset);
  auto rng = make_rng(options.seed, RngStream::validation_split);
  const SplitIndices split = balanced_split(full.labels, full.num_classes, options.validation_fraction, rng);
  if (split.train.empty()) {
    throw sdk::ConfigError("validation_fraction",
                           full.source + ": the training split is empty after holding out validation_fraction = " +
                               std::to_string(options.validation_fraction) + " of " + std::to_string(full.count) +
                               " images; raise train_subset or lower validation_fraction");
  }
  return SearchSplits{select_images(full, split.train), select_images(full, split.validation)};
}

ImageSet load_full_train(const DataOptions& options) {
  validate(options);
  return load_subset(options, Split::train, options.train_subset, RngStream::train_subset);
}

bool has_test_split(const DataOptions& options) {
  return options.kind != "image-folder" || std::filesystem::is_directory(std::filesystem::path(options.path) / "train");
}

ImageSet load_test(const DataOptions& options) {
  validate(options);
  return load_subset(options, Split::test, options.test_subset, RngStream::test_subset);
}

Normalization resolve_normalization(const DataOptions& options, const ImageSet& fit_set) {
  const std::int64_t channels = fit_set.channels;
  if (options.normalization == "none") {
    return Normalization{std::vector<float>(static_cast<std::size_t>(channels), 0.0f),
                         std::vector<float>(static_cast<std::size_t>(channels), 1.0f)};
  }
  if (options.normalization == "given") {
    return Normalization{expand_per_channel("mean", options.mean, channels),
                         expand_per_channel("std", options.std, channels)};
  }
  Normalization statistics = compute_normalization(fit_set);
  for (std::size_t c = 0; c < statistics.std.size(); ++c) {
    if (statistics.std[c] < kMinStd) {
      spdlog::warn("{}: channel {} is constant over the training split (std {}); dividing by 1 instead",
                   fit_set.source, c, statistics.std[c]);
      statistics.std[c] = 1.0f;
    }
  }
  return statistics;
}

DatasetSummary describe(const DataOptions& options) {
  const SearchSplits search = load_search_splits(options);
  DatasetSummary summary;
  summary.kind = options.kind;
  summary.path = options.path;
  summary.num_classes = search.train.num_classes;
  summary.class_names = search.train.class_names;
  summary.channels = search.train.channels;
  summary.height = search.train.height;
  summary.width = search.train.width;
  summary.splits.push_back(summarize_split("train", search.train));
  summary.splits.push_back(summarize_split("validation", search.validation));

  SplitSummary full{"full-train", search.train.count + search.validation.count, {}};
  const auto train_counts = count_labels(search.train);
  const auto validation_counts = count_labels(search.validation);
  for (std::size_t c = 0; c < train_counts.size(); ++c) {
    full.label_counts.push_back(train_counts[c] + validation_counts[c]);
  }
  summary.splits.push_back(std::move(full));
  if (has_test_split(options)) {
    summary.splits.push_back(summarize_split("test", load_test(options)));
  }

  summary.train_statistics = compute_normalization(search.train);
  summary.normalization = resolve_normalization(options, search.train);
  return summary;
}

std::string format_summary(const DatasetSummary& summary) {
  std::string text = "kind: " + summary.kind + "\npath: " + summary.path + "\n";
  text += "input shape (C x H x W): " + std::to_string(summary.channels) + " x " + std::to_string(summary.height) +
          " x " + std::to_string(summary.width) + "\n";
  text += "classes: " + std::to_string(summary.num_classes) + "\n";
  text += "train statistics: mean " + format_floats(summary.train_statistics.mean) + ", std " +
          format_floats(summary.train_statistics.std) + "\n";
  text += "normalization: mean " + format_floats(summary.normalization.mean) + ", std " +
          format_floats(summary.normalization.std) + "\n";
  text += "images per class:\n  class";
  for (const SplitSummary& split : summary.splits) {
    text += "  " + split.name + " (" + std::to_string(split.count) + ")";
  }
  text += "\n";
  for (std::size_t c = 0; c < summary.class_names.size(); ++c) {
    text += "  " + std::to_string(c) + " " + summary.class_names[c];
    for (const SplitSummary& split : summary.splits) {
      text += "  " + std::to_string(split.label_counts[c]);
    }
    text += "\n";
  }
  return text;
}

}  // namespace nasq::data
