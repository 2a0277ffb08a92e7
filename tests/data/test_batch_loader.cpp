// Tests of the LibTorch batch loader: epochs, reproducibility, resuming from a
// saved state, device placement and mixup.
#include "tests/support/torch_doctest.hpp"

#include <algorithm>

#include "core/data/batch_loader.hpp"
#include "core/data/dataset.hpp"
#include "fixtures.hpp"
#include "nasq/sdk/error.hpp"

using namespace nasq::data;
using namespace nasq::data::testing;

// doctest::Contains takes a doctest::String, which has no std::string constructor.
static doctest::Contains contains(const std::string& text) { return doctest::Contains(text.c_str()); }

namespace {

std::shared_ptr<const ImageSet> fashion_slice(std::int64_t count) {
  DataOptions options;
  options.path = kFashionMnistDir.string();
  options.train_subset = count;
  return std::make_shared<const ImageSet>(load_full_train(options));
}

LoaderOptions augmented(std::int64_t workers) {
  LoaderOptions options;
  options.batch_size = 32;
  options.workers = workers;
  options.seed = 11;
  options.augmentation = Augmentation{.random_shift = true, .shift_pad = 4, .mirror = true};
  return options;
}

// Collects the next `count` batches, passing over epoch ends.
std::vector<Batch> take(BatchLoader& loader, int count) {
  std::vector<Batch> batches;
  while (static_cast<int>(batches.size()) < count) {
    if (auto batch = loader.next()) {
      batches.push_back(std::move(*batch));
    }
  }
  return batches;
}

void check_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(a[i].epoch == b[i].epoch);
    CHECK(a[i].index == b[i].index);
    CHECK(torch::equal(a[i].images, b[i].images));
    CHECK(torch::equal(a[i].labels, b[i].labels));
  }
}

const Normalization kFashionNormalization{{0.286f}, {0.353f}};

}  // namespace

TEST_CASE("loader epoch covers every image once") {
  const auto images = fashion_slice(300);
  LoaderOptions options = augmented(1);
  BatchLoader loader(images, kFashionNormalization, options);
  CHECK(loader.batches_per_epoch() == 10);

  std::vector<std::int64_t> labels;
  std::int64_t batches = 0;
  while (auto batch = loader.next()) {
    const std::vector<std::int64_t> shape{batch->labels.size(0), 1, 28, 28};
    CHECK(batch->images.sizes().vec() == shape);
    CHECK(batch->images.dtype() == torch::kFloat32);
    CHECK(batch->labels.dtype() == torch::kInt64);
    CHECK(batch->epoch == 0);
    CHECK(batch->index == batches);
    const auto* data = batch->labels.data_ptr<std::int64_t>();
    labels.insert(labels.end(), data, data + batch->labels.size(0));
    ++batches;
  }
  CHECK(batches == 10);
  std::vector<std::int64_t> expected = images->labels;
  std::sort(labels.begin(), labels.end());
  std::sort(expected.begin(), expected.end());
  CHECK(labels == expected);
  CHECK(loader.state().epoch == 1);
  CHECK(loader.next()->epoch == 1);
}

TEST_CASE("loader same seed same batches for any worker count") {
  const auto images = fashion_slice(200);
  BatchLoader serial(images, kFashionNormalization, augmented(0));
  BatchLoader parallel(images, kFashionNormalization, augmented(2));
  check_same(take(serial, 15), take(parallel, 15));

  LoaderOptions other_seed = augmented(1);
  other_seed.seed = 12;
  BatchLoader other(images, kFashionNormalization, other_seed);
  BatchLoader reference(images, kFashionNormalization, augmented(1));
  CHECK_FALSE(torch::equal(other.next()->images, reference.next()->images));
}

TEST_CASE("loader resume matches uninterrupted run") {
  const auto images = fashion_slice(250);  // 8 batches of 32, the last one of 26
  for (const bool augment : {false, true}) {
    for (const std::int64_t workers : {0, 1, 2}) {
      CAPTURE(augment);
      CAPTURE(workers);
      LoaderOptions options = augmented(workers);
      if (!augment) {
        options.augmentation = Augmentation{};
      }
      BatchLoader uninterrupted(images, kFashionNormalization, options);
      take(uninterrupted, 5);
      const LoaderState saved = uninterrupted.state();
      CHECK(saved.position == 5);
      const std::vector<Batch> expected = take(uninterrupted, 12);  // crosses into epochs 1 and 2

      BatchLoader resumed(images, kFashionNormalization, options);
      take(resumed, 2);
      resumed.restore(saved);
      check_same(take(resumed, 12), expected);
    }
  }
}

TEST_CASE("loader resume at epoch end and in a later epoch") {
  const auto images = fashion_slice(96);  // 3 batches per epoch
  BatchLoader uninterrupted(images, kFashionNormalization, augmented(1));
  take(uninterrupted, 3);
  const LoaderState end_of_epoch = uninterrupted.state();
  CHECK(end_of_epoch.position == 3);
  const std::vector<Batch> after_end = take(uninterrupted, 4);
  const LoaderState later = uninterrupted.state();
  CHECK(later.epoch == 2);
  CHECK(later.position == 1);
  const std::vector<Batch> after_later = take(uninterrupted, 4);

  BatchLoader resumed(images, kFashionNormalization, augmented(1));
  resumed.restore(end_of_epoch);
  CHECK_FALSE(resumed.next().has_value());
  check_same(take(resumed, 4), after_end);
  resumed.restore(later);
  check_same(take(resumed, 4), after_later);
}

TEST_CASE("loader rejects a foreign state") {
  const auto images = fashion_slice(64);
  BatchLoader loader(images, kFashionNormalization, augmented(0));
  LoaderState state = loader.state();
  state.batch_size = 16;
  CHECK_THROWS_WITH_AS(loader.restore(state), contains("saved for 64 images in batches of 16"), nasq::sdk::Error);
  state = loader.state();
  state.rng_state = "12 34";
  CHECK_THROWS_WITH_AS(loader.restore(state), contains("malformed generator state"), nasq::sdk::Error);
  state = loader.state();
  state.position = 3;
  CHECK_THROWS_WITH_AS(loader.restore(state), contains("expected a position in [0, 2]"), nasq::sdk::Error);
}

TEST_CASE("loader evaluation options keep order") {
  const auto images = fashion_slice(70);
  DataOptions data;
  data.batch_size = 50;
  data.drop_last = true;
  BatchLoader loader(images, kFashionNormalization, loader_options(data, false));
  CHECK(loader.batches_per_epoch() == 2);
  const Batch first = *loader.next();
  CHECK(first.labels[0].item<std::int64_t>() == images->labels[0]);
  CHECK(first.labels[49].item<std::int64_t>() == images->labels[49]);
  const float expected = (images->pixels[14 * 28 + 14] / 255.0f - 0.286f) / 0.353f;
  CHECK(first.images[0][0][14][14].item<float>() == doctest::Approx(expected));
}

TEST_CASE("device placement") {
  const auto images = fashion_slice(8);
  BatchLoader loader(images, kFashionNormalization, augmented(0));
  const Batch batch = *loader.next();
  const Batch moved = to_device(batch, parse_device("cpu"));
  CHECK(torch::equal(moved.images, batch.images));
  CHECK_THROWS_WITH_AS(parse_device("tpu"), contains("device = \"tpu\" is invalid"), nasq::sdk::Error);
  if (!torch::cuda::is_available()) {
    CHECK_THROWS_WITH_AS(parse_device("cuda"), contains("no CUDA support or no GPU is visible"), nasq::sdk::Error);
    CHECK_THROWS_WITH_AS(to_device(batch, c10::Device(c10::kCUDA)), contains("set device = \"cpu\""),
                         nasq::sdk::Error);
  }
}

TEST_CASE("mixup mixes with a permutation") {
  const auto images = fashion_slice(32);
  BatchLoader loader(images, kFashionNormalization, augmented(0));
  const Batch batch = *loader.next();
  std::mt19937_64 rng(4);
  const MixedBatch mixed = mixup(batch, 0.4, rng);
  CHECK(mixed.lambda >= 0.0);
  CHECK(mixed.lambda <= 1.0);
  CHECK(torch::equal(mixed.labels_a, batch.labels));
  CHECK(torch::equal(std::get<0>(mixed.labels_b.sort()), std::get<0>(batch.labels.sort())));
  CHECK(torch::equal(mixed.labels_b, batch.labels.index_select(0, mixed.permutation)));
  const torch::Tensor expected =
      batch.images * mixed.lambda + batch.images.index_select(0, mixed.permutation) * (1.0 - mixed.lambda);
  CHECK(torch::allclose(mixed.images, expected));
  CHECK_THROWS_AS(mixup(batch, 0.0, rng), nasq::sdk::Error);
}
