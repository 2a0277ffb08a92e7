// Writers of small data set files (IDX, CIFAR, PNG, JPEG) for the data tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace nasq::data::testing {

using Bytes = std::vector<std::uint8_t>;

// The Fashion-MNIST files of the Debian package dataset-fashion-mnist.
inline const std::filesystem::path kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

void write_bytes(const std::filesystem::path& path, const Bytes& bytes);
Bytes gzip(const Bytes& bytes);

// An IDX image file: magic 0x00000803, sizes, then `pixels` (no size check,
// so tests can write inconsistent headers).
Bytes idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t columns, const Bytes& pixels);
// An IDX label file: magic 0x00000801, count, then `labels`.
Bytes idx_labels(std::uint32_t count, const Bytes& labels);

// Pixel value of image i at (y, x, c) in the synthetic sets below.
std::uint8_t synthetic_pixel(std::int64_t i, std::int64_t y, std::int64_t x, std::int64_t c);

// `count` 28x28 grey images with synthetic_pixel values.
Bytes synthetic_grey_pixels(std::int64_t count, std::int64_t rows, std::int64_t columns);

// CIFAR records (planar RGB, synthetic_pixel values) with the given label
// bytes per record (one byte for CIFAR-10, coarse and fine for CIFAR-100).
Bytes cifar_records(const std::vector<Bytes>& label_bytes, std::int64_t first_image);

// Writes a solid-colour PNG or JPEG (by extension) of width x height with 1
// or 3 channels.
void write_image(const std::filesystem::path& path, int width, int height, int channels,
                 const std::vector<std::uint8_t>& colour);

// A fresh, empty folder under the working directory.
std::filesystem::path fresh_folder(const std::string& name);

}  // namespace nasq::data::testing
