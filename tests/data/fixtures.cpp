// Writers of small IDX, CIFAR, PNG and JPEG fixtures for the data tests.
#include "fixtures.hpp"

#include <stb_image_write.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace nasq::data::testing {

namespace {

void append_u32(Bytes& bytes, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    bytes.push_back(static_cast<std::uint8_t>(value >> shift));
  }
}

}  // namespace

void write_bytes(const std::filesystem::path& path, const Bytes& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  stream.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!stream) {
    throw std::runtime_error("cannot write test fixture " + path.string());
  }
}

Bytes gzip(const Bytes& bytes) {
  z_stream stream;
  std::memset(&stream, 0, sizeof(stream));
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  Bytes out(deflateBound(&stream, bytes.size()) + 64);
  stream.next_in = const_cast<Bytef*>(bytes.data());
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  const int status = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (status != Z_STREAM_END) {
    throw std::runtime_error("deflate did not finish");
  }
  return out;
}

Bytes idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t columns, const Bytes& pixels) {
  Bytes bytes;
  append_u32(bytes, 0x00000803);
  append_u32(bytes, count);
  append_u32(bytes, rows);
  append_u32(bytes, columns);
  bytes.insert(bytes.end(), pixels.begin(), pixels.end());
  return bytes;
}

Bytes idx_labels(std::uint32_t count, const Bytes& labels) {
  Bytes bytes;
  append_u32(bytes, 0x00000801);
  append_u32(bytes, count);
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

std::uint8_t synthetic_pixel(std::int64_t i, std::int64_t y, std::int64_t x, std::int64_t c) {
  return static_cast<std::uint8_t>((i * 31 + y * 7 + x * 3 + c * 101) % 256);
}

Bytes synthetic_grey_pixels(std::int64_t count, std::int64_t rows, std::int64_t columns) {
  Bytes pixels;
  for (std::int64_t i = 0; i < count; ++i) {
    for (std::int64_t y = 0; y < rows; ++y) {
      for (std::int64_t x = 0; x < columns; ++x) {
        pixels.push_back(synthetic_pixel(i, y, x, 0));
      }
    }
  }
  return pixels;
}

Bytes cifar_records(const std::vector<Bytes>& label_bytes, std::int64_t first_image) {
  Bytes bytes;
  for (std::size_t r = 0; r < label_bytes.size(); ++r) {
    bytes.insert(bytes.end(), label_bytes[r].begin(), label_bytes[r].end());
    const auto image = first_image + static_cast<std::int64_t>(r);
    for (std::int64_t c = 0; c < 3; ++c) {
      for (std::int64_t y = 0; y < 32; ++y) {
        for (std::int64_t x = 0; x < 32; ++x) {
          bytes.push_back(synthetic_pixel(image, y, x, c));
        }
      }
    }
  }
  return bytes;
}

void write_image(const std::filesystem::path& path, int width, int height, int channels,
                 const std::vector<std::uint8_t>& colour) {
  std::filesystem::create_directories(path.parent_path());
  std::vector<std::uint8_t> pixels;
  for (int p = 0; p < width * height; ++p) {
    pixels.insert(pixels.end(), colour.begin(), colour.begin() + channels);
  }
  const std::string name = path.string();
  const int ok = path.extension() == ".png"
                     ? stbi_write_png(name.c_str(), width, height, channels, pixels.data(), width * channels)
                     : stbi_write_jpg(name.c_str(), width, height, channels, pixels.data(), 95);
  if (ok == 0) {
    throw std::runtime_error("stb_image_write failed for " + name);
  }
}

std::filesystem::path fresh_folder(const std::string& name) {
  const auto path = std::filesystem::current_path() / name;
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path;
}

}  // namespace nasq::data::testing
