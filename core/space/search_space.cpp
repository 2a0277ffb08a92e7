// Presets, block shapes, decisions and size of the search space.
#include "core/space/search_space.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/space/space_validation.hpp"
#include "core/util/text.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::space {
namespace {

SpaceOptions imagenet_preset() {
  SpaceOptions options;
  options.preset = "imagenet";
  options.input_size = 224;
  options.input_channels = 3;
  options.num_classes = 1000;
  options.stem_channels = 32;
  options.stem_stride = 2;
  options.stages = {{16, 1, 2}, {24, 2, 1}, {32, 4, 2},  {64, 4, 2},
                    {128, 4, 1}, {160, 5, 2}, {256, 2, 1}};
  options.head_channels = 1280;
  return options;
}

// The ImageNet stages on 32x32 inputs: the stem and the first stage use
// stride 1 instead of 2, so the feature maps go 32, 32, 32, 16, 8, 8, 4, 4.
SpaceOptions cifar_preset() {
  SpaceOptions options = imagenet_preset();
  options.preset = "cifar";
  options.input_size = 32;
  options.num_classes = 100;
  options.stem_stride = 1;
  options.stages[0].stride = 1;
  return options;
}

// A small space for 28x28 grey images: feature maps 28, 28, 14, 7, 7 and at
// most 64 block channels keep the largest network at 19.3 million MACs per
// image (the smallest at 1.2 million). That size aims at a search epoch over
// 10k images in a few minutes on two CPU cores, an estimate from the MAC
// count rather than a measurement.
SpaceOptions fashion_mnist_preset() {
  SpaceOptions options;
  options.preset = "fashion-mnist";
  options.input_size = 28;
  options.input_channels = 1;
  options.num_classes = 10;
  options.stem_channels = 16;
  options.stem_stride = 1;
  options.stages = {{16, 1, 1}, {24, 2, 2}, {32, 2, 2}, {64, 2, 1}};
  options.head_channels = 256;
  return options;
}

// Multiplies a decimal number held as a digit string by a small factor.
std::string multiply_decimal(const std::string& number, int factor) {
  std::string result(number.size(), '0');
  int carry = 0;
  for (std::size_t i = number.size(); i-- > 0;) {
    const int product = (number[i] - '0') * factor + carry;
    result[i] = static_cast<char>('0' + product % 10);
    carry = product / 10;
  }
  while (carry > 0) {
    result.insert(result.begin(), static_cast<char>('0' + carry % 10));
    carry /= 10;
  }
  return result;
}

void add_decisions(const BlockSlot& block, std::vector<Decision>& decisions) {
  for (const char* kind : kDecisionKinds) {
    Decision decision;
    decision.name = "block" + std::to_string(block.index) + "." + kind;
    decision.kind = kind;
    decision.block = block.index;
    decision.choices = block.choices(kind);
    decisions.push_back(std::move(decision));
  }
}

}  // namespace

const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> names = {"imagenet", "cifar", "fashion-mnist"};
  return names;
}

SpaceOptions preset_options(const std::string& name) {
  if (name == "imagenet") return imagenet_preset();
  if (name == "cifar") return cifar_preset();
  if (name == "fashion-mnist") return fashion_mnist_preset();
  throw sdk::Error("unknown search space preset '" + name +
                   "'; valid presets: " + join(preset_names(), ", "));
}

std::int64_t conv_output_size(std::int64_t input_size, std::int64_t stride) {
  // (input + 2 * (k / 2) - k) / stride + 1 for odd k, which is ceil(input / stride).
  return (input_size - 1) / stride + 1;
}

const std::vector<int>& BlockSlot::choices(const std::string& kind) const {
  if (kind == "s") return skip_choices;
  if (kind == "m") return expansion_choices;
  if (kind == "k") return kernel_choices;
  if (kind == "b1") return bottleneck_bits;
  if (kind == "b2") return depthwise_bits;
  throw sdk::Error("internal error: unknown decision kind '" + kind + "'");
}

SearchSpace::SearchSpace(SpaceOptions options) : options_(std::move(options)) {
  validate_space_options(options_);

  std::int64_t size = stem_output_size();
  std::int64_t channels = options_.stem_channels;
  for (std::size_t s = 0; s < options_.stages.size(); ++s) {
    const StageSpec& stage = options_.stages[s];
    for (std::int64_t position = 0; position < stage.repeats; ++position) {
      BlockSlot block;
      block.index = static_cast<int>(blocks_.size());
      block.stage = static_cast<int>(s);
      block.position = static_cast<int>(position);
      block.stride = position == 0 ? stage.stride : 1;
      block.input_size = size;
      block.output_size = conv_output_size(size, block.stride);
      block.input_channels = channels;
      block.output_channels = stage.channels;
      block.residual = block.stride == 1 && block.input_channels == block.output_channels;
      block.skip_choices = block.residual ? options_.skip_choices : std::vector<int>{0};
      block.expansion_choices = options_.expansion_choices;
      block.kernel_choices = options_.kernel_choices;
      block.bottleneck_bits = options_.bottleneck_bits;
      block.depthwise_bits = options_.depthwise_bits;
      add_decisions(block, decisions_);
      blocks_.push_back(std::move(block));
      size = blocks_.back().output_size;
      channels = stage.channels;
    }
  }
}

std::int64_t SearchSpace::stem_output_size() const {
  return conv_output_size(options_.input_size, options_.stem_stride);
}

std::int64_t SearchSpace::head_input_size() const { return blocks_.back().output_size; }

std::int64_t SearchSpace::head_input_channels() const { return blocks_.back().output_channels; }

SpaceSize SearchSpace::size() const {
  SpaceSize result{std::string(1, '1'), 0.0};
  for (const Decision& decision : decisions_) {
    const int count = static_cast<int>(decision.choices.size());
    result.exact = multiply_decimal(result.exact, count);
    result.log10 += std::log10(static_cast<double>(count));
  }
  return result;
}

std::string SearchSpace::description() const {
  std::ostringstream text;
  text << "input " << options_.input_size << "x" << options_.input_size << "x"
       << options_.input_channels << "; stem " << options_.stem_channels << " s"
       << options_.stem_stride << "; stages";
  for (std::size_t i = 0; i < options_.stages.size(); ++i) {
    const StageSpec& stage = options_.stages[i];
    text << (i == 0 ? " " : ", ") << stage.channels << " n" << stage.repeats << " s"
         << stage.stride;
  }
  text << "; head " << options_.head_channels << "; classes " << options_.num_classes;
  return text.str();
}

std::string SearchSpace::fingerprint() const {
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64-bit offset basis
  for (const unsigned char byte : description()) {
    hash ^= byte;
    hash *= 1099511628211ULL;  // FNV-1a 64-bit prime
  }
  char digits[17];
  std::snprintf(digits, sizeof digits, "%016llx", static_cast<unsigned long long>(hash));
  return digits;
}

}  // namespace nasq::space
