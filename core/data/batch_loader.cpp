// LibTorch batch loader with prefetching worker threads, checkpointable state,
// device placement and mixup.
#include "core/data/batch_loader.hpp"

#include <torch/torch.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <locale>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/data/sampling.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::data {

namespace {

// Fixed threads that run batch-assembly tasks in submission order.
class WorkerPool {
 public:
  explicit WorkerPool(std::int64_t threads) {
    for (std::int64_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { run(); });
    }
  }

  ~WorkerPool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (std::thread& thread : threads_) {
      thread.join();
    }
  }

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  std::future<Batch> submit(std::function<Batch()> work) {
    std::packaged_task<Batch()> task(std::move(work));
    std::future<Batch> result = task.get_future();
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(task));
    }
    ready_.notify_one();
    return result;
  }

 private:
  void run() {
    for (;;) {
      std::packaged_task<Batch()> task;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) {
          return;
        }
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::packaged_task<Batch()>> queue_;
  bool stopping_ = false;
};

// Mixes two 64-bit values into a well-spread seed (the splitmix64 finaliser).
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string save_rng(const std::mt19937_64& rng) {
  std::ostringstream stream;
  stream.imbue(std::locale::classic());
  stream << rng;
  return stream.str();
}

// Everything one batch needs, copied so that a worker never touches the loader.
struct BatchJob {
  std::shared_ptr<const ImageSet> images;
  Normalization normalization;
  Augmentation augmentation;
  std::vector<std::int64_t> indices;
  std::uint64_t seed = 0;
  std::int64_t epoch = 0;
  std::int64_t index = 0;

  Batch operator()() const {
    const auto count = static_cast<std::int64_t>(indices.size());
    Batch batch;
    batch.images = torch::empty({count, images->channels, images->height, images->width}, torch::kFloat32);
    batch.labels = torch::empty({count}, torch::kInt64);
    assemble_batch(*images, indices, augmentation, seed, normalization, batch.images.data_ptr<float>(),
                   batch.labels.data_ptr<std::int64_t>());
    batch.epoch = epoch;
    batch.index = index;
    return batch;
  }
};

}  // namespace

LoaderOptions loader_options(const DataOptions& options, bool training) {
  LoaderOptions result;
  result.batch_size = options.batch_size;
  result.workers = options.workers;
  result.shuffle = training;
  result.drop_last = training && options.drop_last;
  result.augmentation = training ? training_augmentation(options) : Augmentation{};
  result.seed = options.seed;
  return result;
}

struct BatchLoader::Impl {
  std::shared_ptr<const ImageSet> images;
  Normalization normalization;
  LoaderOptions options;
  std::int64_t batches_per_epoch = 0;

  std::int64_t epoch = 0;
  std::int64_t position = 0;
  // Advances when an epoch begins; epoch_start_state is its state before that.
  std::mt19937_64 rng;
  std::string epoch_start_state;
  std::vector<std::int64_t> order;
  std::uint64_t epoch_seed = 0;

  std::unique_ptr<WorkerPool> pool;
  // Futures of the batches at position, position + 1, ...
  std::deque<std::future<Batch>> pending;

  void begin_epoch() {
    epoch_start_state = save_rng(rng);
    order = iota_indices(images->count);
    if (options.shuffle) {
      shuffle_values(order, rng);
    }
    epoch_seed = rng();
  }

  BatchJob make_job(std::int64_t index) const {
    const std::int64_t start = index * options.batch_size;
    const std::int64_t end = std::min(start + options.batch_size, images->count);
    return BatchJob{images,
                    normalization,
                    options.augmentation,
                    std::vector<std::int64_t>(order.begin() + start, order.begin() + end),
                    mix_seed(epoch_seed, static_cast<std::uint64_t>(index)),
                    epoch,
                    index};
  }

  // Queues batches ahead of `position`, within the current epoch.
  void prefetch() {
    if (!pool) {
      return;
    }
    while (static_cast<std::int64_t>(pending.size()) < options.workers &&
           position + static_cast<std::int64_t>(pending.size()) < batches_per_epoch) {
      pending.push_back(pool->submit(make_job(position + static_cast<std::int64_t>(pending.size()))));
    }
  }

  // Waits for queued batches and drops them.
  void discard_pending() {
    for (std::future<Batch>& batch : pending) {
      batch.wait();
    }
    pending.clear();
  }
};

BatchLoader::BatchLoader(std::shared_ptr<const ImageSet> images, Normalization normalization, LoaderOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (!images || images->count == 0) {
    throw sdk::Error("cannot build a batch loader over an empty image set");
  }
  if (options.batch_size < 1) {
    throw sdk::Error("batch size " + std::to_string(options.batch_size) + " is invalid; expected at least 1");
  }
  if (normalization.mean.size() != static_cast<std::size_t>(images->channels) ||
      normalization.std.size() != static_cast<std::size_t>(images->channels)) {
    throw sdk::Error(images->source + ": normalization has " + std::to_string(normalization.mean.size()) +
                     " channels but the images have " + std::to_string(images->channels));
  }
  const std::int64_t full_batches = images->count / options.batch_size;
  impl_->batches_per_epoch = options.drop_last ? full_batches : (images->count + options.batch_size - 1) / options.batch_size;
  if (impl_->batches_per_epoch == 0) {
    throw sdk::Error(images->source + ": drop_last with " + std::to_string(images->count) +
                     " images and batch size " + std::to_string(options.batch_size) +
                     " leaves no batch; lower batch_size or turn drop_last off");
  }
  impl_->images = std::move(images);
  impl_->normalization = std::move(normalization);
  impl_->options = options;
  impl_->rng = make_rng(options.seed, RngStream::loader);
  impl_->begin_epoch();
  if (options.workers > 0) {
    impl_->pool = std::make_unique<WorkerPool>(options.workers);
  }
  impl_->prefetch();
}

BatchLoader::~BatchLoader() {
  impl_->discard_pending();
}

std::int64_t BatchLoader::batches_per_epoch() const noexcept { return impl_->batches_per_epoch; }

std::optional<Batch> BatchLoader::next() {
  Impl& impl = *impl_;
  if (impl.position == impl.batches_per_epoch) {
    ++impl.epoch;
    impl.position = 0;
    impl.begin_epoch();
    impl.prefetch();
    return std::nullopt;
  }

  Batch batch;
  if (impl.pending.empty()) {
    batch = impl.make_job(impl.position)();
  } else {
    std::future<Batch> ready = std::move(impl.pending.front());
    impl.pending.pop_front();
    try {
      batch = ready.get();
    } catch (...) {
      // The queue no longer lines up with `position`; rebuild it on the next call.
      impl.discard_pending();
      throw;
    }
  }
  ++impl.position;
  impl.prefetch();
  return batch;
}

LoaderState BatchLoader::state() const {
  return LoaderState{impl_->epoch, impl_->position, impl_->epoch_start_state, impl_->images->count,
                     impl_->options.batch_size};
}

void BatchLoader::restore(const LoaderState& state) {
  Impl& impl = *impl_;
  if (state.image_count != impl.images->count || state.batch_size != impl.options.batch_size) {
    throw sdk::Error("loader state was saved for " + std::to_string(state.image_count) + " images in batches of " +
                     std::to_string(state.batch_size) + ", but this loader has " +
                     std::to_string(impl.images->count) + " images in batches of " +
                     std::to_string(impl.options.batch_size) + "; resume with the same [data] settings");
  }
  if (state.epoch < 0 || state.position < 0 || state.position > impl.batches_per_epoch) {
    throw sdk::Error("loader state has epoch " + std::to_string(state.epoch) + " and position " +
                     std::to_string(state.position) + "; expected a position in [0, " +
                     std::to_string(impl.batches_per_epoch) + "]");
  }
  std::mt19937_64 rng;
  std::istringstream stream(state.rng_state);
  stream.imbue(std::locale::classic());
  stream >> rng;
  if (stream.fail()) {
    throw sdk::Error("loader state has a malformed generator state; expected the 313 numbers std::mt19937_64 "
                     "writes, got \"" + state.rng_state.substr(0, 40) + "...\"");
  }

  impl.discard_pending();
  impl.rng = rng;
  impl.epoch = state.epoch;
  impl.begin_epoch();
  impl.position = state.position;
  impl.prefetch();
}

c10::Device parse_device(const std::string& name) {
  std::optional<c10::Device> device;
  try {
    device.emplace(name);
  } catch (const c10::Error&) {
    throw sdk::Error("device = \"" + name + "\" is invalid; expected \"cpu\", \"cuda\" or \"cuda:N\"");
  }
  if (device->is_cuda()) {
    if (!torch::cuda::is_available()) {
      throw sdk::Error("device = \"" + name + "\" requested but this LibTorch build has no CUDA support or no GPU "
                       "is visible; build against a CUDA LibTorch with -DTorch_DIR=... or set device = \"cpu\"");
    }
    if (device->has_index() && device->index() >= static_cast<c10::DeviceIndex>(torch::cuda::device_count())) {
      throw sdk::Error("device = \"" + name + "\" requested but only " +
                       std::to_string(torch::cuda::device_count()) + " CUDA devices are visible");
    }
  } else if (!device->is_cpu()) {
    throw sdk::Error("device = \"" + name + "\" is not supported; expected \"cpu\", \"cuda\" or \"cuda:N\"");
  }
  return *device;
}

Batch to_device(const Batch& batch, const c10::Device& device) {
  if (device.is_cuda() && !torch::cuda::is_available()) {
    throw sdk::Error("device = \"cuda\" requested but this LibTorch build has no CUDA support or no GPU is "
                     "visible; build against a CUDA LibTorch with -DTorch_DIR=... or set device = \"cpu\"");
  }
  Batch moved = batch;
  moved.images = batch.images.to(device);
  moved.labels = batch.labels.to(device);
  return moved;
}

MixedBatch mixup(const Batch& batch, double alpha, std::mt19937_64& rng) {
  if (!(alpha > 0.0)) {
    throw sdk::Error("mixup alpha " + std::to_string(alpha) + " is invalid; expected a positive number");
  }
  // NOTE: std::gamma_distribution's algorithm is left to the standard library,
  // so lambda for a given generator state differs between libstdc++ and libc++.
  std::gamma_distribution<double> gamma(alpha, 1.0);
  const double x = gamma(rng);
  const double y = gamma(rng);
  const double lambda = x + y > 0.0 ? x / (x + y) : 0.5;

  std::vector<std::int64_t> permutation = iota_indices(batch.labels.size(0));
  shuffle_values(permutation, rng);
  const torch::Tensor index = torch::tensor(permutation, torch::kInt64).to(batch.images.device());

  MixedBatch mixed;
  mixed.images = batch.images * lambda + batch.images.index_select(0, index) * (1.0 - lambda);
  mixed.labels_a = batch.labels;
  mixed.labels_b = batch.labels.index_select(0, index);
  mixed.permutation = index;
  mixed.lambda = lambda;
  return mixed;
}

}  // namespace nasq::data
