// MobileNetV2, ResNet-50 and VGG-16 as NetworkGraphs.
#include "core/space/reference_networks.hpp"

#include <array>

#include "core/util/text.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::space {
namespace {

constexpr std::int64_t kImageChannels = 3;
constexpr std::int64_t kClasses = 1000;
// Each network divides the input side by 32 before its classifier.
constexpr std::int64_t kMinInputSize = 32;

struct Bits {
  int weights;
  int activations;
};

LayerNode conv(std::string name, std::string group, std::int64_t output_c, std::int64_t kernel,
               std::int64_t stride, std::int64_t padding, Bits bits, Activation activation) {
  LayerNode node;
  node.name = std::move(name);
  node.group = std::move(group);
  node.output_c = output_c;
  node.kernel = kernel;
  node.stride = stride;
  node.padding = padding;
  node.weight_bits = bits.weights;
  node.activation_bits = bits.activations;
  node.activation = activation;
  return node;
}

Tensor add_stem(NetworkGraph& graph, const Tensor& input, LayerNode node) {
  node.first_layer = true;
  return graph.add_conv(input, std::move(node));
}

void add_classifier(NetworkGraph& graph, Tensor x, Bits bits) {
  x = graph.add_global_pool(x, "pool", "pool");
  graph.add_fully_connected(x, "fc", "fc", kClasses, bits.weights, bits.activations);
}

// MobileNetV2's inverted-residual stages (torchvision, width 1.0).
struct MobileNetV2Stage {
  int expansion;
  std::int64_t channels;
  int repeats;
  std::int64_t stride;
};
constexpr std::array<MobileNetV2Stage, 7> kMobileNetV2Stages = {{{1, 16, 1, 1},
                                                                 {6, 24, 2, 2},
                                                                 {6, 32, 3, 2},
                                                                 {6, 64, 4, 2},
                                                                 {6, 96, 3, 1},
                                                                 {6, 160, 3, 2},
                                                                 {6, 320, 1, 1}}};
constexpr std::int64_t kMobileNetV2StemChannels = 32;
constexpr std::int64_t kMobileNetV2HeadChannels = 1280;

void build_mobilenetv2(NetworkGraph& graph, Tensor x, Bits bits) {
  x = add_stem(graph, x,
               conv("stem", "stem", kMobileNetV2StemChannels, 3, 2, 1, bits, Activation::relu6));
  int block = 0;
  for (const MobileNetV2Stage& setting : kMobileNetV2Stages) {
    for (int i = 0; i < setting.repeats; ++i) {
      InvertedResidualSpec spec;
      spec.expansion = setting.expansion;
      spec.kernel = 3;
      spec.output_c = setting.channels;
      spec.stride = i == 0 ? setting.stride : 1;
      spec.bottleneck_bits = spec.depthwise_bits = bits.weights;
      spec.activation_bits_1x1 = spec.activation_bits_dw = bits.activations;
      x = add_inverted_residual(graph, x, spec, "block" + std::to_string(block++));
    }
  }
  x = graph.add_conv(x, conv("head", "head", kMobileNetV2HeadChannels, 1, 1, 0, bits,
                             Activation::relu6));
  add_classifier(graph, x, bits);
}

// torchvision v1.5 bottleneck: 1x1, 3x3 with the stride, 1x1 to 4x width,
// and a 1x1 strided projection of the input when the shape changes.
Tensor add_bottleneck(NetworkGraph& graph, const Tensor& input, std::int64_t width,
                      std::int64_t stride, const std::string& group, Bits bits) {
  const std::int64_t output_c = 4 * width;
  Tensor x = graph.add_conv(input, conv(group + ".conv1", group, width, 1, 1, 0, bits,
                                        Activation::relu));
  x = graph.add_conv(x, conv(group + ".conv2", group, width, 3, stride, 1, bits,
                             Activation::relu));
  x = graph.add_conv(x, conv(group + ".conv3", group, output_c, 1, 1, 0, bits, Activation::none));
  Tensor shortcut = input;
  if (stride != 1 || input.c != output_c) {
    shortcut = graph.add_conv(input, conv(group + ".downsample", group, output_c, 1, stride, 0,
                                          bits, Activation::none));
  }
  return graph.add_residual(shortcut, x, group + ".add", group, Activation::relu);
}

void build_resnet50(NetworkGraph& graph, Tensor x, Bits bits) {
  x = add_stem(graph, x, conv("conv1", "stem", 64, 7, 2, 3, bits, Activation::relu));
  x = graph.add_max_pool(x, "maxpool", "stem", 3, 2, 1);
  const std::array<int, 4> repeats = {3, 4, 6, 3};
  for (std::size_t layer = 0; layer < repeats.size(); ++layer) {
    const std::int64_t width = 64LL << layer;
    for (int i = 0; i < repeats[layer]; ++i) {
      const std::int64_t stride = layer > 0 && i == 0 ? 2 : 1;
      const std::string group = "layer" + std::to_string(layer + 1) + "." + std::to_string(i);
      x = add_bottleneck(graph, x, width, stride, group, bits);
    }
  }
  add_classifier(graph, x, bits);
}

void build_vgg16(NetworkGraph& graph, Tensor x, Bits bits) {
  // Configuration D: channels of the 3x3 convs, 0 for a 2x2 stride-2 max pool.
  const std::array<std::int64_t, 18> config = {64,  64,  0,   128, 128, 0,   256, 256, 256,
                                               0,   512, 512, 512, 0,   512, 512, 512, 0};
  int conv_index = 0;
  int pool_index = 0;
  for (const std::int64_t channels : config) {
    if (channels == 0) {
      const std::string name = "pool" + std::to_string(pool_index++);
      x = graph.add_max_pool(x, name, "features", 2, 2, 0);
      continue;
    }
    LayerNode node = conv("conv" + std::to_string(conv_index), "features", channels, 3, 1, 1,
                          bits, Activation::relu);
    node.first_layer = conv_index++ == 0;
    x = graph.add_conv(x, std::move(node));
  }
  x = graph.add_fully_connected(x, "fc6", "classifier", 4096, bits.weights, bits.activations);
  x = graph.add_fully_connected(x, "fc7", "classifier", 4096, bits.weights, bits.activations);
  graph.add_fully_connected(x, "fc8", "classifier", kClasses, bits.weights, bits.activations);
}

}  // namespace

const std::vector<std::string>& reference_network_names() {
  static const std::vector<std::string> names = {"mobilenetv2", "resnet50", "vgg16"};
  return names;
}

NetworkGraph reference_graph(const std::string& name, std::int64_t input_size, int weight_bits,
                             int activation_bits) {
  if (input_size < kMinInputSize) {
    throw sdk::Error("input size " + std::to_string(input_size) + " is too small for " + name +
                     "; use at least " + std::to_string(kMinInputSize) + " pixels");
  }
  if (weight_bits < 1 || activation_bits < 1) {
    throw sdk::Error("bit-widths must be at least 1, got weights " + std::to_string(weight_bits) +
                     " and activations " + std::to_string(activation_bits));
  }
  const Bits bits{weight_bits, activation_bits};
  NetworkGraph graph;
  const Tensor input = graph.input(input_size, input_size, kImageChannels);
  if (name == "mobilenetv2") {
    build_mobilenetv2(graph, input, bits);
  } else if (name == "resnet50") {
    build_resnet50(graph, input, bits);
  } else if (name == "vgg16") {
    build_vgg16(graph, input, bits);
  } else {
    throw sdk::Error("unknown reference network '" + name +
                     "'; valid names: " + join(reference_network_names(), ", "));
  }
  graph.finish();
  return graph;
}

std::vector<sdk::LayerSpec> reference_network(const std::string& name, std::int64_t input_size,
                                              std::int64_t batch, int weight_bits,
                                              int activation_bits) {
  return reference_graph(name, input_size, weight_bits, activation_bits).layer_specs(batch);
}

SpaceOptions mobilenetv2_space_options(std::int64_t input_size) {
  SpaceOptions options;
  options.preset = "mobilenetv2";
  options.input_size = input_size;
  options.input_channels = 3;
  options.num_classes = kClasses;
  options.stem_channels = kMobileNetV2StemChannels;
  options.stem_stride = 2;
  options.stages.clear();
  for (const MobileNetV2Stage& stage : kMobileNetV2Stages) {
    options.stages.push_back({stage.channels, stage.repeats, stage.stride});
  }
  options.head_channels = kMobileNetV2HeadChannels;
  options.skip_choices = {0};
  options.expansion_choices = {1, 6};
  options.kernel_choices = {3};
  return options;
}

}  // namespace nasq::space
