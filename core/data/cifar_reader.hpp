// Reader for the binary versions of CIFAR-10 and CIFAR-100.
//
// A CIFAR-10 file is a sequence of 3073-byte records: one label byte, then a
// 32x32 colour image as 1024 red, 1024 green and 1024 blue bytes, each plane
// in row-major order. A CIFAR-100 record has two label bytes (coarse, then
// fine) before the same 3072 image bytes. Files may also be gzip-compressed.
#pragma once

#include <cstdint>
#include <filesystem>

#include "core/data/byte_reader.hpp"
#include "core/data/image_set.hpp"

namespace nasq::data {

// The record layout and which label becomes the class.
enum class CifarLabels {
  cifar10,          // 10 classes
  cifar100_fine,    // 100 classes, the second label byte
  cifar100_coarse,  // 20 superclasses, the first label byte
};

struct CifarReadOptions {
  // Records read from the start of the file (of all files, for a folder); 0 reads all.
  std::int64_t limit = 0;
  // Maximum bytes stored for one file; see kDefaultMaxBytes.
  std::uint64_t max_bytes = kDefaultMaxBytes;
};

// Bytes per record: 3073 for CIFAR-10, 3074 for CIFAR-100.
std::int64_t cifar_record_bytes(CifarLabels labels);

// Reads the records of one file as 32x32x3 images. The class names are
// numbers ("0", "1", ...). Throws nasq::sdk::Error naming the file and offset
// when the size is not a whole number of records, the file is empty, or a
// label is outside the class range.
ImageSet read_cifar_file(ByteReader& reader, CifarLabels labels, const CifarReadOptions& options = {});

// Reads "data_batch_1.bin" to "data_batch_5.bin" (training) or
// "test_batch.bin" from `folder`, or from its "cifar-10-batches-bin"
// sub-folder. Class names come from "batches.meta.txt" when present.
ImageSet read_cifar10_folder(const std::filesystem::path& folder, bool test_split,
                             const CifarReadOptions& options = {});

// Reads "train.bin" or "test.bin" from `folder`, or from its
// "cifar-100-binary" sub-folder. Class names come from "fine_label_names.txt"
// or "coarse_label_names.txt" when present. `labels` must be one of the
// CIFAR-100 values.
ImageSet read_cifar100_folder(const std::filesystem::path& folder, bool test_split, CifarLabels labels,
                              const CifarReadOptions& options = {});

}  // namespace nasq::data
