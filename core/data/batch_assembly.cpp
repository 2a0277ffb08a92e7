// Augments and normalises uint8 NHWC images into float NCHW batches.
#include "core/data/batch_assembly.hpp"

#include <stdexcept>
#include <vector>

#include "core/data/sampling.hpp"

namespace nasq::data {

ItemTransform draw_transform(const Augmentation& augmentation, std::mt19937_64& rng) {
  ItemTransform transform;
  if (augmentation.random_shift && augmentation.shift_pad > 0) {
    const auto span = static_cast<std::uint64_t>(2 * augmentation.shift_pad + 1);
    transform.shift_y = static_cast<std::int64_t>(uniform_below(rng, span)) - augmentation.shift_pad;
    transform.shift_x = static_cast<std::int64_t>(uniform_below(rng, span)) - augmentation.shift_pad;
  }
  if (augmentation.mirror) {
    transform.mirror = uniform_below(rng, 2) == 1;
  }
  return transform;
}

void write_image(const ImageSet& images, std::int64_t index, const ItemTransform& transform,
                 const Normalization& normalization, float* out) {
  const std::int64_t height = images.height;
  const std::int64_t width = images.width;
  const std::int64_t channels = images.channels;
  if (normalization.mean.size() != static_cast<std::size_t>(channels) ||
      normalization.std.size() != static_cast<std::size_t>(channels)) {
    throw std::logic_error("normalization has a channel count other than the images'; this is a bug in nasq");
  }
  const std::uint8_t* image = images.pixels.data() + index * images.image_bytes();

  std::vector<float> scale(static_cast<std::size_t>(channels));
  std::vector<float> offset(static_cast<std::size_t>(channels));
  for (std::size_t c = 0; c < scale.size(); ++c) {
    scale[c] = 1.0f / (255.0f * normalization.std[c]);
    offset[c] = -normalization.mean[c] / normalization.std[c];
  }

  for (std::int64_t y = 0; y < height; ++y) {
    const std::int64_t source_y = y + transform.shift_y;
    for (std::int64_t x = 0; x < width; ++x) {
      const std::int64_t source_x = (transform.mirror ? width - 1 - x : x) + transform.shift_x;
      const bool inside = source_y >= 0 && source_y < height && source_x >= 0 && source_x < width;
      const std::uint8_t* pixel = inside ? image + (source_y * width + source_x) * channels : nullptr;
      for (std::int64_t c = 0; c < channels; ++c) {
        const float value = inside ? static_cast<float>(pixel[c]) : 0.0f;
        out[(c * height + y) * width + x] = value * scale[static_cast<std::size_t>(c)] + offset[static_cast<std::size_t>(c)];
      }
    }
  }
}

void assemble_batch(const ImageSet& images, std::span<const std::int64_t> indices,
                    const Augmentation& augmentation, std::uint64_t batch_seed,
                    const Normalization& normalization, float* out_images, std::int64_t* out_labels) {
  std::mt19937_64 rng(batch_seed);
  const std::int64_t floats_per_image = images.image_bytes();
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const std::int64_t index = indices[i];
    if (index < 0 || index >= images.count) {
      throw std::logic_error("batch index outside the image set; this is a bug in nasq");
    }
    const ItemTransform transform = draw_transform(augmentation, rng);
    write_image(images, index, transform, normalization, out_images + static_cast<std::int64_t>(i) * floats_per_image);
    out_labels[i] = images.labels[static_cast<std::size_t>(index)];
  }
}

}  // namespace nasq::data
