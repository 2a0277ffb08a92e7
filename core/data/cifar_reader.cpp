// Reads CIFAR-10 and CIFAR-100 binary record files into NHWC image sets.
#include "core/data/cifar_reader.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>
#include <vector>

#include "nasq/sdk/error.hpp"

namespace nasq::data {

namespace {

constexpr std::int64_t kSide = 32;
constexpr std::int64_t kPlaneBytes = kSide * kSide;
constexpr std::int64_t kImageBytes = 3 * kPlaneBytes;
constexpr std::uint64_t kMaxNamesFileBytes = 1 << 20;

std::int64_t class_count(CifarLabels labels) {
  switch (labels) {
    case CifarLabels::cifar10: return 10;
    case CifarLabels::cifar100_fine: return 100;
    case CifarLabels::cifar100_coarse: return 20;
  }
  return 0;
}

std::string describe_record(CifarLabels labels) {
  return labels == CifarLabels::cifar10 ? "3073-byte records (1 label byte + 3072 pixel bytes)"
                                        : "3074-byte records (coarse and fine label bytes + 3072 pixel bytes)";
}

// Throws when a file of known size is empty or not a whole number of records.
void check_record_size(ByteReader& reader, CifarLabels labels) {
  if (!reader.size()) {
    return;
  }
  const std::uint64_t record = static_cast<std::uint64_t>(cifar_record_bytes(labels));
  const std::uint64_t size = *reader.size();
  if (size == 0) {
    throw sdk::Error(reader.name() + ": file is empty; expected " + describe_record(labels));
  }
  if (size % record != 0) {
    const std::uint64_t last = size / record;
    throw sdk::Error(reader.name() + ": file has " + std::to_string(size) + " bytes, not a whole number of " +
                     describe_record(labels) + "; record " + std::to_string(last) + " starting at byte " +
                     std::to_string(last * record) + " is truncated");
  }
}

// Appends one record's image in NHWC order and returns its class id.
std::int64_t append_record(const ByteReader& reader, const std::uint8_t* record, std::uint64_t record_index,
                           std::uint64_t record_offset, CifarLabels labels, std::vector<std::uint8_t>& pixels) {
  const std::size_t label_bytes = labels == CifarLabels::cifar10 ? 1 : 2;
  const std::size_t label_position = labels == CifarLabels::cifar100_fine ? 1 : 0;
  const std::int64_t label = record[label_position];
  const std::int64_t classes = class_count(labels);
  if (label >= classes) {
    throw sdk::Error(reader.name() + ": label " + std::to_string(label) + " of record " +
                     std::to_string(record_index) + " at " + reader.describe_offset(record_offset + label_position) +
                     " is outside the " + std::to_string(classes) + " classes (expected 0 to " +
                     std::to_string(classes - 1) + ")");
  }
  const std::uint8_t* planes = record + label_bytes;
  const std::size_t start = pixels.size();
  pixels.resize(start + kImageBytes);
  std::uint8_t* out = pixels.data() + start;
  for (std::int64_t p = 0; p < kPlaneBytes; ++p) {
    for (std::int64_t c = 0; c < 3; ++c) {
      out[3 * p + c] = planes[c * kPlaneBytes + p];
    }
  }
  return label;
}

std::string trim_right(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.pop_back();
  }
  return text;
}

std::vector<std::string> numbered_names(std::int64_t count) {
  std::vector<std::string> names;
  for (std::int64_t i = 0; i < count; ++i) {
    names.push_back(std::to_string(i));
  }
  return names;
}

// Reads one class name per non-empty line, or returns `fallback` when the
// file does not exist.
std::vector<std::string> read_class_names(const std::filesystem::path& path, std::int64_t expected,
                                          std::vector<std::string> fallback) {
  if (!std::filesystem::exists(path)) {
    return fallback;
  }
  const std::vector<std::uint8_t> bytes = read_file_bytes(path, kMaxNamesFileBytes);
  std::vector<std::string> names;
  std::string line;
  for (std::size_t i = 0; i <= bytes.size(); ++i) {
    const bool end_of_line = i == bytes.size() || bytes[i] == '\n';
    if (!end_of_line) {
      line.push_back(static_cast<char>(bytes[i]));
      continue;
    }
    line = trim_right(std::move(line));
    if (!line.empty()) {
      names.push_back(line);
    }
    line.clear();
  }
  if (static_cast<std::int64_t>(names.size()) != expected) {
    throw sdk::Error(path.string() + ": lists " + std::to_string(names.size()) + " class names; expected " +
                     std::to_string(expected) + ", one per line");
  }
  return names;
}

// Uses `folder`/`sub_folder` when it exists, else `folder`.
std::filesystem::path resolve_folder(const std::filesystem::path& folder, const std::string& sub_folder) {
  const auto nested = folder / sub_folder;
  return std::filesystem::is_directory(nested) ? nested : folder;
}

// Appends the images and labels of `part` to `total`.
void append_set(ImageSet& total, ImageSet&& part) {
  total.count += part.count;
  total.pixels.insert(total.pixels.end(), part.pixels.begin(), part.pixels.end());
  total.labels.insert(total.labels.end(), part.labels.begin(), part.labels.end());
}

// Fills `record` with the next record; returns false at the end of the data.
bool read_record(ByteReader& reader, std::vector<std::uint8_t>& record, std::int64_t index, CifarLabels labels) {
  const std::uint64_t start = reader.offset();
  std::size_t got = 0;
  while (got < record.size()) {
    const std::size_t step = reader.read_some(record.data() + got, record.size() - got);
    if (step == 0) {
      break;
    }
    got += step;
  }
  if (got == 0) {
    return false;
  }
  if (got < record.size()) {
    throw sdk::Error(reader.name() + ": data ends at " + reader.describe_offset(reader.offset()) + " inside record " +
                     std::to_string(index) + ", which starts at " + reader.describe_offset(start) + "; expected " +
                     describe_record(labels) + ", so the file is truncated");
  }
  return true;
}

}  // namespace

std::int64_t cifar_record_bytes(CifarLabels labels) {
  return (labels == CifarLabels::cifar10 ? 1 : 2) + kImageBytes;
}

ImageSet read_cifar_file(ByteReader& reader, CifarLabels labels, const CifarReadOptions& options) {
  check_record_size(reader, labels);
  const auto record_bytes = static_cast<std::size_t>(cifar_record_bytes(labels));
  const std::uint64_t known_records = reader.size() ? *reader.size() / record_bytes : 0;
  const bool limited = options.limit > 0;
  const std::uint64_t max_records = options.max_bytes / record_bytes;

  ImageSet result;
  result.height = kSide;
  result.width = kSide;
  result.channels = 3;
  result.num_classes = class_count(labels);
  result.class_names = numbered_names(result.num_classes);
  result.source = reader.name();
  const std::uint64_t reserve = limited ? std::min<std::uint64_t>(known_records, options.limit) : known_records;
  result.pixels.reserve(static_cast<std::size_t>(std::min(reserve, max_records) * kImageBytes));

  std::vector<std::uint8_t> record(record_bytes);
  while (!limited || result.count < options.limit) {
    const std::uint64_t offset = reader.offset();
    if (!read_record(reader, record, result.count, labels)) {
      break;
    }
    if (static_cast<std::uint64_t>(result.count) >= max_records) {
      throw sdk::Error(reader.name() + ": more than " + std::to_string(max_records) + " records (" +
                       std::to_string(options.max_bytes) + " bytes), the limit for one file; the file is corrupt");
    }
    result.labels.push_back(append_record(reader, record.data(), static_cast<std::uint64_t>(result.count), offset,
                                          labels, result.pixels));
    ++result.count;
  }
  if (result.count == 0) {
    throw sdk::Error(reader.name() + ": file contains no records; expected " + describe_record(labels));
  }
  return result;
}

ImageSet read_cifar10_folder(const std::filesystem::path& folder, bool test_split, const CifarReadOptions& options) {
  const auto root = resolve_folder(folder, "cifar-10-batches-bin");
  std::vector<std::string> files;
  if (test_split) {
    files.push_back("test_batch.bin");
  } else {
    for (int i = 1; i <= 5; ++i) {
      files.push_back("data_batch_" + std::to_string(i) + ".bin");
    }
  }

  ImageSet total;
  for (const std::string& file : files) {
    CifarReadOptions part_options = options;
    if (options.limit > 0) {
      if (total.count >= options.limit) {
        break;
      }
      part_options.limit = options.limit - total.count;
    }
    auto reader = open_file(root / file);
    ImageSet part = read_cifar_file(*reader, CifarLabels::cifar10, part_options);
    if (total.count == 0) {
      total = std::move(part);
    } else {
      append_set(total, std::move(part));
    }
  }
  total.source = root.string();
  total.class_names = read_class_names(root / "batches.meta.txt", 10,
                                       {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                        "ship", "truck"});
  return total;
}

ImageSet read_cifar100_folder(const std::filesystem::path& folder, bool test_split, CifarLabels labels,
                              const CifarReadOptions& options) {
  if (labels == CifarLabels::cifar10) {
    throw std::logic_error("read_cifar100_folder called with CifarLabels::cifar10; this is a bug in nasq");
  }
  const auto root = resolve_folder(folder, "cifar-100-binary");
  auto reader = open_file(root / (test_split ? "test.bin" : "train.bin"));
  ImageSet result = read_cifar_file(*reader, labels, options);
  const bool fine = labels == CifarLabels::cifar100_fine;
  result.class_names = read_class_names(root / (fine ? "fine_label_names.txt" : "coarse_label_names.txt"),
                                        result.num_classes, std::move(result.class_names));
  return result;
}

}  // namespace nasq::data
