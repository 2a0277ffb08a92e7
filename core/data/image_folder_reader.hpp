// Reader for image folders: one sub-folder per class, PNG or JPEG files inside,
// decoded with stb_image and resized to a square input size.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/data/image_set.hpp"

namespace nasq::data {

struct ImageFolderOptions {
  // Side of the square images in pixels; 0 keeps the native size, which then
  // must be the same for every image.
  std::int64_t input_size = 0;
  // 1 (grey) or 3 (RGB); stb_image converts every file to this count.
  std::int64_t channels = 3;
  // Images read in (class, file name) order; 0 reads all.
  std::int64_t limit = 0;
  // When not empty, the sub-folder names must equal these class names (a test
  // split must have the classes of its training split).
  std::vector<std::string> expected_classes{};
  // Files larger than this, or with more pixels than max_image_pixels, are
  // rejected before decoding.
  std::uint64_t max_file_bytes = std::uint64_t{256} << 20;
  std::int64_t max_image_pixels = std::int64_t{1} << 26;
};

// Returns the class names of `root`: its sub-folder names in byte order,
// without hidden folders (names starting with '.'). Throws nasq::sdk::Error
// when `root` is not a folder or has no sub-folders.
std::vector<std::string> list_image_folder_classes(const std::filesystem::path& root);

// Reads every .png, .jpg and .jpeg file (case-insensitive) of every class
// folder; other files are skipped with a warning in the log. The class id is
// the index of the folder name in byte order. Throws nasq::sdk::Error naming
// the file and its entry (class and index) for an unreadable or undecodable
// image, a size mismatch without input_size, and an empty class folder.
ImageSet read_image_folder(const std::filesystem::path& root, const ImageFolderOptions& options = {});

}  // namespace nasq::data
