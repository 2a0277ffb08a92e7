// Batch assembly without LibTorch: random shift and mirror augmentation and
// normalisation of uint8 NHWC images into float NCHW buffers.
#pragma once

#include <cstdint>
#include <random>
#include <span>

#include "core/data/image_set.hpp"

namespace nasq::data {

// Training-time augmentation, drawn per image.
struct Augmentation {
  // Pads the image with `shift_pad` black pixels on each side and crops a
  // random window of the original size, so the content moves by up to
  // shift_pad pixels in each direction.
  bool random_shift = false;
  std::int64_t shift_pad = 4;
  // Flips the image left-right with probability 1/2.
  bool mirror = false;

  bool enabled() const noexcept { return (random_shift && shift_pad > 0) || mirror; }
};

// The augmentation drawn for one image. Output pixel (y, x) is the input
// pixel (y + shift_y, x' + shift_x), where x' = width - 1 - x when mirrored
// and x otherwise; pixels outside the image are black (0).
struct ItemTransform {
  std::int64_t shift_y = 0;
  std::int64_t shift_x = 0;
  bool mirror = false;
};

// Draws one image's transform; draws nothing when augmentation is off.
ItemTransform draw_transform(const Augmentation& augmentation, std::mt19937_64& rng);

// Writes image `index` as channels x height x width floats normalised with
// `normalization` (one mean and std per channel) into `out`.
void write_image(const ImageSet& images, std::int64_t index, const ItemTransform& transform,
                 const Normalization& normalization, float* out);

// Writes the images at `indices` as one NCHW float batch into `out_images`
// (indices.size() * channels * height * width floats) and their labels into
// `out_labels`. Each image's transform is drawn, in order, from a generator
// seeded with `batch_seed`, so a batch depends only on its indices and seed.
void assemble_batch(const ImageSet& images, std::span<const std::int64_t> indices,
                    const Augmentation& augmentation, std::uint64_t batch_seed,
                    const Normalization& normalization, float* out_images, std::int64_t* out_labels);

}  // namespace nasq::data
