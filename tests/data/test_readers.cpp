// Tests of the IDX, CIFAR and image-folder readers on real and generated files,
// including corrupt inputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "core/data/byte_reader.hpp"
#include "core/data/cifar_reader.hpp"
#include "core/data/idx_reader.hpp"
#include "core/data/image_folder_reader.hpp"
#include "fixtures.hpp"
#include "nasq/sdk/error.hpp"

using namespace nasq::data;
using namespace nasq::data::testing;

// doctest::Contains takes a doctest::String, which has no std::string constructor.
static doctest::Contains contains(const std::string& text) { return doctest::Contains(text.c_str()); }
using nasq::sdk::Error;

namespace {

// Writes a consistent IDX pair of `count` 28x28 images and labels i % 10.
void write_idx_pair(const std::filesystem::path& folder, const std::string& prefix, std::uint32_t count,
                    bool compressed) {
  Bytes labels;
  for (std::uint32_t i = 0; i < count; ++i) {
    labels.push_back(static_cast<std::uint8_t>(i % 10));
  }
  Bytes images = idx_images(count, 28, 28, synthetic_grey_pixels(count, 28, 28));
  Bytes label_file = idx_labels(count, labels);
  const std::string suffix = compressed ? ".gz" : "";
  write_bytes(folder / (prefix + "-images-idx3-ubyte" + suffix), compressed ? gzip(images) : images);
  write_bytes(folder / (prefix + "-labels-idx1-ubyte" + suffix), compressed ? gzip(label_file) : label_file);
}

IdxImages read_images_file(const std::filesystem::path& path, const IdxReadOptions& options = {}) {
  auto reader = open_file(path);
  return read_idx_images(*reader, options);
}

std::vector<std::int64_t> read_labels_file(const std::filesystem::path& path) {
  auto reader = open_file(path);
  return read_idx_labels(*reader, 10);
}

ImageSet read_cifar10_file(const std::filesystem::path& path) {
  auto reader = open_file(path);
  return read_cifar_file(*reader, CifarLabels::cifar10);
}

}  // namespace

TEST_CASE("fashion-mnist training slice") {
  const ImageSet set = read_idx_folder(kFashionMnistDir, false, fashion_mnist_class_names(), {.limit = 1000});
  CHECK(set.count == 1000);
  CHECK(set.height == 28);
  CHECK(set.width == 28);
  CHECK(set.channels == 1);
  CHECK(set.num_classes == 10);
  CHECK(set.class_names.size() == 10);
  CHECK(set.pixels.size() == 1000u * 28 * 28);
  CHECK(set.labels.size() == 1000);
  CHECK(*std::min_element(set.labels.begin(), set.labels.end()) == 0);
  CHECK(*std::max_element(set.labels.begin(), set.labels.end()) == 9);
  CHECK(std::set<std::int64_t>(set.labels.begin(), set.labels.end()).size() == 10);
  CHECK(std::any_of(set.pixels.begin(), set.pixels.end(), [](std::uint8_t pixel) { return pixel > 200; }));
}

TEST_CASE("fashion-mnist full test set") {
  const ImageSet set = read_idx_folder(kFashionMnistDir, true, fashion_mnist_class_names());
  CHECK(set.count == 10000);
  CHECK(set.height == 28);
  std::vector<std::int64_t> per_class = count_labels(set);
  // The Fashion-MNIST test set has 1000 images of each class.
  CHECK(per_class == std::vector<std::int64_t>(10, 1000));
}

TEST_CASE("idx raw and gzip read alike") {
  const auto folder = fresh_folder("idx_alike");
  write_idx_pair(folder / "raw", "train", 25, false);
  write_idx_pair(folder / "gz", "train", 25, true);
  const ImageSet raw = read_idx_folder(folder / "raw", false, mnist_class_names());
  const ImageSet gz = read_idx_folder(folder / "gz", false, mnist_class_names());
  CHECK(raw.count == 25);
  CHECK(raw.pixels == synthetic_grey_pixels(25, 28, 28));
  CHECK(raw.pixels == gz.pixels);
  CHECK(raw.labels == gz.labels);
  CHECK(raw.labels[13] == 3);

  const ImageSet limited = read_idx_folder(folder / "gz", false, mnist_class_names(), {.limit = 7});
  CHECK(limited.count == 7);
  CHECK(std::equal(limited.pixels.begin(), limited.pixels.end(), raw.pixels.begin()));
}

TEST_CASE("idx concatenated gzip members") {
  const auto folder = fresh_folder("idx_members");
  const Bytes file = idx_images(3, 28, 28, synthetic_grey_pixels(3, 28, 28));
  const Bytes first(file.begin(), file.begin() + 100);
  const Bytes second(file.begin() + 100, file.end());
  Bytes joined = gzip(first);
  const Bytes tail = gzip(second);
  joined.insert(joined.end(), tail.begin(), tail.end());
  write_bytes(folder / "images.gz", joined);
  CHECK(read_images_file(folder / "images.gz").pixels == synthetic_grey_pixels(3, 28, 28));
}

TEST_CASE("idx truncated raw file") {
  const auto folder = fresh_folder("idx_truncated");
  Bytes file = idx_images(10, 28, 28, synthetic_grey_pixels(10, 28, 28));
  file.resize(file.size() - 100);
  write_bytes(folder / "images", file);
  const auto path = folder / "images";
  CHECK_THROWS_WITH_AS(read_images_file(path), contains(path.string()), Error);
  CHECK_THROWS_WITH_AS(read_images_file(path), contains("file has 7756 bytes"), Error);
  CHECK_THROWS_WITH_AS(read_images_file(path), contains("declares 10 images of 28x28"), Error);
  CHECK_THROWS_WITH_AS(read_images_file(path), contains("truncated"), Error);
}

TEST_CASE("idx file shorter than header") {
  const auto folder = fresh_folder("idx_short_header");
  write_bytes(folder / "images", {0x00, 0x00, 0x08, 0x03, 0x00, 0x00});
  CHECK_THROWS_WITH_AS(read_images_file(folder / "images"), contains("file ends at byte 6"), Error);
  CHECK_THROWS_WITH_AS(read_images_file(folder / "images"), contains("IDX dimension size"), Error);
}

TEST_CASE("idx wrong magic") {
  const auto folder = fresh_folder("idx_magic");
  write_bytes(folder / "labels", idx_labels(3, {1, 2, 3}));
  const auto path = folder / "labels";
  CHECK_THROWS_WITH_AS(read_images_file(path), contains(path.string()), Error);
  CHECK_THROWS_WITH_AS(read_images_file(path), contains("magic number 0x00000801 at byte 0"), Error);
  CHECK_THROWS_WITH_AS(read_images_file(path), contains("expected 0x00000803"), Error);

  Bytes floats = idx_images(1, 1, 1, {0});
  floats[2] = 0x0D;
  write_bytes(folder / "floats", floats);
  CHECK_THROWS_WITH_AS(read_images_file(folder / "floats"), contains("data type 13 is not supported"), Error);
}

TEST_CASE("idx oversized count") {
  const auto folder = fresh_folder("idx_oversized");
  const Bytes file = idx_images(1u << 31, 28, 28, synthetic_grey_pixels(2, 28, 28));
  write_bytes(folder / "images", file);
  write_bytes(folder / "images.gz", gzip(file));

  // Raw: the file size contradicts the header before anything is allocated.
  CHECK_THROWS_WITH_AS(read_images_file(folder / "images"), contains("declares 2147483648 images"), Error);
  CHECK_THROWS_WITH_AS(read_images_file(folder / "images"), contains("file has 1584 bytes"), Error);
  // Gzip: the declared size exceeds the reader's limit, again before allocating.
  const auto gz = (folder / "images.gz").string();
  CHECK_THROWS_WITH_AS(read_images_file(gz), contains(gz), Error);
  CHECK_THROWS_WITH_AS(read_images_file(gz), contains("more than the limit"), Error);
  // Gzip under a raised limit: the data ends long before the declared size.
  CHECK_THROWS_WITH_AS(read_images_file(gz, {.max_bytes = ~std::uint64_t{0}}),
                       contains("data ends at decompressed byte 1584"), Error);
}

TEST_CASE("idx huge image side") {
  const auto folder = fresh_folder("idx_side");
  write_bytes(folder / "images", idx_images(1, 0x10000000, 2, {}));
  CHECK_THROWS_WITH_AS(read_images_file(folder / "images"), contains("image size 268435456x2 at byte 8"), Error);
}

TEST_CASE("idx label out of range") {
  const auto folder = fresh_folder("idx_label");
  write_bytes(folder / "labels", idx_labels(5, {0, 1, 2, 10, 4}));
  const auto path = folder / "labels";
  CHECK_THROWS_WITH_AS(read_labels_file(path), contains(path.string()), Error);
  CHECK_THROWS_WITH_AS(read_labels_file(path), contains("label 10 of entry 3 at byte 11"), Error);
  CHECK_THROWS_WITH_AS(read_labels_file(path), contains("expected 0 to 9"), Error);
}

TEST_CASE("idx truncated gzip") {
  const auto folder = fresh_folder("idx_gzip_truncated");
  const Bytes compressed = gzip(idx_images(50, 28, 28, synthetic_grey_pixels(50, 28, 28)));
  write_bytes(folder / "images.gz", Bytes(compressed.begin(), compressed.begin() + compressed.size() / 2));
  const auto path = (folder / "images.gz").string();
  CHECK_THROWS_WITH_AS(read_images_file(path), contains(path), Error);
  CHECK_THROWS_WITH_AS(read_images_file(path), contains("gzip data is truncated"), Error);
  CHECK_THROWS_WITH_AS(read_images_file(path), contains("compressed file ends at byte " +
                                                         std::to_string(compressed.size() / 2)),
                       Error);
}

TEST_CASE("idx corrupt gzip") {
  const auto folder = fresh_folder("idx_gzip_corrupt");
  Bytes compressed = gzip(idx_images(50, 28, 28, synthetic_grey_pixels(50, 28, 28)));
  compressed[3] = 0xE0;  // reserved flag bits, which zlib rejects
  write_bytes(folder / "images.gz", compressed);
  const auto path = (folder / "images.gz").string();
  CHECK_THROWS_WITH_AS(read_images_file(path), contains(path), Error);
  CHECK_THROWS_WITH_AS(read_images_file(path), contains("invalid gzip data near compressed byte"), Error);
}

TEST_CASE("idx gzip with extra data") {
  const auto folder = fresh_folder("idx_gzip_extra");
  write_bytes(folder / "images.gz", gzip(idx_images(2, 28, 28, synthetic_grey_pixels(3, 28, 28))));
  const auto path = (folder / "images.gz").string();
  CHECK_THROWS_WITH_AS(read_images_file(path), contains("unexpected data at decompressed byte 1584"), Error);
  CHECK(read_images_file(path, {.limit = 1}).count == 1);
}

TEST_CASE("idx image and label counts differ") {
  const auto folder = fresh_folder("idx_counts");
  write_idx_pair(folder, "train", 6, false);
  write_bytes(folder / "train-labels-idx1-ubyte", idx_labels(5, {0, 1, 2, 3, 4}));
  CHECK_THROWS_WITH_AS(read_idx_folder(folder, false, mnist_class_names()),
                       contains("declares 6 images but"), Error);
  CHECK_THROWS_WITH_AS(read_idx_folder(folder, false, mnist_class_names()),
                       contains("train-labels-idx1-ubyte declares 5 labels"), Error);
}

TEST_CASE("idx missing files") {
  const auto folder = fresh_folder("idx_missing");
  CHECK_THROWS_WITH_AS(read_idx_folder(folder, true, mnist_class_names()),
                       contains("neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz found"), Error);
}

TEST_CASE("cifar10 folder") {
  const auto folder = fresh_folder("cifar10");
  const auto root = folder / "cifar-10-batches-bin";
  for (int batch = 1; batch <= 5; ++batch) {
    write_bytes(root / ("data_batch_" + std::to_string(batch) + ".bin"),
                cifar_records({{static_cast<std::uint8_t>(batch)}, {9}}, (batch - 1) * 2));
  }
  write_bytes(root / "test_batch.bin", cifar_records({{0}, {1}, {2}}, 100));
  write_bytes(root / "batches.meta.txt",
              {'a', '\n', 'b', '\n', 'c', '\n', 'd', '\n', 'e', '\n', 'f', '\n', 'g', '\n', 'h', '\n', 'i', '\n',
               'j', '\n', '\n'});

  const ImageSet train = read_cifar10_folder(folder, false);
  CHECK(train.count == 10);
  CHECK(train.height == 32);
  CHECK(train.width == 32);
  CHECK(train.channels == 3);
  CHECK(train.labels == std::vector<std::int64_t>{1, 9, 2, 9, 3, 9, 4, 9, 5, 9});
  CHECK(train.class_names.front() == "a");
  CHECK(train.class_names.back() == "j");
  // NHWC: image 3, row 5, column 7, green.
  CHECK(train.pixels[3 * 3072 + (5 * 32 + 7) * 3 + 1] == synthetic_pixel(3, 5, 7, 1));

  const ImageSet limited = read_cifar10_folder(root, false, {.limit = 3});
  CHECK(limited.count == 3);
  CHECK(limited.labels == std::vector<std::int64_t>{1, 9, 2});

  const ImageSet test = read_cifar10_folder(root, true);
  CHECK(test.count == 3);
  CHECK(test.pixels[2 * 3072 + (31 * 32 + 31) * 3 + 2] == synthetic_pixel(102, 31, 31, 2));
}

TEST_CASE("cifar100 fine and coarse labels") {
  const auto folder = fresh_folder("cifar100");
  write_bytes(folder / "train.bin", cifar_records({{19, 99}, {0, 42}}, 0));
  const ImageSet fine = read_cifar100_folder(folder, false, CifarLabels::cifar100_fine);
  CHECK(fine.num_classes == 100);
  CHECK(fine.labels == std::vector<std::int64_t>{99, 42});
  CHECK(fine.class_names[42] == "42");
  const ImageSet coarse = read_cifar100_folder(folder, false, CifarLabels::cifar100_coarse);
  CHECK(coarse.num_classes == 20);
  CHECK(coarse.labels == std::vector<std::int64_t>{19, 0});
  CHECK(coarse.pixels == fine.pixels);
}

TEST_CASE("cifar truncated record") {
  const auto folder = fresh_folder("cifar_truncated");
  Bytes file = cifar_records({{1}, {2}, {3}}, 0);
  file.resize(file.size() - 1);
  write_bytes(folder / "data_batch_1.bin", file);
  const auto path = (folder / "data_batch_1.bin").string();
  CHECK_THROWS_WITH_AS(read_cifar10_file(path), contains(path), Error);
  CHECK_THROWS_WITH_AS(read_cifar10_file(path), contains("record 2 starting at byte 6146 is truncated"), Error);

  write_bytes(folder / "short.gz", gzip(file));
  const auto gz = (folder / "short.gz").string();
  CHECK_THROWS_WITH_AS(read_cifar10_file(gz), contains(gz), Error);
  CHECK_THROWS_WITH_AS(read_cifar10_file(gz), contains("inside record 2, which starts at decompressed byte 6146"), Error);
  CHECK_THROWS_WITH_AS(read_cifar10_file(gz), contains("decompressed byte 6146"), Error);
}

TEST_CASE("cifar label out of range") {
  const auto folder = fresh_folder("cifar_label");
  write_bytes(folder / "test_batch.bin", cifar_records({{1}, {10}}, 0));
  const auto path = (folder / "test_batch.bin").string();
  CHECK_THROWS_WITH_AS(read_cifar10_file(path), contains(path), Error);
  CHECK_THROWS_WITH_AS(read_cifar10_file(path), contains("label 10 of record 1 at byte 3073"), Error);

  write_bytes(folder / "train.bin", cifar_records({{3, 100}}, 0));
  CHECK_THROWS_WITH_AS(read_cifar100_folder(folder, false, CifarLabels::cifar100_fine),
                       contains("label 100 of record 0 at byte 1"), Error);
}

TEST_CASE("cifar empty file and bad names") {
  const auto folder = fresh_folder("cifar_empty");
  write_bytes(folder / "test_batch.bin", {});
  CHECK_THROWS_WITH_AS(read_cifar10_folder(folder, true), contains("file is empty"), Error);

  write_bytes(folder / "test_batch.bin", cifar_records({{1}}, 0));
  write_bytes(folder / "batches.meta.txt", {'a', '\n', 'b', '\n'});
  CHECK_THROWS_WITH_AS(read_cifar10_folder(folder, true), contains("lists 2 class names; expected 10"), Error);
}

TEST_CASE("image folder png and jpeg") {
  const auto root = fresh_folder("images");
  write_image(root / "zebra" / "b.png", 10, 6, 3, {200, 10, 10});
  write_image(root / "zebra" / "a.jpg", 10, 6, 3, {10, 200, 10});
  write_image(root / "ant" / "x.JPEG", 10, 6, 1, {90});
  write_bytes(root / "ant" / "notes.txt", {'h', 'i'});

  const ImageSet native = read_image_folder(root);
  CHECK(native.class_names == std::vector<std::string>{"ant", "zebra"});
  CHECK(native.count == 3);
  CHECK(native.height == 6);
  CHECK(native.width == 10);
  CHECK(native.channels == 3);
  CHECK(native.labels == std::vector<std::int64_t>{0, 1, 1});
  // Grey JPEG replicated to RGB; the JPEG of zebra/a.jpg sorts before b.png.
  CHECK(std::abs(native.pixels[0] - 90) <= 3);
  CHECK(std::abs(native.pixels[native.image_bytes() + 1] - 200) <= 3);
  CHECK(native.pixels[2 * native.image_bytes()] == 200);

  const ImageSet resized = read_image_folder(root, {.input_size = 8, .channels = 1});
  CHECK(resized.height == 8);
  CHECK(resized.width == 8);
  CHECK(resized.channels == 1);
  CHECK(resized.pixels.size() == 3u * 64);
  // Solid colours stay solid after resizing; grey of (200, 10, 10) is about 67.
  CHECK(std::abs(resized.pixels[2 * 64 + 27] - 67) <= 3);
}

TEST_CASE("image folder unreadable image") {
  const auto root = fresh_folder("images_bad");
  write_image(root / "cat" / "a.png", 4, 4, 3, {1, 2, 3});
  write_bytes(root / "cat" / "b.png", {'n', 'o', 't', ' ', 'p', 'n', 'g'});
  const auto bad = (root / "cat" / "b.png").string();
  CHECK_THROWS_WITH_AS(read_image_folder(root), contains(bad), Error);
  CHECK_THROWS_WITH_AS(read_image_folder(root), contains("entry 1 of class 'cat'"), Error);
  CHECK_THROWS_WITH_AS(read_image_folder(root), contains("cannot decode the image"), Error);

  Bytes truncated_png;
  {
    write_image(root / "tmp" / "c.png", 16, 16, 3, {1, 2, 3});
    auto reader = open_file(root / "tmp" / "c.png");
    truncated_png.resize(*reader->size() / 2);
    reader->read_exact(truncated_png.data(), truncated_png.size(), "half of the PNG");
    std::filesystem::remove_all(root / "tmp");
  }
  write_bytes(root / "cat" / "b.png", truncated_png);
  CHECK_THROWS_WITH_AS(read_image_folder(root), contains("entry 1 of class 'cat'"), Error);
}

TEST_CASE("image folder size mismatch and empty class") {
  const auto root = fresh_folder("images_mismatch");
  write_image(root / "a" / "1.png", 4, 4, 3, {1, 2, 3});
  write_image(root / "a" / "2.png", 5, 4, 3, {1, 2, 3});
  CHECK_THROWS_WITH_AS(read_image_folder(root), contains("image is 5x4 but earlier images are 4x4"), Error);
  CHECK(read_image_folder(root, {.input_size = 4}).count == 2);

  std::filesystem::create_directories(root / "b");
  CHECK_THROWS_WITH_AS(read_image_folder(root, {.input_size = 4}), contains("has no .png, .jpg or .jpeg files"),
                       Error);
  CHECK_THROWS_WITH_AS(read_image_folder(root / "missing"), contains("folder not found"), Error);
}

TEST_CASE("memory reader detects gzip") {
  const Bytes file = idx_labels(3, {4, 5, 6});
  const Bytes compressed = gzip(file);
  auto raw = open_memory(file, "raw");
  auto gz = open_memory(compressed, "gz");
  CHECK_FALSE(raw->compressed());
  CHECK(gz->compressed());
  CHECK(read_idx_labels(*raw, 10) == std::vector<std::int64_t>{4, 5, 6});
  CHECK(read_idx_labels(*gz, 10) == std::vector<std::int64_t>{4, 5, 6});
}
