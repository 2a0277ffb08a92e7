// Temporary file, fsync, rename, fsync of the directory.
#include "core/util/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "nasq/sdk/error.hpp"

namespace nasq {
namespace {

void sync_path(const std::filesystem::path& path, int flags) {
  const int descriptor = ::open(path.c_str(), flags);
  if (descriptor < 0) {
    throw sdk::Error("failed to open " + path.string() + " for fsync: " + std::strerror(errno));
  }
  const int result = ::fsync(descriptor);
  const int saved = errno;
  ::close(descriptor);
  if (result != 0) {
    throw sdk::Error("fsync of " + path.string() + " failed: " + std::strerror(saved));
  }
}

}  // namespace

void replace_file_atomically(const std::filesystem::path& target,
                             const std::function<void(const std::filesystem::path&)>& write) {
  std::filesystem::path temporary = target;
  temporary += ".tmp-" + std::to_string(::getpid());
  try {
    write(temporary);
    sync_path(temporary, O_RDONLY);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
  std::error_code error;
  std::filesystem::rename(temporary, target, error);
  if (error) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw sdk::Error("failed to replace " + target.string() + ": " + error.message() +
                     "; make it a writable file or remove it, then rerun");
  }
  const std::filesystem::path directory =
      target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  sync_path(directory, O_RDONLY | O_DIRECTORY);
}

void write_file_atomically(const std::filesystem::path& target, std::string_view bytes) {
  replace_file_atomically(target, [&](const std::filesystem::path& temporary) {
    errno = 0;
    std::ofstream stream(temporary, std::ios::binary | std::ios::trunc);
    stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    stream.flush();
    if (!stream) {
      throw sdk::Error("failed to write " + target.string() + " (through " + temporary.string() +
                       "): " + (errno != 0 ? std::strerror(errno) : "write error") +
                       "; check that the directory is writable and the disk has space");
    }
  });
}

void write_text_atomically(const std::filesystem::path& target, const std::string& text) {
  write_file_atomically(target, text);
}

}  // namespace nasq
