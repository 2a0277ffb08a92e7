// Reader for IDX files, the format of MNIST and Fashion-MNIST, raw or
// gzip-compressed.
//
// An IDX file is a 4-byte magic number (two zero bytes, a type byte, the
// number of dimensions), one big-endian 32-bit size per dimension, then the
// data in row-major order. Images are 0x00000803 (unsigned bytes, count x
// rows x columns) and labels 0x00000801 (unsigned bytes, count).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/data/byte_reader.hpp"
#include "core/data/image_set.hpp"

namespace nasq::data {

struct IdxReadOptions {
  // Images (and labels) read from the start of the file; 0 reads all. With a
  // limit, a gzip file is decompressed only as far as needed, so its size is
  // checked against the header only when everything is read.
  std::int64_t limit = 0;
  // Maximum bytes stored for one file; see kDefaultMaxBytes.
  std::uint64_t max_bytes = kDefaultMaxBytes;
};

// Grey images from an IDX image file.
struct IdxImages {
  std::int64_t count = 0;
  std::int64_t height = 0;
  std::int64_t width = 0;
  std::vector<std::uint8_t> pixels;  // count * height * width bytes
};

// Reads an image file (magic 0x00000803). The header is checked against the
// file size (raw files) or the limit before any pixel buffer is allocated.
// Throws nasq::sdk::Error naming the file and byte offset for a wrong magic,
// a zero dimension, a count that does not match the file size, or a
// truncated file.
IdxImages read_idx_images(ByteReader& reader, const IdxReadOptions& options = {});

// Reads a label file (magic 0x00000801); every label must be below
// `num_classes`, else the Error names the entry and its byte offset.
std::vector<std::int64_t> read_idx_labels(ByteReader& reader, std::int64_t num_classes,
                                          const IdxReadOptions& options = {});

// Reads an image file and its label file into one set with the given class
// names. Throws when the two files hold different numbers of items.
ImageSet read_idx(const std::filesystem::path& images_path, const std::filesystem::path& labels_path,
                  std::vector<std::string> class_names, const IdxReadOptions& options = {});

// Reads the training (train-*) or test (t10k-*) files of an MNIST-style
// folder: "train-images-idx3-ubyte" and "train-labels-idx1-ubyte", each with
// or without ".gz".
ImageSet read_idx_folder(const std::filesystem::path& folder, bool test_split,
                         std::vector<std::string> class_names, const IdxReadOptions& options = {});

// The ten Fashion-MNIST classes in label order ("T-shirt/top", ...).
std::vector<std::string> fashion_mnist_class_names();
// The ten MNIST classes in label order ("0" ... "9").
std::vector<std::string> mnist_class_names();

}  // namespace nasq::data
