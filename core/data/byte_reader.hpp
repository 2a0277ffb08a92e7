// Sequential byte sources for the data readers: files, memory buffers and
// gzip streams over either, with offsets for error messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nasq::data {

// Upper bound on the bytes a reader stores for one file when the file size
// cannot bound it (gzip input). It stops a lying header or a gzip bomb before
// it allocates; 4 GiB is about 90 times the decompressed Fashion-MNIST
// training images.
inline constexpr std::uint64_t kDefaultMaxBytes = std::uint64_t{4} << 30;

// A forward-only stream of content bytes. For gzip input, the content is the
// decompressed data and offsets count decompressed bytes. Every failure is a
// nasq::sdk::Error whose message starts with name().
class ByteReader {
 public:
  explicit ByteReader(std::string name);
  virtual ~ByteReader();
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  // Content size in bytes when it is known before reading (raw files and
  // memory buffers); nullopt for gzip streams.
  virtual std::optional<std::uint64_t> size() const = 0;
  virtual bool compressed() const = 0;

  // Reads up to `count` bytes into `out`; returns how many, 0 only at the end.
  std::size_t read_some(std::uint8_t* out, std::size_t count);
  // Reads exactly `count` bytes or throws an Error that names `description`
  // ("the IDX magic number").
  void read_exact(std::uint8_t* out, std::size_t count, std::string_view description);
  // Returns true when no content byte is left; may read one byte ahead.
  bool at_end();

  // Content bytes consumed so far.
  std::uint64_t offset() const noexcept { return offset_; }
  const std::string& name() const noexcept { return name_; }
  // "byte 16" or, for gzip, "decompressed byte 16".
  std::string describe_offset(std::uint64_t offset) const;

 protected:
  // Reads up to `count` bytes; returns 0 only at the end of the content.
  virtual std::size_t read_raw(std::uint8_t* out, std::size_t count) = 0;

 private:
  std::string name_;
  std::uint64_t offset_ = 0;
  std::optional<std::uint8_t> lookahead_;
};

// Opens a file for reading; a file that starts with the gzip magic bytes
// 1f 8b is decompressed on the fly. The name in messages is the path.
std::unique_ptr<ByteReader> open_file(const std::filesystem::path& path);

// Reads from `bytes`, which must outlive the reader; gzip is detected as in
// open_file. `name` is used in messages.
std::unique_ptr<ByteReader> open_memory(std::span<const std::uint8_t> bytes, std::string name);

// Reads the next `count` bytes into a new buffer that grows as data arrives,
// so a short gzip stream never causes an allocation of the declared size.
// Throws when count exceeds `max_bytes`, or when the content ends early; both
// messages include `declared`, the header's claim in words
// ("the header declares 60000 images of 28x28 pixels").
std::vector<std::uint8_t> read_payload(ByteReader& reader, std::uint64_t count,
                                       std::uint64_t max_bytes, std::string_view declared);

// Reads a whole file of at most `max_bytes` bytes without gzip detection
// (image files, class name lists).
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path, std::uint64_t max_bytes);

}  // namespace nasq::data
