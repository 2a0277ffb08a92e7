// Decoded image data sets as plain data (no LibTorch), and the transforms
// that work on whole sets: selection, resizing, channel conversion, statistics.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nasq::data {

// A labelled set of equally sized 8-bit images, as every reader returns it.
struct ImageSet {
  std::int64_t count = 0;
  std::int64_t height = 0;
  std::int64_t width = 0;
  std::int64_t channels = 0;
  // count * height * width * channels bytes in NHWC order (row-major, channels
  // interleaved), 0 = black.
  std::vector<std::uint8_t> pixels;
  // count class ids, each in [0, num_classes).
  std::vector<std::int64_t> labels;
  std::int64_t num_classes = 0;
  // num_classes names; the class id is the index.
  std::vector<std::string> class_names;
  // File or folder the images came from, for messages and summaries.
  std::string source;

  std::int64_t image_bytes() const noexcept { return height * width * channels; }
};

// Per-channel mean and standard deviation of pixel values scaled to [0, 1].
// A batch value is (pixel / 255 - mean[c]) / std[c].
struct Normalization {
  std::vector<float> mean;
  std::vector<float> std;
};

// Returns the images at `indices`, in that order, with the same classes.
// Throws nasq::sdk::Error for an index outside [0, count).
ImageSet select_images(const ImageSet& images, std::span<const std::int64_t> indices);

// Returns the number of images of each class (num_classes entries).
std::vector<std::int64_t> count_labels(const ImageSet& images);

// Returns the images resized to size x size with stb_image_resize's default
// filter; the aspect ratio is not kept. Returns a copy when the size matches.
ImageSet resize_images(const ImageSet& images, std::int64_t size);

// Returns the images with 1 or 3 channels: grey is replicated to RGB, RGB is
// turned into grey with the ITU-R BT.601 luma weights (0.299, 0.587, 0.114).
ImageSet convert_channels(const ImageSet& images, std::int64_t channels);

// Computes the per-channel mean and population standard deviation over all
// pixels. Throws nasq::sdk::Error for an empty set.
Normalization compute_normalization(const ImageSet& images);

// Checks the invariants of the struct (sizes agree, labels in range). A
// failure throws std::logic_error, because it is a bug in nasq.
void check_image_set(const ImageSet& images);

}  // namespace nasq::data
