// File, memory and gzip byte sources for the data readers.
#include "core/data/byte_reader.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <system_error>

#include "nasq/sdk/error.hpp"

namespace nasq::data {

namespace {

constexpr std::size_t kInputChunkBytes = 64 * 1024;
constexpr std::size_t kPayloadChunkBytes = 1 << 20;

class FileReader final : public ByteReader {
 public:
  FileReader(const std::filesystem::path& path, std::ifstream stream, std::uint64_t size)
      : ByteReader(path.string()), stream_(std::move(stream)), size_(size) {}

  std::optional<std::uint64_t> size() const override { return size_; }
  bool compressed() const override { return false; }

 protected:
  std::size_t read_raw(std::uint8_t* out, std::size_t count) override {
    stream_.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(count));
    if (stream_.bad()) {
      throw sdk::Error(name() + ": read failed at byte " + std::to_string(offset()) +
                       "; check that the file is readable");
    }
    return static_cast<std::size_t>(stream_.gcount());
  }

 private:
  std::ifstream stream_;
  std::uint64_t size_;
};

class MemoryReader final : public ByteReader {
 public:
  MemoryReader(std::span<const std::uint8_t> bytes, std::string name)
      : ByteReader(std::move(name)), bytes_(bytes) {}

  std::optional<std::uint64_t> size() const override { return bytes_.size(); }
  bool compressed() const override { return false; }

 protected:
  std::size_t read_raw(std::uint8_t* out, std::size_t count) override {
    const std::size_t available = bytes_.size() - position_;
    const std::size_t copied = std::min(count, available);
    if (copied > 0) {
      std::memcpy(out, bytes_.data() + position_, copied);
    }
    position_ += copied;
    return copied;
  }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t position_ = 0;
};

// Inflates one or more concatenated gzip members from an inner reader.
class GzipReader final : public ByteReader {
 public:
  explicit GzipReader(std::unique_ptr<ByteReader> inner)
      : ByteReader(inner->name()), inner_(std::move(inner)) {
    std::memset(&stream_, 0, sizeof(stream_));
    // 16 + MAX_WBITS: accept the gzip wrapper only.
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) {
      throw sdk::Error(name() + ": zlib failed to initialise a gzip decoder (out of memory?)");
    }
  }
  ~GzipReader() override { inflateEnd(&stream_); }

  std::optional<std::uint64_t> size() const override { return std::nullopt; }
  bool compressed() const override { return true; }

 protected:
  std::size_t read_raw(std::uint8_t* out, std::size_t count) override;

 private:
  bool refill();
  std::uint64_t compressed_offset() const { return inner_->offset() - stream_.avail_in; }

  std::unique_ptr<ByteReader> inner_;
  z_stream stream_;
  std::array<std::uint8_t, kInputChunkBytes> input_{};
  bool member_ended_ = false;
  bool finished_ = false;
};

// Loads the next chunk of compressed input; returns false at its end.
bool GzipReader::refill() {
  const std::size_t got = inner_->read_some(input_.data(), input_.size());
  stream_.next_in = input_.data();
  stream_.avail_in = static_cast<uInt>(got);
  return got > 0;
}

std::size_t GzipReader::read_raw(std::uint8_t* out, std::size_t count) {
  std::size_t produced = 0;
  while (produced < count && !finished_) {
    if (stream_.avail_in == 0 && !refill()) {
      if (member_ended_) {
        finished_ = true;
        break;
      }
      throw sdk::Error(name() + ": gzip data is truncated: the compressed file ends at byte " +
                       std::to_string(inner_->offset()) + " inside a gzip member, after " +
                       std::to_string(offset() + produced) +
                       " decompressed bytes; download or decompress the file again");
    }
    if (member_ended_) {
      // Another gzip member follows the previous one (concatenated .gz files).
      inflateReset(&stream_);
      member_ended_ = false;
    }
    const std::size_t want = std::min<std::size_t>(count - produced, 1u << 30);
    stream_.next_out = out + produced;
    stream_.avail_out = static_cast<uInt>(want);
    const int status = inflate(&stream_, Z_NO_FLUSH);
    produced += want - stream_.avail_out;
    if (status == Z_STREAM_END) {
      member_ended_ = true;
    } else if (status != Z_OK && status != Z_BUF_ERROR) {
      const std::string detail = stream_.msg != nullptr ? stream_.msg : "zlib status " + std::to_string(status);
      throw sdk::Error(name() + ": invalid gzip data near compressed byte " +
                       std::to_string(compressed_offset()) + " (" + detail +
                       "); the file is corrupt or not a gzip file");
    }
  }
  return produced;
}

}  // namespace

ByteReader::ByteReader(std::string name) : name_(std::move(name)) {}
ByteReader::~ByteReader() = default;

std::size_t ByteReader::read_some(std::uint8_t* out, std::size_t count) {
  if (count == 0) {
    return 0;
  }
  std::size_t got = 0;
  if (lookahead_) {
    out[0] = *lookahead_;
    lookahead_.reset();
    got = 1;
  }
  if (got < count) {
    got += read_raw(out + got, count - got);
  }
  offset_ += got;
  return got;
}

void ByteReader::read_exact(std::uint8_t* out, std::size_t count, std::string_view description) {
  const std::uint64_t start = offset_;
  std::size_t got = 0;
  while (got < count) {
    const std::size_t step = read_some(out + got, count - got);
    if (step == 0) {
      throw sdk::Error(name_ + ": file ends at " + describe_offset(offset_) + " while reading " +
                       std::string(description) + " (" + std::to_string(count) + " bytes from " +
                       describe_offset(start) + "); the file is truncated");
    }
    got += step;
  }
}

bool ByteReader::at_end() {
  if (lookahead_) {
    return false;
  }
  std::uint8_t byte = 0;
  if (read_raw(&byte, 1) == 0) {
    return true;
  }
  lookahead_ = byte;
  return false;
}

std::string ByteReader::describe_offset(std::uint64_t offset) const {
  return (compressed() ? "decompressed byte " : "byte ") + std::to_string(offset);
}

std::unique_ptr<ByteReader> open_file(const std::filesystem::path& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error || !std::filesystem::exists(status)) {
    throw sdk::Error(path.string() + ": file not found");
  }
  if (!std::filesystem::is_regular_file(status)) {
    throw sdk::Error(path.string() + ": not a regular file");
  }
  const std::uint64_t size = std::filesystem::file_size(path, error);
  std::ifstream stream(path, std::ios::binary);
  if (error || !stream) {
    throw sdk::Error(path.string() + ": cannot open the file for reading; check its permissions");
  }

  std::array<char, 2> magic{};
  stream.read(magic.data(), magic.size());
  const bool gzip = stream.gcount() == 2 && static_cast<std::uint8_t>(magic[0]) == 0x1f &&
                    static_cast<std::uint8_t>(magic[1]) == 0x8b;
  stream.clear();
  stream.seekg(0);

  auto reader = std::make_unique<FileReader>(path, std::move(stream), size);
  if (gzip) {
    return std::make_unique<GzipReader>(std::move(reader));
  }
  return reader;
}

std::unique_ptr<ByteReader> open_memory(std::span<const std::uint8_t> bytes, std::string name) {
  auto reader = std::make_unique<MemoryReader>(bytes, std::move(name));
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
    return std::make_unique<GzipReader>(std::move(reader));
  }
  return reader;
}

std::vector<std::uint8_t> read_payload(ByteReader& reader, std::uint64_t count,
                                       std::uint64_t max_bytes, std::string_view declared) {
  const std::uint64_t start = reader.offset();
  if (count > max_bytes) {
    throw sdk::Error(reader.name() + ": " + std::string(declared) + ", which need " +
                     std::to_string(count) + " bytes from " + reader.describe_offset(start) +
                     ", more than the limit of " + std::to_string(max_bytes) +
                     " bytes; the header is corrupt, or the data set is too large for this reader");
  }
  std::vector<std::uint8_t> buffer;
  if (reader.size()) {
    // A known size bounds the allocation even if the caller did not check it.
    buffer.reserve(static_cast<std::size_t>(std::min(count, *reader.size())));
  }
  std::uint64_t got = 0;
  while (got < count) {
    const std::size_t step = static_cast<std::size_t>(std::min<std::uint64_t>(count - got, kPayloadChunkBytes));
    buffer.resize(static_cast<std::size_t>(got) + step);
    const std::size_t read = reader.read_some(buffer.data() + got, step);
    got += read;
    if (read == 0) {
      throw sdk::Error(reader.name() + ": data ends at " + reader.describe_offset(reader.offset()) +
                       " but " + std::string(declared) + ", which need " + std::to_string(count) +
                       " bytes from " + reader.describe_offset(start) + "; the file is truncated");
    }
    buffer.resize(static_cast<std::size_t>(got));
  }
  return buffer;
}

std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path, std::uint64_t max_bytes) {
  std::error_code error;
  const std::uint64_t size = std::filesystem::file_size(path, error);
  if (error) {
    throw sdk::Error(path.string() + ": cannot read the file size (" + error.message() + ")");
  }
  if (size > max_bytes) {
    throw sdk::Error(path.string() + ": file has " + std::to_string(size) + " bytes, more than the limit of " +
                     std::to_string(max_bytes) + " bytes");
  }
  std::ifstream stream(path, std::ios::binary);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  stream.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (!stream || static_cast<std::uint64_t>(stream.gcount()) != size) {
    throw sdk::Error(path.string() + ": read failed after " + std::to_string(stream.gcount()) + " of " +
                     std::to_string(size) + " bytes; check that the file is readable");
  }
  return bytes;
}

}  // namespace nasq::data
