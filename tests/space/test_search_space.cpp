// Search space presets, decisions, stage overrides from a stack, and config errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/config/stack.hpp"
#include "core/space/space_config.hpp"
#include "nasq/sdk/error.hpp"

using nasq::space::SearchSpace;
using nasq::space::SpaceOptions;

namespace {

SearchSpace space_from_stack(const std::string& text) {
  auto stack = nasq::Stack::parse(text, "stack.toml");
  stack.validate_core();
  return nasq::space::load_search_space(stack);
}

// The message of the ConfigError that loading `text` raises, or "" if none.
std::string space_error(const std::string& text) {
  try {
    space_from_stack(text);
  } catch (const nasq::sdk::ConfigError& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("imagenet preset has 22 blocks") {
  const SearchSpace space(nasq::space::preset_options("imagenet"));
  CHECK(space.blocks().size() == 22);
  CHECK(space.decisions().size() == 110);
  CHECK(space.stem_output_size() == 112);
  CHECK(space.head_input_size() == 7);
  CHECK(space.head_input_channels() == 256);
  CHECK(space.options().num_classes == 1000);
}

TEST_CASE("imagenet block shapes follow the stages") {
  const SearchSpace space(nasq::space::preset_options("imagenet"));
  const auto& blocks = space.blocks();
  CHECK(blocks[0].input_channels == 32);
  CHECK(blocks[0].output_channels == 16);
  CHECK(blocks[0].stride == 2);
  CHECK(blocks[0].input_size == 112);
  CHECK(blocks[0].output_size == 56);
  CHECK(blocks[1].stride == 1);
  CHECK(blocks[1].output_channels == 24);
  CHECK(blocks[21].input_size == 7);
  CHECK(blocks[21].output_channels == 256);
}

TEST_CASE("skip offered only where shapes match") {
  const SearchSpace space(nasq::space::preset_options("imagenet"));
  int skippable = 0;
  for (const auto& block : space.blocks()) {
    const bool same_shape = block.stride == 1 && block.input_channels == block.output_channels;
    CHECK(block.residual == same_shape);
    if (same_shape) {
      CHECK(block.skip_choices == std::vector<int>{0, 1});
      ++skippable;
    } else {
      CHECK(block.skip_choices == std::vector<int>{0});
    }
    if (block.position == 0 && (block.stride != 1 || block.input_channels != block.output_channels)) {
      CHECK(block.skip_choices == std::vector<int>{0});
    }
  }
  CHECK(skippable == 15);
}

TEST_CASE("decisions list five kinds per block") {
  const SearchSpace space(nasq::space::preset_options("fashion-mnist"));
  const auto& decisions = space.decisions();
  REQUIRE(decisions.size() == 35);
  CHECK(decisions[0].name == "block0.s");
  CHECK(decisions[0].choices == std::vector<int>{0, 1});
  CHECK(decisions[1].name == "block0.m");
  CHECK(decisions[1].choices == std::vector<int>{1, 3, 6});
  CHECK(decisions[2].kind == "k");
  CHECK(decisions[2].choices == std::vector<int>{3, 5, 7});
  CHECK(decisions[3].kind == "b1");
  CHECK(decisions[4].kind == "b2");
  CHECK(decisions[4].choices == std::vector<int>{2, 4, 6, 8});
  CHECK(decisions[22].name == "block4.k");
  CHECK(decisions[22].block == 4);
  // Block 1 (16 -> 24, stride 2) cannot be skipped.
  CHECK(decisions[5].choices == std::vector<int>{0});
}

TEST_CASE("cifar preset removes the first two strides") {
  const SearchSpace imagenet(nasq::space::preset_options("imagenet"));
  const SearchSpace cifar(nasq::space::preset_options("cifar"));
  CHECK(cifar.options().input_size == 32);
  CHECK(cifar.options().stem_stride == 1);
  CHECK(cifar.options().stages[0].stride == 1);
  CHECK(cifar.options().num_classes == 100);
  REQUIRE(cifar.options().stages.size() == imagenet.options().stages.size());
  for (std::size_t i = 1; i < cifar.options().stages.size(); ++i) {
    CHECK(cifar.options().stages[i] == imagenet.options().stages[i]);
  }
  CHECK(cifar.stem_output_size() == 32);
  CHECK(cifar.head_input_size() == 4);
}

TEST_CASE("fashion-mnist preset shapes") {
  const SearchSpace space(nasq::space::preset_options("fashion-mnist"));
  CHECK(space.blocks().size() == 7);
  CHECK(space.options().input_channels == 1);
  CHECK(space.stem_output_size() == 28);
  CHECK(space.head_input_size() == 7);
  CHECK(space.options().head_channels == 256);
}

TEST_CASE("space size is the product of choice counts") {
  SpaceOptions options = nasq::space::preset_options("fashion-mnist");
  options.stages = {{16, 2, 1}};  // block 0 can skip, block 1 too
  options.expansion_choices = {3};
  options.kernel_choices = {3, 5};
  options.bottleneck_bits = {4};
  options.depthwise_bits = {4, 8};
  const auto size = SearchSpace(options).size();
  CHECK(size.exact == "64");  // (2 * 1 * 2 * 1 * 2)^2
  CHECK(size.log10 == doctest::Approx(std::log10(64.0)));

  const auto imagenet = SearchSpace(nasq::space::preset_options("imagenet")).size();
  // 144 choices per block for 22 blocks, times 2 for the 15 skippable ones.
  CHECK(imagenet.log10 == doctest::Approx(22 * std::log10(144.0) + 15 * std::log10(2.0)));
  CHECK(imagenet.exact.size() == 52);
}

TEST_CASE("unknown preset lists the valid ones") {
  CHECK_THROWS_WITH_AS(nasq::space::preset_options("mnist"),
                       doctest::Contains("valid presets: imagenet, cifar, fashion-mnist"),
                       nasq::sdk::Error);
}

TEST_CASE("stack keys override the preset") {
  const SearchSpace space = space_from_stack(
      "[search_space]\npreset = \"imagenet\"\nstem_channels = 24\nhead_channels = 640\n"
      "kernel_choices = [3, 5]\n[data]\nkind = \"image-folder\"\n");
  CHECK(space.options().stem_channels == 24);
  CHECK(space.options().head_channels == 640);
  CHECK(space.options().num_classes == 1000);
  CHECK(space.blocks()[0].input_channels == 24);
  CHECK(space.blocks()[3].kernel_choices == std::vector<int>{3, 5});
}

TEST_CASE("indexed stage table overrides one stage") {
  const SearchSpace space = space_from_stack(
      "[search_space]\npreset = \"imagenet\"\n[[search_space.stages]]\nindex = 1\nrepeats = 3\n");
  CHECK(space.blocks().size() == 23);
  CHECK(space.options().stages[1].repeats == 3);
  CHECK(space.options().stages[1].channels == 24);
  CHECK(space.options().stages[1].stride == 1);
}

TEST_CASE("stage tables without index replace all stages") {
  const SearchSpace space = space_from_stack(
      "[[search_space.stages]]\nchannels = 8\nrepeats = 2\n"
      "[[search_space.stages]]\nchannels = 12\nstride = 2\n");
  REQUIRE(space.options().stages.size() == 2);
  CHECK(space.blocks().size() == 3);
  CHECK(space.blocks()[2].stride == 2);
  CHECK(space.blocks()[2].output_channels == 12);
  CHECK(space.options().preset == "fashion-mnist");
}

TEST_CASE("class count follows the data set") {
  CHECK(space_from_stack("[search_space]\npreset = \"cifar\"\n[data]\nkind = \"cifar10\"\n")
            .options()
            .num_classes == 10);
  CHECK(space_from_stack("[search_space]\npreset = \"cifar\"\n[data]\nkind = \"cifar100\"\n"
                         "cifar100_labels = \"coarse\"\n")
            .options()
            .num_classes == 20);
  CHECK(space_from_stack("[search_space]\npreset = \"cifar\"\n[data]\nkind = \"image-folder\"\n")
            .options()
            .num_classes == 100);
  CHECK(space_from_stack("[search_space]\npreset = \"cifar\"\nnum_classes = 7\n"
                         "[data]\nkind = \"image-folder\"\n")
            .options()
            .num_classes == 7);
}

TEST_CASE("num_classes contradicting the data is rejected") {
  const std::string message =
      space_error("[search_space]\npreset = \"cifar\"\nnum_classes = 100\n[data]\nkind = \"cifar10\"\n");
  CHECK(contains(message, "stack.toml:3:"));
  CHECK(contains(message, "num_classes = 100"));
  CHECK(contains(message, "has 10 classes"));
}

TEST_CASE("stage with zero repeats names the stage") {
  const std::string message = space_error(
      "[search_space]\npreset = \"imagenet\"\n[[search_space.stages]]\nindex = 2\nrepeats = 0\n");
  CHECK(contains(message, "stage 2"));
  CHECK(contains(message, "repeats must be at least 1, got 0"));
  CHECK(contains(message, "stack.toml:5:"));
}

TEST_CASE("stage stride other than 1 or 2 names the stage") {
  const std::string message =
      space_error("[[search_space.stages]]\nchannels = 8\n[[search_space.stages]]\nchannels = 8\n"
                  "stride = 3\n");
  CHECK(contains(message, "stage 1"));
  CHECK(contains(message, "stride must be 1 or 2, got 3"));
  CHECK(contains(message, "stack.toml:5:"));
}

TEST_CASE("stage with zero channels names the stage") {
  const std::string message =
      space_error("[[search_space.stages]]\nchannels = 8\n[[search_space.stages]]\nchannels = -4\n");
  CHECK(contains(message, "stage 1"));
  CHECK(contains(message, "channels must be at least 1, got -4"));
}

TEST_CASE("stage table errors: missing channels, index, mixing") {
  CHECK(contains(space_error("[[search_space.stages]]\nrepeats = 2\n"), "channels is missing"));
  CHECK(contains(space_error("[[search_space.stages]]\nindex = 9\nrepeats = 2\n"),
                 "index 9 is not a stage of the preset; valid indices are 0..3"));
  CHECK(contains(space_error("[[search_space.stages]]\nindex = 1\n[[search_space.stages]]\n"
                             "index = 1\n"),
                 "stage 1 is overridden twice"));
  CHECK(contains(space_error("[[search_space.stages]]\nindex = 1\n[[search_space.stages]]\n"
                             "channels = 8\n"),
                 "either every [[search_space.stages]] table sets index"));
  CHECK(contains(space_error("[[search_space.stages]]\nchannels = 8\nkernel = 3\n"),
                 "unknown key 'search_space.stages[0].kernel'"));
}

TEST_CASE("choice lists outside the allowed sets") {
  const std::string even = space_error("[search_space]\nkernel_choices = [3, 4]\n");
  CHECK(contains(even, "stack.toml:2:"));
  CHECK(contains(even, "kernel_choices: choice 4 is invalid; choices must be odd kernel sizes"));
  CHECK(contains(space_error("[search_space]\nbottleneck_bits = [2, 9]\n"),
                 "bottleneck_bits: choice 9 is invalid; choices must be bit-widths in 1..8"));
  CHECK(contains(space_error("[search_space]\ndepthwise_bits = [0, 4]\n"),
                 "depthwise_bits: choice 0 is invalid"));
  CHECK(contains(space_error("[search_space]\nskip_choices = [0, 2]\n"),
                 "skip_choices: choice 2 is invalid; choices must be 0 (keep) or 1 (skip)"));
  CHECK(contains(space_error("[search_space]\nexpansion_choices = []\n"),
                 "expansion_choices: must list at least one choice"));
  CHECK(contains(space_error("[search_space]\nexpansion_choices = [3, 3]\n"),
                 "expansion_choices: lists the choice 3 twice"));
  CHECK(contains(space_error("[search_space]\nexpansion_choices = [0]\n"),
                 "expansion_choices: choice 0 is invalid"));
}

TEST_CASE("stem stride outside 0..2 is rejected by the schema") {
  const std::string message = space_error("[search_space]\nstem_stride = 3\n");
  CHECK(contains(message, "stack.toml:2:"));
  CHECK(contains(message, "stem_stride"));
}

TEST_CASE("options built in code are validated") {
  SpaceOptions options = nasq::space::preset_options("imagenet");
  options.stages[4].repeats = 0;
  CHECK_THROWS_WITH_AS(SearchSpace{options}, doctest::Contains("stage 4 of search_space: repeats"),
                       nasq::sdk::ConfigError);
  options = nasq::space::preset_options("imagenet");
  options.stages.clear();
  CHECK_THROWS_WITH_AS(SearchSpace{options}, doctest::Contains("at least one stage"),
                       nasq::sdk::ConfigError);
  options = nasq::space::preset_options("imagenet");
  options.stem_stride = 4;
  CHECK_THROWS_WITH_AS(SearchSpace{options}, doctest::Contains("stem_stride: must be 1 or 2"),
                       nasq::sdk::ConfigError);
}

TEST_CASE("description and fingerprint track the macro-architecture") {
  const SearchSpace a(nasq::space::preset_options("fashion-mnist"));
  SpaceOptions options = nasq::space::preset_options("fashion-mnist");
  options.kernel_choices = {3};
  const SearchSpace same_shape(options);
  options.stages[1].repeats = 3;
  const SearchSpace other(options);
  CHECK(a.description() ==
        "input 28x28x1; stem 16 s1; stages 16 n1 s1, 24 n2 s2, 32 n2 s2, 64 n2 s1; head 256; "
        "classes 10");
  CHECK(a.fingerprint().size() == 16);
  CHECK(a.fingerprint() == same_shape.fingerprint());
  CHECK(a.fingerprint() != other.fingerprint());
}
