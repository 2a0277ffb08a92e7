// Whole-set image transforms: selection, resizing, channel conversion and statistics.
#include "core/data/image_set.hpp"

#include <stb_image_resize.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "nasq/sdk/error.hpp"

namespace nasq::data {

namespace {

// Copies everything but the pixels and labels.
ImageSet empty_like(const ImageSet& images) {
  ImageSet result;
  result.height = images.height;
  result.width = images.width;
  result.channels = images.channels;
  result.num_classes = images.num_classes;
  result.class_names = images.class_names;
  result.source = images.source;
  return result;
}

}  // namespace

ImageSet select_images(const ImageSet& images, std::span<const std::int64_t> indices) {
  ImageSet result = empty_like(images);
  const auto image_bytes = static_cast<std::size_t>(images.image_bytes());
  result.count = static_cast<std::int64_t>(indices.size());
  result.pixels.resize(indices.size() * image_bytes);
  result.labels.resize(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const std::int64_t index = indices[i];
    if (index < 0 || index >= images.count) {
      throw sdk::Error(images.source + ": image index " + std::to_string(index) + " is outside [0, " +
                       std::to_string(images.count) + ")");
    }
    std::memcpy(result.pixels.data() + i * image_bytes,
                images.pixels.data() + static_cast<std::size_t>(index) * image_bytes, image_bytes);
    result.labels[i] = images.labels[static_cast<std::size_t>(index)];
  }
  return result;
}

std::vector<std::int64_t> count_labels(const ImageSet& images) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(images.num_classes), 0);
  for (const std::int64_t label : images.labels) {
    ++counts.at(static_cast<std::size_t>(label));
  }
  return counts;
}

ImageSet resize_images(const ImageSet& images, std::int64_t size) {
  if (size <= 0) {
    throw sdk::Error("image size " + std::to_string(size) + " is invalid; expected a positive number of pixels");
  }
  if (size == images.height && size == images.width) {
    return images;
  }
  ImageSet result = empty_like(images);
  result.count = images.count;
  result.height = size;
  result.width = size;
  result.labels = images.labels;
  const auto in_bytes = static_cast<std::size_t>(images.image_bytes());
  const auto out_bytes = static_cast<std::size_t>(result.image_bytes());
  result.pixels.resize(static_cast<std::size_t>(images.count) * out_bytes);
  for (std::int64_t i = 0; i < images.count; ++i) {
    const int ok = stbir_resize_uint8(images.pixels.data() + static_cast<std::size_t>(i) * in_bytes,
                                      static_cast<int>(images.width), static_cast<int>(images.height), 0,
                                      result.pixels.data() + static_cast<std::size_t>(i) * out_bytes,
                                      static_cast<int>(size), static_cast<int>(size), 0,
                                      static_cast<int>(images.channels));
    if (ok == 0) {
      throw sdk::Error(images.source + ": resizing image " + std::to_string(i) + " to " + std::to_string(size) +
                       "x" + std::to_string(size) + " failed (stb_image_resize is out of memory)");
    }
  }
  return result;
}

ImageSet convert_channels(const ImageSet& images, std::int64_t channels) {
  if (channels != 1 && channels != 3) {
    throw sdk::Error("channel count " + std::to_string(channels) + " is not supported; expected 1 or 3");
  }
  if (channels == images.channels) {
    return images;
  }
  if (images.channels != 1 && images.channels != 3) {
    throw sdk::Error(images.source + ": cannot convert images with " + std::to_string(images.channels) +
                     " channels; expected 1 or 3");
  }
  ImageSet result = empty_like(images);
  result.count = images.count;
  result.channels = channels;
  result.labels = images.labels;
  const std::size_t pixel_count = static_cast<std::size_t>(images.count * images.height * images.width);
  result.pixels.resize(pixel_count * static_cast<std::size_t>(channels));
  const std::uint8_t* in = images.pixels.data();
  std::uint8_t* out = result.pixels.data();
  for (std::size_t p = 0; p < pixel_count; ++p) {
    if (channels == 3) {
      out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = in[p];
    } else {
      const double luma = 0.299 * in[3 * p] + 0.587 * in[3 * p + 1] + 0.114 * in[3 * p + 2];
      out[p] = static_cast<std::uint8_t>(std::lround(luma));
    }
  }
  return result;
}

Normalization compute_normalization(const ImageSet& images) {
  if (images.count == 0) {
    throw sdk::Error(images.source + ": cannot compute normalization statistics of an empty image set");
  }
  const auto channels = static_cast<std::size_t>(images.channels);
  std::vector<double> sum(channels, 0.0);
  std::vector<double> sum_squares(channels, 0.0);
  for (std::size_t i = 0; i < images.pixels.size(); ++i) {
    const double value = images.pixels[i] / 255.0;
    sum[i % channels] += value;
    sum_squares[i % channels] += value * value;
  }
  const double per_channel = static_cast<double>(images.pixels.size() / channels);
  Normalization result;
  for (std::size_t c = 0; c < channels; ++c) {
    const double mean = sum[c] / per_channel;
    const double variance = std::max(0.0, sum_squares[c] / per_channel - mean * mean);
    result.mean.push_back(static_cast<float>(mean));
    result.std.push_back(static_cast<float>(std::sqrt(variance)));
  }
  return result;
}

void check_image_set(const ImageSet& images) {
  const auto fail = [&](const std::string& what) {
    throw std::logic_error("internal error in ImageSet from " + images.source + ": " + what +
                           "; this is a bug in nasq");
  };
  if (images.count < 0 || images.height <= 0 || images.width <= 0 || images.channels <= 0) {
    fail("invalid shape");
  }
  if (images.pixels.size() != static_cast<std::size_t>(images.count * images.image_bytes())) {
    fail("pixel buffer size does not match the shape");
  }
  if (images.labels.size() != static_cast<std::size_t>(images.count)) {
    fail("label count does not match the image count");
  }
  if (images.class_names.size() != static_cast<std::size_t>(images.num_classes)) {
    fail("class name count does not match num_classes");
  }
  for (const std::int64_t label : images.labels) {
    if (label < 0 || label >= images.num_classes) {
      fail("label " + std::to_string(label) + " outside [0, num_classes)");
    }
  }
}

}  // namespace nasq::data
