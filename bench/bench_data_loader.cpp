// Measures the data loader's batch assembly time per epoch on 10k
// Fashion-MNIST images (batch 64), with and without augmentation, for 0, 1
// and 2 worker threads. Each case runs alone and next to a stand-in
// training step.
//
// Usage: bench_data_loader [FASHION_MNIST_DIR] [EPOCHS]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "core/data/batch_loader.hpp"
#include "core/data/dataset.hpp"
#include "nasq/sdk/error.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// A convolution forward and backward pass in place of a real training step.
struct StandInStep {
  torch::nn::Conv2d conv{torch::nn::Conv2dOptions(1, 16, 3).stride(2).padding(1)};
  torch::nn::Linear head{16 * 14 * 14, 10};

  void run(const nasq::data::Batch& batch) {
    const torch::Tensor features = torch::relu(conv->forward(batch.images)).flatten(1);
    const torch::Tensor loss = torch::nn::functional::cross_entropy(head->forward(features), batch.labels);
    loss.backward();
  }
};

// Returns the mean milliseconds per epoch over `epochs` epochs after one warm-up epoch.
double time_epochs(nasq::data::BatchLoader& loader, int epochs, StandInStep* step) {
  const auto run_epoch = [&] {
    while (auto batch = loader.next()) {
      if (step != nullptr) {
        step->run(*batch);
      }
    }
  };
  run_epoch();
  const auto start = Clock::now();
  for (int e = 0; e < epochs; ++e) {
    run_epoch();
  }
  const std::chrono::duration<double, std::milli> elapsed = Clock::now() - start;
  return elapsed.count() / epochs;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    nasq::data::DataOptions options;
    if (argc > 1) {
      options.path = argv[1];
    }
    const int epochs = argc > 2 ? std::stoi(argv[2]) : 3;
    options.train_subset = 10000;
    options.batch_size = 64;
    const auto images = std::make_shared<const nasq::data::ImageSet>(nasq::data::load_full_train(options));
    const nasq::data::Normalization normalization = nasq::data::resolve_normalization(options, *images);
    StandInStep step;

    std::printf("images %lld, batch %lld, epochs timed %d, LibTorch intra-op threads %d, hardware threads %u\n",
                static_cast<long long>(images->count), static_cast<long long>(options.batch_size), epochs,
                torch::get_num_threads(), std::thread::hardware_concurrency());
    std::printf("%-12s %-8s %18s %22s\n", "augment", "workers", "assembly ms/epoch", "with step ms/epoch");
    for (const bool augment : {false, true}) {
      for (const std::int64_t workers : {0, 1, 2}) {
        nasq::data::LoaderOptions loader_options;
        loader_options.batch_size = options.batch_size;
        loader_options.workers = workers;
        if (augment) {
          loader_options.augmentation = {.random_shift = true, .shift_pad = 4, .mirror = true};
        }
        nasq::data::BatchLoader assembly_only(images, normalization, loader_options);
        const double assembly_ms = time_epochs(assembly_only, epochs, nullptr);
        nasq::data::BatchLoader with_step(images, normalization, loader_options);
        const double step_ms = time_epochs(with_step, epochs, &step);
        std::printf("%-12s %-8lld %18.1f %22.1f\n", augment ? "shift+mirror" : "none",
                    static_cast<long long>(workers), assembly_ms, step_ms);
      }
    }
    return 0;
  } catch (const nasq::sdk::Error& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
