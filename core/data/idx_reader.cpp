// Reads MNIST-style IDX image and label files, checking headers before allocating.
#include "core/data/idx_reader.hpp"

#include <array>
#include <cstdio>
#include <limits>

#include "nasq/sdk/error.hpp"

namespace nasq::data {

namespace {

constexpr std::uint8_t kUnsignedByteType = 0x08;
constexpr std::uint32_t kMaxSide = 1u << 16;

struct IdxHeader {
  std::vector<std::uint64_t> dims;
  std::uint64_t header_bytes = 0;
};

std::string hex32(std::uint32_t value) {
  std::array<char, 11> text{};
  std::snprintf(text.data(), text.size(), "0x%08X", value);
  return text.data();
}

// Multiplies without overflow; saturates at the uint64 maximum.
std::uint64_t saturating_multiply(std::uint64_t a, std::uint64_t b) {
  std::uint64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) {
    return std::numeric_limits<std::uint64_t>::max();
  }
  return product;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return std::numeric_limits<std::uint64_t>::max();
  }
  return sum;
}

// Reads the magic number and the dimension sizes, checking the magic.
IdxHeader read_header(ByteReader& reader, std::uint8_t dims, std::string_view kind) {
  std::array<std::uint8_t, 4> magic{};
  reader.read_exact(magic.data(), magic.size(), "the IDX magic number");
  const std::uint32_t expected = 0x00000800u | dims;
  const std::uint32_t found = (std::uint32_t{magic[0]} << 24) | (std::uint32_t{magic[1]} << 16) |
                              (std::uint32_t{magic[2]} << 8) | magic[3];
  if (found != expected) {
    std::string hint;
    if (magic[0] == 0 && magic[1] == 0 && magic[2] != kUnsignedByteType) {
      hint = " (IDX data type " + std::to_string(magic[2]) + " is not supported, only unsigned bytes)";
    } else if (magic[0] == 0 && magic[1] == 0) {
      hint = " (an IDX file with " + std::to_string(magic[3]) + " dimensions)";
    }
    throw sdk::Error(reader.name() + ": magic number " + hex32(found) + " at byte 0 is not an IDX " +
                     std::string(kind) + " file" + hint + "; expected " + hex32(expected) +
                     " (unsigned bytes, " + std::to_string(dims) + " dimension" + (dims == 1 ? "" : "s") + ")");
  }

  IdxHeader header;
  for (std::uint8_t d = 0; d < dims; ++d) {
    std::array<std::uint8_t, 4> size{};
    reader.read_exact(size.data(), size.size(), "an IDX dimension size");
    header.dims.push_back((std::uint64_t{size[0]} << 24) | (std::uint64_t{size[1]} << 16) |
                          (std::uint64_t{size[2]} << 8) | size[3]);
  }
  header.header_bytes = reader.offset();
  return header;
}

// Throws when a raw file's size differs from what the header declares.
void check_file_size(ByteReader& reader, std::uint64_t expected, const std::string& declared,
                     const std::string& formula) {
  if (reader.size() && *reader.size() != expected) {
    const std::string problem = *reader.size() < expected ? "the file is truncated or the header count is wrong"
                                                          : "the file has extra bytes or the header count is wrong";
    throw sdk::Error(reader.name() + ": file has " + std::to_string(*reader.size()) + " bytes but " + declared +
                     ", which need " + (expected == std::numeric_limits<std::uint64_t>::max()
                                            ? std::string("more than 2^64")
                                            : std::to_string(expected)) +
                     " bytes (" + formula + "); " + problem);
  }
}

// Throws when a fully read gzip stream has data after the declared items.
void check_no_trailing_data(ByteReader& reader, const std::string& declared) {
  if (!reader.at_end()) {
    throw sdk::Error(reader.name() + ": unexpected data at " + reader.describe_offset(reader.offset()) +
                     " after the end of the declared items (" + declared +
                     "); the header count is wrong or the file is corrupt");
  }
}

std::int64_t items_to_read(std::uint64_t declared, std::int64_t limit) {
  if (limit > 0 && static_cast<std::uint64_t>(limit) < declared) {
    return limit;
  }
  return static_cast<std::int64_t>(declared);
}

// Looks for `stem` or `stem`.gz in `folder`.
std::filesystem::path find_idx_file(const std::filesystem::path& folder, const std::string& stem) {
  for (const std::string& candidate : {stem, stem + ".gz"}) {
    const auto path = folder / candidate;
    if (std::filesystem::exists(path)) {
      return path;
    }
  }
  throw sdk::Error(folder.string() + ": neither " + stem + " nor " + stem +
                   ".gz found; point [data] path at a folder with the MNIST-style IDX files");
}

struct IdxLabels {
  std::uint64_t declared_count = 0;
  std::vector<std::int64_t> labels;
};

IdxLabels read_labels_with_count(ByteReader& reader, std::int64_t num_classes, const IdxReadOptions& options) {
  const IdxHeader header = read_header(reader, 1, "label");
  const std::uint64_t declared_count = header.dims[0];
  const std::string declared = "the header at byte 4 declares " + std::to_string(declared_count) + " labels";
  check_file_size(reader, header.header_bytes + declared_count, declared, "8-byte header + 1 byte per label");

  const std::int64_t count = items_to_read(declared_count, options.limit);
  const std::vector<std::uint8_t> bytes =
      read_payload(reader, static_cast<std::uint64_t>(count), options.max_bytes, declared);
  if (count == static_cast<std::int64_t>(declared_count) && reader.compressed()) {
    check_no_trailing_data(reader, declared);
  }

  IdxLabels result{declared_count, {}};
  result.labels.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] >= num_classes) {
      throw sdk::Error(reader.name() + ": label " + std::to_string(bytes[i]) + " of entry " + std::to_string(i) +
                       " at " + reader.describe_offset(header.header_bytes + i) + " is outside the " +
                       std::to_string(num_classes) + " classes (expected 0 to " + std::to_string(num_classes - 1) +
                       ")");
    }
    result.labels.push_back(bytes[i]);
  }
  return result;
}

struct IdxImagesWithCount {
  std::uint64_t declared_count = 0;
  IdxImages images;
};

IdxImagesWithCount read_images_with_count(ByteReader& reader, const IdxReadOptions& options) {
  const IdxHeader header = read_header(reader, 3, "image");
  const std::uint64_t declared_count = header.dims[0];
  const std::uint64_t rows = header.dims[1];
  const std::uint64_t columns = header.dims[2];
  if (rows == 0 || columns == 0 || rows > kMaxSide || columns > kMaxSide) {
    throw sdk::Error(reader.name() + ": image size " + std::to_string(rows) + "x" + std::to_string(columns) +
                     " at byte 8 is invalid; expected 1 to " + std::to_string(kMaxSide) + " rows and columns");
  }
  const std::uint64_t image_bytes = rows * columns;
  const std::string declared = "the header at byte 4 declares " + std::to_string(declared_count) + " images of " +
                               std::to_string(rows) + "x" + std::to_string(columns) + " pixels";
  const std::uint64_t expected = saturating_add(header.header_bytes, saturating_multiply(declared_count, image_bytes));
  check_file_size(reader, expected, declared, "16-byte header + count * rows * columns");

  const std::int64_t count = items_to_read(declared_count, options.limit);
  IdxImagesWithCount result;
  result.declared_count = declared_count;
  result.images.count = count;
  result.images.height = static_cast<std::int64_t>(rows);
  result.images.width = static_cast<std::int64_t>(columns);
  result.images.pixels = read_payload(reader, saturating_multiply(static_cast<std::uint64_t>(count), image_bytes),
                                      options.max_bytes, declared);
  if (count == static_cast<std::int64_t>(declared_count) && reader.compressed()) {
    check_no_trailing_data(reader, declared);
  }
  return result;
}

}  // namespace

IdxImages read_idx_images(ByteReader& reader, const IdxReadOptions& options) {
  return read_images_with_count(reader, options).images;
}

std::vector<std::int64_t> read_idx_labels(ByteReader& reader, std::int64_t num_classes,
                                          const IdxReadOptions& options) {
  return read_labels_with_count(reader, num_classes, options).labels;
}

ImageSet read_idx(const std::filesystem::path& images_path, const std::filesystem::path& labels_path,
                  std::vector<std::string> class_names, const IdxReadOptions& options) {
  const auto num_classes = static_cast<std::int64_t>(class_names.size());
  auto image_reader = open_file(images_path);
  IdxImagesWithCount images = read_images_with_count(*image_reader, options);
  auto label_reader = open_file(labels_path);
  IdxLabels labels = read_labels_with_count(*label_reader, num_classes, options);
  if (images.declared_count != labels.declared_count) {
    throw sdk::Error(images_path.string() + ": declares " + std::to_string(images.declared_count) +
                     " images but " + labels_path.string() + " declares " + std::to_string(labels.declared_count) +
                     " labels; use the label file that belongs to the image file");
  }

  ImageSet result;
  result.count = images.images.count;
  result.height = images.images.height;
  result.width = images.images.width;
  result.channels = 1;
  result.pixels = std::move(images.images.pixels);
  result.labels = std::move(labels.labels);
  result.num_classes = num_classes;
  result.class_names = std::move(class_names);
  result.source = images_path.string();
  return result;
}

ImageSet read_idx_folder(const std::filesystem::path& folder, bool test_split,
                         std::vector<std::string> class_names, const IdxReadOptions& options) {
  const std::string prefix = test_split ? "t10k" : "train";
  const auto images = find_idx_file(folder, prefix + "-images-idx3-ubyte");
  const auto labels = find_idx_file(folder, prefix + "-labels-idx1-ubyte");
  return read_idx(images, labels, std::move(class_names), options);
}

std::vector<std::string> fashion_mnist_class_names() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
}

std::vector<std::string> mnist_class_names() {
  return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
}

}  // namespace nasq::data
