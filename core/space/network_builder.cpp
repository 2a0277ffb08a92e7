// Builds the NetworkGraph of a search-space architecture from inverted-residual blocks.
#include "core/space/network_graph.hpp"

namespace nasq::space {
namespace {

LayerNode conv_node(std::string name, std::string group, NodeKind kind, std::int64_t output_c,
                    std::int64_t kernel, std::int64_t stride, int weight_bits,
                    int activation_bits, Activation activation) {
  LayerNode node;
  node.name = std::move(name);
  node.group = std::move(group);
  node.kind = kind;
  node.output_c = output_c;
  node.kernel = kernel;
  node.stride = stride;
  node.padding = kernel / 2;
  node.weight_bits = weight_bits;
  node.activation_bits = activation_bits;
  node.activation = activation;
  return node;
}

}  // namespace

Tensor add_inverted_residual(NetworkGraph& graph, const Tensor& input,
                             const InvertedResidualSpec& spec, const std::string& group) {
  const int bits_1x1 = spec.activation_bits_1x1 > 0 ? spec.activation_bits_1x1
                                                    : spec.bottleneck_bits;
  const int bits_dw = spec.activation_bits_dw > 0 ? spec.activation_bits_dw : spec.depthwise_bits;

  Tensor x = input;
  if (spec.expansion > 1) {
    x = graph.add_conv(x, conv_node(group + ".expand", group, NodeKind::conv,
                                    input.c * spec.expansion, 1, 1, spec.bottleneck_bits,
                                    bits_1x1, Activation::relu6));
  }
  x = graph.add_conv(x, conv_node(group + ".dw", group, NodeKind::depthwise_conv, x.c,
                                  spec.kernel, spec.stride, spec.depthwise_bits, bits_dw,
                                  Activation::relu6));
  x = graph.add_conv(x, conv_node(group + ".project", group, NodeKind::conv, spec.output_c, 1,
                                  1, spec.bottleneck_bits, bits_1x1, Activation::none));
  if (spec.stride == 1 && input.c == spec.output_c) {
    x = graph.add_residual(input, x, group + ".add", group);
  }
  return x;
}

NetworkGraph build_network(const SearchSpace& space, const Architecture& architecture) {
  validate_architecture(space, architecture);
  const SpaceOptions& options = space.options();
  NetworkGraph graph;

  Tensor x = graph.input(options.input_size, options.input_size, options.input_channels);
  LayerNode stem = conv_node("stem", "stem", NodeKind::conv, options.stem_channels, 3,
                             options.stem_stride, kFixedLayerBits, kFixedLayerBits,
                             Activation::relu6);
  stem.first_layer = true;
  x = graph.add_conv(x, std::move(stem));

  for (const BlockSlot& slot : space.blocks()) {
    const BlockChoice& choice = architecture.blocks[static_cast<std::size_t>(slot.index)];
    if (choice.skip) continue;
    InvertedResidualSpec spec;
    spec.expansion = choice.expansion;
    spec.kernel = choice.kernel;
    spec.output_c = slot.output_channels;
    spec.stride = slot.stride;
    spec.bottleneck_bits = choice.bottleneck_bits;
    spec.depthwise_bits = choice.depthwise_bits;
    x = add_inverted_residual(graph, x, spec, "block" + std::to_string(slot.index));
  }

  x = graph.add_conv(x, conv_node("head", "head", NodeKind::conv, options.head_channels, 1, 1,
                                  kFixedLayerBits, kFixedLayerBits, Activation::relu6));
  x = graph.add_global_pool(x, "pool", "pool");
  graph.add_fully_connected(x, "fc", "fc", options.num_classes, kFixedLayerBits, kFixedLayerBits);
  graph.finish();
  return graph;
}

}  // namespace nasq::space
