// libFuzzer target for the IDX and CIFAR readers. A nasq::sdk::Error is an
// accepted outcome. A crash, a sanitizer report, another exception or a
// result that breaks the reader's contract is a finding.
//
// The first input byte selects the reader and whether the rest is read as
// given or gzip-compressed first (so inflated content reaches the parsers).
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/data/byte_reader.hpp"
#include "core/data/cifar_reader.hpp"
#include "core/data/idx_reader.hpp"
#include "nasq/sdk/error.hpp"

namespace {

using nasq::data::ByteReader;

// Small enough that a lying header cannot push the process past libFuzzer's
// memory limit, large enough for every seed.
constexpr std::uint64_t kMaxBytes = 1 << 20;

std::vector<std::uint8_t> gzip(const std::uint8_t* data, std::size_t size) {
  z_stream stream;
  std::memset(&stream, 0, sizeof(stream));
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    std::abort();
  }
  std::vector<std::uint8_t> out(deflateBound(&stream, size) + 64);
  stream.next_in = const_cast<Bytef*>(data);
  stream.avail_in = static_cast<uInt>(size);
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) {
    std::abort();
  }
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

void require(bool condition) {
  if (!condition) {
    __builtin_trap();
  }
}

void check_images(const nasq::data::IdxImages& images) {
  require(images.count >= 0 && images.height > 0 && images.width > 0);
  require(images.pixels.size() == static_cast<std::size_t>(images.count * images.height * images.width));
}

void check_set(const nasq::data::ImageSet& set) {
  require(set.pixels.size() == static_cast<std::size_t>(set.count * set.image_bytes()));
  require(set.labels.size() == static_cast<std::size_t>(set.count));
  for (const std::int64_t label : set.labels) {
    require(label >= 0 && label < set.num_classes);
  }
}

void run_reader(std::uint8_t selector, ByteReader& reader) {
  const std::int64_t limit = (selector >> 4) & 0x3;  // 0 reads all
  switch (selector % 5) {
    case 0:
      check_images(nasq::data::read_idx_images(reader, {.limit = limit, .max_bytes = kMaxBytes}));
      break;
    case 1: {
      const auto labels = nasq::data::read_idx_labels(reader, 10, {.limit = limit, .max_bytes = kMaxBytes});
      for (const std::int64_t label : labels) {
        require(label >= 0 && label < 10);
      }
      break;
    }
    case 2:
      check_set(nasq::data::read_cifar_file(reader, nasq::data::CifarLabels::cifar10,
                                            {.limit = limit, .max_bytes = kMaxBytes}));
      break;
    case 3:
      check_set(nasq::data::read_cifar_file(reader, nasq::data::CifarLabels::cifar100_fine,
                                            {.limit = limit, .max_bytes = kMaxBytes}));
      break;
    default:
      check_set(nasq::data::read_cifar_file(reader, nasq::data::CifarLabels::cifar100_coarse,
                                            {.limit = limit, .max_bytes = kMaxBytes}));
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::uint8_t selector = data[0];
  std::vector<std::uint8_t> content(data + 1, data + size);
  if (selector & 0x80) {
    content = gzip(content.data(), content.size());
  }
  try {
    auto reader = nasq::data::open_memory(content, "fuzz-input");
    run_reader(selector, *reader);
  } catch (const nasq::sdk::Error&) {
    // A rejected input is the expected outcome for most inputs.
  }
  return 0;
}
