// Test helper: a few Fashion-MNIST test images as a network input batch.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <numeric>
#include <vector>

#include "core/data/batch_assembly.hpp"
#include "core/data/idx_reader.hpp"
#include "core/data/image_set.hpp"

namespace nasq::test {

// The first `count` images of the Fashion-MNIST test split (Debian's
// dataset-fashion-mnist) as float [count, 1, 28, 28], normalized with their
// own mean and std. Comparisons feed one batch to both models, so any
// realistic normalization serves.
inline torch::Tensor fashion_mnist_test_batch(std::int64_t count) {
  data::IdxReadOptions options;
  options.limit = count;
  const data::ImageSet images = data::read_idx_folder("/usr/share/datasets/fashion-mnist", true,
                                                      data::fashion_mnist_class_names(), options);
  std::vector<std::int64_t> indices(static_cast<std::size_t>(images.count));
  std::iota(indices.begin(), indices.end(), 0);
  torch::Tensor batch = torch::empty({images.count, images.channels, images.height, images.width});
  std::vector<std::int64_t> labels(indices.size());
  data::assemble_batch(images, indices, data::Augmentation{}, 0, data::compute_normalization(images),
                       batch.data_ptr<float>(), labels.data());
  return batch;
}

}  // namespace nasq::test
