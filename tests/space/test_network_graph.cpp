// NetworkGraph of a small hand-checked space: layers, shapes, sizes, bit-widths, LayerSpecs.
#include <doctest/doctest.h>

#include <map>

#include "core/space/network_graph.hpp"
#include "nasq/sdk/error.hpp"

using nasq::sdk::LayerKind;
using nasq::space::Architecture;
using nasq::space::LayerNode;
using nasq::space::NetworkGraph;
using nasq::space::NodeKind;
using nasq::space::SearchSpace;

namespace {

// 8x8x1 input, stem 4 channels stride 1; stage 0: 4 channels x2 stride 1;
// stage 1: 8 channels x1 stride 2; head 16; 3 classes.
SearchSpace tiny_space() {
  nasq::space::SpaceOptions options;
  options.input_size = 8;
  options.input_channels = 1;
  options.num_classes = 3;
  options.stem_channels = 4;
  options.stem_stride = 1;
  options.stages = {{4, 2, 1}, {8, 1, 2}};
  options.head_channels = 16;
  return SearchSpace(options);
}

// block0 MB3 3x3 [4,2], block1 skipped, block2 MB1 5x5 [8,6].
Architecture tiny_architecture() {
  Architecture architecture;
  architecture.blocks = {{false, 3, 3, 4, 2}, {true, 1, 3, 2, 2}, {false, 1, 5, 8, 6}};
  return architecture;
}

std::map<std::string, LayerNode> layers_by_name(const NetworkGraph& graph) {
  std::map<std::string, LayerNode> layers;
  for (const auto v : graph.layers_in_order()) layers[graph.layer(v).name] = graph.layer(v);
  return layers;
}

}  // namespace

TEST_CASE("tiny network layers in order") {
  const NetworkGraph graph = nasq::space::build_network(tiny_space(), tiny_architecture());
  std::vector<std::string> names;
  for (const auto v : graph.layers_in_order()) names.push_back(graph.layer(v).name);
  CHECK(names == std::vector<std::string>{"stem", "block0.expand", "block0.dw", "block0.project",
                                          "block0.add", "block2.dw", "block2.project", "head",
                                          "pool", "fc"});
}

TEST_CASE("tiny network shapes") {
  const auto layers = layers_by_name(nasq::space::build_network(tiny_space(), tiny_architecture()));
  const LayerNode& stem = layers.at("stem");
  CHECK(stem.input_c == 1);
  CHECK(stem.output_h == 8);
  CHECK(stem.output_c == 4);
  CHECK(stem.padding == 1);
  CHECK(stem.first_layer);
  CHECK(layers.at("block0.expand").output_c == 12);
  CHECK(layers.at("block0.dw").groups == 12);
  CHECK(layers.at("block0.project").output_c == 4);
  CHECK(layers.at("block0.project").activation == nasq::space::Activation::none);
  CHECK(layers.at("block0.dw").activation == nasq::space::Activation::relu6);
  const LayerNode& dw2 = layers.at("block2.dw");
  CHECK(dw2.kernel == 5);
  CHECK(dw2.padding == 2);
  CHECK(dw2.stride == 2);
  CHECK(dw2.input_c == 4);  // expansion 1: no expansion conv
  CHECK(dw2.output_h == 4);
  CHECK(layers.count("block2.expand") == 0);
  CHECK(layers.count("block2.add") == 0);  // 4 -> 8 channels, stride 2
  CHECK(layers.at("head").output_h == 4);
  CHECK(layers.at("pool").output_h == 1);
  CHECK(layers.at("fc").input_c == 16);
  CHECK(layers.at("fc").output_c == 3);
}

TEST_CASE("tiny network MACs and parameters per layer") {
  const auto layers = layers_by_name(nasq::space::build_network(tiny_space(), tiny_architecture()));
  // MACs = output pixels x weights; weights = k*k*(in/groups)*out.
  const std::map<std::string, std::pair<std::int64_t, std::int64_t>> expected = {
      {"stem", {2304, 36}},           {"block0.expand", {3072, 48}},
      {"block0.dw", {6912, 108}},     {"block0.project", {3072, 48}},
      {"block2.dw", {1600, 100}},     {"block2.project", {512, 32}},
      {"head", {2048, 128}},          {"fc", {48, 48}},
      {"block0.add", {0, 0}},         {"pool", {0, 0}}};
  for (const auto& [name, values] : expected) {
    CAPTURE(name);
    CHECK(layers.at(name).macs == values.first);
    CHECK(layers.at(name).weights == values.second);
  }
}

TEST_CASE("tiny network totals") {
  const NetworkGraph graph = nasq::space::build_network(tiny_space(), tiny_architecture());
  const auto totals = graph.totals();
  CHECK(totals.macs == 19568);
  CHECK(totals.weights == 548);
  CHECK(totals.biases == 63);
  CHECK(totals.parameters() == 611);
  CHECK(totals.weight_storage_bits == 3152);
  CHECK(totals.model_size_bytes() == 646);  // (3152 + 63 * 32) / 8
  // Largest stored output: block0.expand, 8x8x12 at 4 bits = 3072. The
  // output of block0.dw has the same size but is stored at 2 bits.
  CHECK(totals.peak_activation_bits == 3072);

  const auto groups = graph.totals_by_group();
  REQUIRE(groups.size() == 6);
  CHECK(groups[0].first == "stem");
  CHECK(groups[1].first == "block0");
  CHECK(groups[1].second.macs == 13056);
  CHECK(groups[2].first == "block2");
  CHECK(groups[2].second.weights == 132);
  CHECK(groups[5].first == "fc");
}

TEST_CASE("output bits are the layer's own bits") {
  const auto layers = layers_by_name(nasq::space::build_network(tiny_space(), tiny_architecture()));
  CHECK(layers.at("stem").output_bits == 8);
  CHECK(layers.at("block0.expand").output_bits == 4);
  CHECK(layers.at("block0.dw").output_bits == 2);
  CHECK(layers.at("block0.project").output_bits == 4);
  // The add takes the bits of the projection, its most recent input.
  CHECK(layers.at("block0.add").activation_bits == 4);
  CHECK(layers.at("block0.add").output_bits == 4);
  CHECK(layers.at("block2.dw").output_bits == layers.at("block2.dw").activation_bits);
  CHECK(layers.at("head").output_bits == 8);
  CHECK(layers.at("pool").activation_bits == 8);
  CHECK(layers.at("fc").output_bits == 8);
  CHECK(layers.at("block0.dw").weight_bits == 2);
  CHECK(layers.at("block0.dw").activation_bits == 2);
  CHECK(layers.at("block0.expand").weight_bits == 4);
}

TEST_CASE("residual add has two inputs") {
  const NetworkGraph graph = nasq::space::build_network(tiny_space(), tiny_architecture());
  for (const auto v : graph.layers_in_order()) {
    const LayerNode& node = graph.layer(v);
    CAPTURE(node.name);
    const auto in = boost::in_degree(v, graph.graph());
    if (node.name == "stem") {
      CHECK(in == 0);
    } else if (node.kind == NodeKind::add) {
      CHECK(in == 2);
    } else {
      CHECK(in == 1);
    }
  }
}

TEST_CASE("layer specs of the tiny network") {
  const NetworkGraph graph = nasq::space::build_network(tiny_space(), tiny_architecture());
  const auto specs = graph.layer_specs(16);
  REQUIRE(specs.size() == 10);
  CHECK(specs[0].kind == LayerKind::conv);
  CHECK(specs[0].first_layer);
  CHECK(specs[0].batch == 16);
  CHECK(specs[0].macs() == 16 * 2304);
  CHECK(specs[2].kind == LayerKind::depthwise_conv);
  CHECK(specs[2].groups == 12);
  CHECK(specs[4].kind == LayerKind::add);
  CHECK(specs[4].input_c == 4);
  CHECK(specs[4].output_c == 4);
  CHECK(specs[4].macs() == 0);
  CHECK(specs[8].kind == LayerKind::pool);
  CHECK(specs[8].output_h() == 1);
  CHECK(specs[9].kind == LayerKind::fully_connected);
  CHECK(specs[9].input_c == 16);
  std::int64_t macs = 0;
  for (const auto& spec : specs) {
    CHECK_FALSE((spec.first_layer && &spec != &specs[0]));
    macs += spec.macs();
  }
  CHECK(macs == 16 * 19568);
}

TEST_CASE("invalid architecture is rejected before building") {
  Architecture architecture = tiny_architecture();
  architecture.blocks[2].skip = true;  // 4 -> 8 channels cannot skip
  CHECK_THROWS_WITH_AS(nasq::space::build_network(tiny_space(), architecture),
                       doctest::Contains("block 2: skip 1"), nasq::sdk::Error);
}

TEST_CASE("smallest and largest fashion-mnist MACs") {
  const SearchSpace space(nasq::space::preset_options("fashion-mnist"));
  const auto smallest =
      nasq::space::build_network(space, nasq::space::smallest_architecture(space)).totals();
  const auto largest =
      nasq::space::build_network(space, nasq::space::largest_architecture(space)).totals();
  // The range docs/search_space.md quotes.
  CHECK(smallest.macs == 1184440);
  CHECK(largest.macs == 19336784);
}
