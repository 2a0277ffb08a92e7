// Decodes class-per-folder PNG and JPEG collections into one image set.
#include "core/data/image_folder_reader.hpp"

#include <spdlog/spdlog.h>
#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "core/data/byte_reader.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::data {

namespace {

bool is_image_file(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg";
}

bool is_hidden(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  return !name.empty() && name.front() == '.';
}

// Lists the image files of one class folder in byte order.
std::vector<std::filesystem::path> list_images(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> images;
  std::int64_t skipped = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (is_hidden(entry.path())) {
      continue;
    }
    if (entry.is_regular_file() && is_image_file(entry.path())) {
      images.push_back(entry.path());
    } else {
      ++skipped;
    }
  }
  if (skipped > 0) {
    spdlog::warn("{}: skipped {} entries that are not .png, .jpg or .jpeg files", folder.string(), skipped);
  }
  std::sort(images.begin(), images.end());
  return images;
}

std::string describe_entry(const std::filesystem::path& file, const std::string& class_name, std::size_t index) {
  return file.string() + " (entry " + std::to_string(index) + " of class '" + class_name + "')";
}

// Decodes one file into size x size x channels bytes appended to `pixels`;
// with size 0, the first image fixes the size for the rest.
void decode_into(const std::filesystem::path& file, const std::string& entry, const ImageFolderOptions& options,
                 ImageSet& set) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(file, options.max_file_bytes);
  const int length = static_cast<int>(bytes.size());
  int width = 0;
  int height = 0;
  int native_channels = 0;
  if (bytes.empty() || stbi_info_from_memory(bytes.data(), length, &width, &height, &native_channels) == 0) {
    throw sdk::Error(entry + ": cannot decode the image (stb_image: " +
                     std::string(bytes.empty() ? "empty file" : stbi_failure_reason()) +
                     "); expected a PNG or JPEG file");
  }
  if (static_cast<std::int64_t>(width) * height > options.max_image_pixels) {
    throw sdk::Error(entry + ": image of " + std::to_string(width) + "x" + std::to_string(height) +
                     " pixels exceeds the limit of " + std::to_string(options.max_image_pixels) + " pixels");
  }
  const int channels = static_cast<int>(options.channels);
  std::unique_ptr<stbi_uc, void (*)(void*)> decoded(
      stbi_load_from_memory(bytes.data(), length, &width, &height, &native_channels, channels), stbi_image_free);
  if (!decoded) {
    throw sdk::Error(entry + ": cannot decode the image data (stb_image: " +
                     std::string(stbi_failure_reason()) + "); the file is corrupt");
  }

  if (set.height == 0) {
    set.height = options.input_size > 0 ? options.input_size : height;
    set.width = options.input_size > 0 ? options.input_size : width;
  }
  const std::size_t start = set.pixels.size();
  set.pixels.resize(start + static_cast<std::size_t>(set.image_bytes()));
  if (width == set.width && height == set.height) {
    std::copy_n(decoded.get(), set.image_bytes(), set.pixels.data() + start);
    return;
  }
  if (options.input_size == 0) {
    throw sdk::Error(entry + ": image is " + std::to_string(width) + "x" + std::to_string(height) +
                     " but earlier images are " + std::to_string(set.width) + "x" + std::to_string(set.height) +
                     "; set [data] input_size to resize every image to one square size");
  }
  if (stbir_resize_uint8(decoded.get(), width, height, 0, set.pixels.data() + start, static_cast<int>(set.width),
                         static_cast<int>(set.height), 0, channels) == 0) {
    throw sdk::Error(entry + ": resizing the image failed (stb_image_resize is out of memory)");
  }
}

void check_options(const std::filesystem::path& root, const ImageFolderOptions& options) {
  if (options.channels != 1 && options.channels != 3) {
    throw sdk::Error(root.string() + ": channel count " + std::to_string(options.channels) +
                     " is not supported; expected 1 or 3");
  }
  if (options.input_size < 0) {
    throw sdk::Error(root.string() + ": input size " + std::to_string(options.input_size) +
                     " is invalid; expected 0 (native) or a positive number of pixels");
  }
}

}  // namespace

std::vector<std::string> list_image_folder_classes(const std::filesystem::path& root) {
  if (!std::filesystem::is_directory(root)) {
    throw sdk::Error(root.string() + ": folder not found; expected one sub-folder of images per class");
  }
  std::vector<std::string> classes;
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    if (entry.is_directory() && !is_hidden(entry.path())) {
      classes.push_back(entry.path().filename().string());
    }
  }
  if (classes.empty()) {
    throw sdk::Error(root.string() + ": no class sub-folders found; expected one sub-folder of images per class");
  }
  std::sort(classes.begin(), classes.end());
  return classes;
}

ImageSet read_image_folder(const std::filesystem::path& root, const ImageFolderOptions& options) {
  check_options(root, options);
  ImageSet set;
  set.channels = options.channels;
  set.class_names = list_image_folder_classes(root);
  set.num_classes = static_cast<std::int64_t>(set.class_names.size());
  set.source = root.string();
  if (!options.expected_classes.empty() && options.expected_classes != set.class_names) {
    throw sdk::Error(root.string() + ": class folders differ from the training split's " +
                     std::to_string(options.expected_classes.size()) +
                     " classes; both splits need the same sub-folder names");
  }

  for (std::size_t class_id = 0; class_id < set.class_names.size(); ++class_id) {
    if (options.limit > 0 && set.count >= options.limit) {
      break;
    }
    const std::string& class_name = set.class_names[class_id];
    const auto files = list_images(root / class_name);
    if (files.empty()) {
      throw sdk::Error((root / class_name).string() + ": class folder has no .png, .jpg or .jpeg files");
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (options.limit > 0 && set.count >= options.limit) {
        break;
      }
      decode_into(files[i], describe_entry(files[i], class_name, i), options, set);
      set.labels.push_back(static_cast<std::int64_t>(class_id));
      ++set.count;
    }
  }
  return set;
}

}  // namespace nasq::data
