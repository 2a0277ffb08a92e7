// Batch loader for LibTorch training, plus device placement and mixup.
//
// The loader returns shuffled, augmented and normalised batches that worker
// threads assemble ahead of time, and its state can be saved in a checkpoint
// and restored. One BatchLoader is used from one thread. Its worker threads
// only read the image set and fill new tensors, so they do not use LibTorch's
// intra-op thread pool. User errors (a state from another loader, a device
// that is not available) raise nasq::sdk::Error.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "core/data/batch_assembly.hpp"
#include "core/data/data_options.hpp"
#include "core/data/image_set.hpp"

namespace nasq::data {

struct LoaderOptions {
  std::int64_t batch_size = 64;
  // Threads assembling batches ahead; 0 assembles in next(). With n workers
  // up to n batches are prepared ahead of the one being returned.
  std::int64_t workers = 1;
  // Draws a new order every epoch; off keeps the set's order.
  bool shuffle = true;
  bool drop_last = false;
  Augmentation augmentation;
  std::uint64_t seed = 0;
};

// The options for the training batches (shuffled, augmented) or for
// evaluation batches (in order, no augmentation) of a data configuration.
LoaderOptions loader_options(const DataOptions& options, bool training);

struct Batch {
  at::Tensor images;  // float32, N x C x H x W, normalised
  at::Tensor labels;  // int64, N
  std::int64_t epoch = 0;
  std::int64_t index = 0;  // position of the batch within its epoch
};

// Position of a loader, for checkpoints. Restoring it into a loader over
// the same images and options continues with exactly the batches (order and
// augmentation) the saved loader would have produced next.
struct LoaderState {
  std::int64_t epoch = 0;
  // Batches already returned in `epoch`.
  std::int64_t position = 0;
  // The generator state at the start of `epoch`, as written by
  // std::mt19937_64's operator<< (decimal numbers separated by spaces).
  std::string rng_state;
  // Checked on restore: the loader must have the same image count and batch size.
  std::int64_t image_count = 0;
  std::int64_t batch_size = 0;
};

class BatchLoader {
 public:
  // Throws nasq::sdk::Error for an empty set, a batch size below 1 or a
  // normalization whose channel count differs from the images'.
  BatchLoader(std::shared_ptr<const ImageSet> images, Normalization normalization, LoaderOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  std::int64_t batches_per_epoch() const noexcept;

  // Returns the next batch of the current epoch, or nullopt when the epoch is
  // exhausted; the call after a nullopt starts the next epoch. Rethrows an
  // error raised while assembling the batch.
  std::optional<Batch> next();

  LoaderState state() const;
  // Continues from `state`. Throws nasq::sdk::Error when the state comes from
  // a loader over a different image count or batch size, or is malformed.
  void restore(const LoaderState& state);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Returns the device for a config value ("cpu", "cuda", "cuda:1"). Throws
// nasq::sdk::Error for an unknown name, and for CUDA when this LibTorch build
// has no CUDA support or no GPU is visible.
c10::Device parse_device(const std::string& name);

// Returns the batch on `device`; the one place where batches change device.
// Throws nasq::sdk::Error for CUDA when it is not available.
Batch to_device(const Batch& batch, const c10::Device& device);

// A batch mixed with a shuffled copy of itself: images = lambda * x +
// (1 - lambda) * x[permutation]. The loss is lambda * loss(labels_a) +
// (1 - lambda) * loss(labels_b).
struct MixedBatch {
  at::Tensor images;
  at::Tensor labels_a;
  at::Tensor labels_b;
  at::Tensor permutation;  // int64; labels_b = labels_a[permutation]
  double lambda = 1.0;
};

// Mixes `batch` with lambda drawn from Beta(alpha, alpha) and a permutation
// drawn from `rng`. Throws nasq::sdk::Error for alpha <= 0.
MixedBatch mixup(const Batch& batch, double alpha, std::mt19937_64& rng);

}  // namespace nasq::data
