// The searchable macro-architecture: stem conv, stages of MobileNetV2
// inverted-residual (MB) blocks, 1x1 head conv, global pooling and FC, with
// five categorical decisions per MB block.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nasq::space {

// One stage of MB blocks. Every block of the stage outputs `channels`; only
// the first block uses `stride`.
struct StageSpec {
  std::int64_t channels = 16;
  std::int64_t repeats = 1;  // MB blocks in the stage
  std::int64_t stride = 1;   // 1 or 2

  bool operator==(const StageSpec&) const = default;
};

// Everything that defines a search space. The stem, head and FC layers are
// fixed at 8 bits; the choice lists apply to every MB block.
struct SpaceOptions {
  std::string preset = "custom";  // preset the options started from
  std::int64_t input_size = 28;     // square input side, pixels
  std::int64_t input_channels = 1;
  std::int64_t num_classes = 10;
  std::int64_t stem_channels = 16;  // 3x3 stem conv
  std::int64_t stem_stride = 1;
  std::vector<StageSpec> stages = {};
  std::int64_t head_channels = 256;  // 1x1 head conv
  // Choice values of the five decisions of a block. Skip uses 0 = keep and
  // 1 = skip; blocks whose input and output shapes differ only get {0}.
  std::vector<int> skip_choices = {0, 1};
  std::vector<int> expansion_choices = {1, 3, 6};
  std::vector<int> kernel_choices = {3, 5, 7};
  std::vector<int> bottleneck_bits = {2, 4, 6, 8};  // expansion and projection 1x1 convs
  std::vector<int> depthwise_bits = {2, 4, 6, 8};
};

// Bits of the stem conv, the head conv and the FC layer.
inline constexpr int kFixedLayerBits = 8;

// "imagenet", "cifar", "fashion-mnist".
const std::vector<std::string>& preset_names();
// Returns the options of a preset. Throws sdk::Error naming the valid
// presets for another name.
SpaceOptions preset_options(const std::string& name);

// Plain twin of nasq::sdk::Decision (whose header needs LibTorch): one
// categorical decision of the space, such as the kernel of block 4.
struct Decision {
  std::string name;          // "block4.k"
  std::string kind;          // "s", "m", "k", "b1" or "b2"
  int block = 0;             // MB block index, from 0
  std::vector<int> choices;  // choice values (skip: 0 = keep, 1 = skip)
};

// Decision kinds in the order each block lists them.
inline constexpr const char* kDecisionKinds[] = {"s", "m", "k", "b1", "b2"};
inline constexpr int kDecisionsPerBlock = 5;

// One MB block of the space with its shapes and the choices it offers.
struct BlockSlot {
  int index = 0;     // block index over the whole network, from 0
  int stage = 0;     // stage index, from 0
  int position = 0;  // index of the block inside its stage, from 0
  std::int64_t input_size = 0;  // square input side, pixels
  std::int64_t output_size = 0;
  std::int64_t input_channels = 0;
  std::int64_t output_channels = 0;
  std::int64_t stride = 1;
  // True when stride is 1 and input_channels == output_channels: the block
  // may be skipped and, when kept, adds its input to its output.
  bool residual = false;
  std::vector<int> skip_choices;  // {0} where the block cannot be skipped
  std::vector<int> expansion_choices;
  std::vector<int> kernel_choices;
  std::vector<int> bottleneck_bits;
  std::vector<int> depthwise_bits;

  // Choices of one decision kind ("s", "m", "k", "b1", "b2").
  const std::vector<int>& choices(const std::string& kind) const;
};

// Number of architectures in a space: an exact decimal string and log10.
struct SpaceSize {
  std::string exact;  // "6191736422400"
  double log10 = 0.0;
};

// A validated search space. Construction checks the options and throws
// sdk::ConfigError naming the stage or key for an invalid value.
class SearchSpace {
 public:
  explicit SearchSpace(SpaceOptions options);

  const SpaceOptions& options() const { return options_; }
  const std::vector<BlockSlot>& blocks() const { return blocks_; }
  // kDecisionsPerBlock decisions per block, blocks in order, kinds in
  // kDecisionKinds order.
  const std::vector<Decision>& decisions() const { return decisions_; }

  // Square side of the stem's output and of the head's input, pixels.
  std::int64_t stem_output_size() const;
  std::int64_t head_input_size() const;
  // Channels entering the head conv (the last stage's channels).
  std::int64_t head_input_channels() const;

  SpaceSize size() const;

  // One-line description of the macro-architecture (input, stem, stages,
  // head, classes), independent of the choice lists; arch.json stores it.
  std::string description() const;
  // 16 hex digits of a 64-bit FNV-1a hash of description().
  std::string fingerprint() const;

 private:
  SpaceOptions options_;
  std::vector<BlockSlot> blocks_;
  std::vector<Decision> decisions_;
};

// Output side of a conv with an odd kernel, padding kernel / 2 and `stride`.
std::int64_t conv_output_size(std::int64_t input_size, std::int64_t stride);

}  // namespace nasq::space
