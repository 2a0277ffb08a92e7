// Tests of option validation, subsets, class-balanced splits, normalisation,
// batch assembly and dataset summaries.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/data/batch_assembly.hpp"
#include "core/data/dataset.hpp"
#include "core/data/sampling.hpp"
#include "fixtures.hpp"
#include "nasq/sdk/error.hpp"

using namespace nasq::data;
using namespace nasq::data::testing;

// doctest::Contains takes a doctest::String, which has no std::string constructor.
static doctest::Contains contains(const std::string& text) { return doctest::Contains(text.c_str()); }

namespace {

DataOptions fashion_options(std::int64_t subset) {
  DataOptions options;
  options.path = kFashionMnistDir.string();
  options.train_subset = subset;
  options.test_subset = 500;
  return options;
}

// Returns the key of the ConfigError that validate() raises for `options`,
// or "" when it accepts them.
std::string rejected_key(const DataOptions& options) {
  try {
    validate(options);
  } catch (const nasq::sdk::ConfigError& error) {
    return error.key();
  }
  return "";
}

ImageSet tiny_set(std::int64_t height, std::int64_t width, std::int64_t channels) {
  ImageSet set;
  set.count = 1;
  set.height = height;
  set.width = width;
  set.channels = channels;
  set.num_classes = 1;
  set.class_names = {"only"};
  set.labels = {0};
  for (std::int64_t i = 0; i < height * width * channels; ++i) {
    set.pixels.push_back(static_cast<std::uint8_t>(i + 1));
  }
  return set;
}

}  // namespace

TEST_CASE("options validation rejects bad values") {
  CHECK(rejected_key(DataOptions{}).empty());
  DataOptions options;
  options.kind = "imagenet";
  CHECK(rejected_key(options) == "kind");
  options = {};
  options.validation_fraction = 1.0;
  CHECK(rejected_key(options) == "validation_fraction");
  options = {};
  options.batch_size = 0;
  CHECK(rejected_key(options) == "batch_size");
  options = {};
  options.subset_mode = "last";
  CHECK(rejected_key(options) == "subset_mode");
  options = {};
  options.normalization = "given";
  options.mean = {0.5};
  CHECK(rejected_key(options) == "mean");
  options.std = {0.0};
  CHECK(rejected_key(options) == "std");
  options = {};
  options.channels = 2;
  CHECK(rejected_key(options) == "channels");
  options = {};
  options.cifar100_labels = "medium";
  CHECK(rejected_key(options) == "cifar100_labels");
  CHECK_THROWS_WITH_AS(validate(options), contains("expected one of \"fine\", \"coarse\""), nasq::sdk::ConfigError);
}

TEST_CASE("mirror default per kind") {
  DataOptions options;
  CHECK_FALSE(mirror_enabled(options));
  options.kind = "cifar10";
  CHECK(mirror_enabled(options));
  options.mirror = false;
  CHECK_FALSE(mirror_enabled(options));
  options.kind = "mnist";
  options.mirror = true;
  CHECK(training_augmentation(options).mirror);
}

TEST_CASE("search split reproducible and balanced") {
  DataOptions options = fashion_options(2000);
  options.validation_fraction = 0.3;
  const SearchSplits first = load_search_splits(options);
  const SearchSplits again = load_search_splits(options);
  CHECK(first.train.count + first.validation.count == 2000);
  CHECK(first.validation.count == 600);
  CHECK(first.train.pixels == again.train.pixels);
  CHECK(first.validation.labels == again.validation.labels);

  options.seed = 7;
  const SearchSplits other = load_search_splits(options);
  CHECK(other.validation.count == 600);
  CHECK(other.validation.pixels != first.validation.pixels);

  // Each class's validation share is within one image of 30 % of its size.
  const ImageSet full = load_full_train(fashion_options(2000));
  const auto total = count_labels(full);
  const auto held_out = count_labels(first.validation);
  for (std::size_t c = 0; c < total.size(); ++c) {
    CAPTURE(c);
    CHECK(std::abs(static_cast<double>(held_out[c]) - 0.3 * static_cast<double>(total[c])) < 1.0);
  }
}

TEST_CASE("split partitions the indices") {
  std::vector<std::int64_t> labels;
  for (int i = 0; i < 103; ++i) {
    labels.push_back(i % 7 == 0 ? 2 : i % 2);
  }
  auto rng = make_rng(3, RngStream::validation_split);
  const SplitIndices split = balanced_split(labels, 3, 0.25, rng);
  std::vector<std::int64_t> joined = split.train;
  joined.insert(joined.end(), split.validation.begin(), split.validation.end());
  std::sort(joined.begin(), joined.end());
  CHECK(joined == iota_indices(103));
  CHECK(split.validation.size() == 26);  // round(0.25 * 103)
}

TEST_CASE("random subset balanced per class") {
  DataOptions options = fashion_options(1000);
  options.subset_mode = "random";
  const ImageSet subset = load_full_train(options);
  CHECK(subset.count == 1000);
  CHECK(count_labels(subset) == std::vector<std::int64_t>(10, 100));
  options.seed = 1;
  CHECK(load_full_train(options).pixels != subset.pixels);

  // Classes with too few images give their share to the others.
  std::vector<std::int64_t> labels{0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2};
  auto rng = make_rng(0, RngStream::train_subset);
  const auto chosen = balanced_subset(labels, 3, 9, rng);
  std::vector<std::int64_t> per_class(3, 0);
  for (const std::int64_t index : chosen) {
    ++per_class[static_cast<std::size_t>(labels[static_cast<std::size_t>(index)])];
  }
  CHECK(per_class == std::vector<std::int64_t>{1, 4, 4});
  CHECK(std::is_sorted(chosen.begin(), chosen.end()));
}

TEST_CASE("test set and input size") {
  DataOptions options = fashion_options(100);
  options.input_size = 32;
  options.channels = 3;
  const ImageSet test = load_test(options);
  CHECK(test.count == 500);
  CHECK(test.height == 32);
  CHECK(test.width == 32);
  CHECK(test.channels == 3);
  CHECK(test.pixels[0] == test.pixels[1]);
}

TEST_CASE("normalization auto given none") {
  const ImageSet train = load_full_train(fashion_options(3000));
  DataOptions options;
  const Normalization automatic = resolve_normalization(options, train);
  REQUIRE(automatic.mean.size() == 1);
  // Fashion-MNIST pixels average about 0.286 with std about 0.353.
  CHECK(automatic.mean[0] == doctest::Approx(0.286).epsilon(0.03));
  CHECK(automatic.std[0] == doctest::Approx(0.353).epsilon(0.03));

  options.normalization = "given";
  options.mean = {0.5};
  options.std = {0.25};
  const ImageSet rgb = convert_channels(tiny_set(2, 2, 1), 3);
  const Normalization given = resolve_normalization(options, rgb);
  CHECK(given.mean == std::vector<float>{0.5f, 0.5f, 0.5f});
  CHECK(given.std == std::vector<float>{0.25f, 0.25f, 0.25f});
  options.mean = {0.1, 0.2};
  options.std = {0.3, 0.4};
  CHECK_THROWS_WITH_AS(resolve_normalization(options, rgb), contains("images have 3 channels"),
                       nasq::sdk::ConfigError);

  options.normalization = "none";
  CHECK(resolve_normalization(options, rgb).std == std::vector<float>{1.0f, 1.0f, 1.0f});
}

TEST_CASE("batch assembly normalises to NCHW") {
  const ImageSet set = tiny_set(2, 3, 2);  // pixel (y, x, c) = 1 + (y * 3 + x) * 2 + c
  const Normalization normalization{{0.0f, 0.5f}, {1.0f, 2.0f}};
  std::vector<float> out(12);
  std::int64_t label = -1;
  const std::int64_t index = 0;
  assemble_batch(set, std::span(&index, 1), Augmentation{}, 0, normalization, out.data(), &label);
  CHECK(label == 0);
  // Channel 0 at (1, 2) is pixel 1 + 5 * 2 = 11.
  CHECK(out[1 * 3 + 2] == doctest::Approx(11.0 / 255.0));
  // Channel 1 at (0, 1) is pixel 4: (4 / 255 - 0.5) / 2.
  CHECK(out[6 + 1] == doctest::Approx((4.0 / 255.0 - 0.5) / 2.0));
}

TEST_CASE("shift and mirror move pixels") {
  const ImageSet set = tiny_set(3, 3, 1);  // pixel (y, x) = 1 + 3y + x
  const Normalization identity{{0.0f}, {1.0f / 255.0f}};  // outputs raw pixel values
  std::vector<float> out(9);

  write_image(set, 0, ItemTransform{.shift_y = 1, .shift_x = 0, .mirror = false}, identity, out.data());
  CHECK(out == std::vector<float>{4, 5, 6, 7, 8, 9, 0, 0, 0});

  write_image(set, 0, ItemTransform{.shift_y = 0, .shift_x = -1, .mirror = true}, identity, out.data());
  CHECK(out == std::vector<float>{2, 1, 0, 5, 4, 0, 8, 7, 0});

  // Draws stay within the pad and both mirror outcomes occur.
  std::mt19937_64 rng(5);
  const Augmentation augmentation{.random_shift = true, .shift_pad = 2, .mirror = true};
  int mirrored = 0;
  for (int i = 0; i < 200; ++i) {
    const ItemTransform transform = draw_transform(augmentation, rng);
    CHECK(std::abs(transform.shift_y) <= 2);
    CHECK(std::abs(transform.shift_x) <= 2);
    mirrored += transform.mirror ? 1 : 0;
  }
  CHECK(mirrored > 50);
  CHECK(mirrored < 150);
}

TEST_CASE("image folder splits and summary") {
  const auto root = fresh_folder("image_splits");
  for (const std::string split : {"train", "test"}) {
    for (int i = 0; i < 4; ++i) {
      write_image(root / split / "cat" / (std::to_string(i) + ".png"), 6, 6, 3, {200, 100, 50});
      write_image(root / split / "dog" / (std::to_string(i) + ".jpg"), 8, 8, 3, {20, 40, 60});
    }
  }
  DataOptions options;
  options.kind = "image-folder";
  options.path = root.string();
  options.input_size = 4;
  options.validation_fraction = 0.25;
  CHECK(has_test_split(options));
  const DatasetSummary summary = describe(options);
  CHECK(summary.class_names == std::vector<std::string>{"cat", "dog"});
  CHECK(summary.channels == 3);
  CHECK(summary.height == 4);
  REQUIRE(summary.splits.size() == 4);
  CHECK(summary.splits[0].count == 6);
  CHECK(summary.splits[1].label_counts == std::vector<std::int64_t>{1, 1});
  CHECK(summary.splits[2].count == 8);
  CHECK(summary.splits[3].name == "test");
  CHECK(summary.splits[3].count == 8);
  CHECK(summary.train_statistics.mean.size() == 3);
  CHECK(format_summary(summary).find("images per class") != std::string::npos);

  std::filesystem::create_directories(root / "test" / "emu");
  write_image(root / "test" / "emu" / "0.png", 6, 6, 3, {1, 1, 1});
  CHECK_THROWS_WITH_AS(load_test(options), contains("class folders differ"), nasq::sdk::Error);

  options.path = (root / "train").string();
  CHECK_FALSE(has_test_split(options));
  CHECK_THROWS_WITH_AS(load_test(options), contains("has no train/ and test/ sub-folders"), nasq::sdk::Error);
}

TEST_CASE("empty training split rejected") {
  DataOptions options = fashion_options(1);
  options.validation_fraction = 0.9;
  CHECK_THROWS_WITH_AS(load_search_splits(options), contains("training split is empty"), nasq::sdk::ConfigError);
}
