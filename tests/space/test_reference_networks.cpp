// Reference networks against the Bit Fusion reference layer lists and MAC counts.
#include <doctest/doctest.h>

#include <sstream>

#include "core/space/reference_networks.hpp"
#include "nasq/sdk/error.hpp"
#include "tests/hardware/csv_rows.hpp"

using nasq::sdk::LayerKind;
using nasq::sdk::LayerSpec;

namespace {

const std::string kRefsDir = NASQ_BITFUSION_REFS_DIR;

// The conv/FC fields the reference rows list, as one comparable line.
std::string describe(const std::string& kind, std::int64_t h, std::int64_t w, std::int64_t c,
                     std::int64_t oc, std::int64_t k, std::int64_t s, std::int64_t p,
                     std::int64_t groups) {
  std::ostringstream text;
  text << kind << " h" << h << " w" << w << " c" << c << " oc" << oc << " k" << k << " s" << s
       << " p" << p << " g" << groups;
  return text.str();
}

std::vector<std::string> reference_rows(const std::string& network, const std::string& variant) {
  const nasq::test::CsvTable table(kRefsDir + "/networks_layers.csv");
  std::vector<std::string> rows;
  for (const auto& row : table.rows()) {
    if (row.text("network") != network || row.text("variant") != variant) continue;
    rows.push_back(describe(row.text("kind"), row.integer("h"), row.integer("w"),
                            row.integer("c"), row.integer("oc"), row.integer("k"),
                            row.integer("s"), row.integer("p"), row.integer("groups")));
  }
  return rows;
}

std::vector<std::string> our_rows(const std::vector<LayerSpec>& specs) {
  std::vector<std::string> rows;
  for (const LayerSpec& spec : specs) {
    std::string kind;
    if (spec.kind == LayerKind::conv) kind = "conv";
    if (spec.kind == LayerKind::depthwise_conv) kind = "dwconv";
    if (spec.kind == LayerKind::fully_connected) kind = "fc";
    if (kind.empty()) continue;
    rows.push_back(describe(kind, spec.input_h, spec.input_w, spec.input_c, spec.output_c,
                            spec.kernel, spec.stride, spec.padding, spec.groups));
  }
  return rows;
}

std::int64_t reference_macs(const std::string& network, const std::string& variant) {
  const nasq::test::CsvTable table(kRefsDir + "/networks.csv");
  for (const auto& row : table.rows()) {
    if (row.text("network") == network && row.text("variant") == variant) {
      return row.integer("macs");
    }
  }
  FAIL("no row for " << network << " / " << variant << " in networks.csv");
  return 0;
}

void check_against_reference(const std::string& name, const std::string& network,
                             const std::string& variant) {
  const std::vector<std::string> expected = reference_rows(network, variant);
  REQUIRE_FALSE(expected.empty());
  const std::vector<LayerSpec> specs = nasq::space::reference_network(name, 224, 16, 8, 8);
  const std::vector<std::string> actual = our_rows(specs);
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(actual[i] == expected[i]);
  }
  std::int64_t macs = 0;
  for (const LayerSpec& spec : specs) macs += spec.macs();
  CHECK(macs == reference_macs(network, variant));
}

}  // namespace

TEST_CASE("mobilenetv2 layers match the reference") {
  check_against_reference("mobilenetv2", "MobileNetV2", "dw_mode=ic1");
}

TEST_CASE("mobilenetv2 MACs at batch 16") {
  std::int64_t macs = 0;
  for (const LayerSpec& spec : nasq::space::reference_network("mobilenetv2", 224, 16, 8, 8)) {
    macs += spec.macs();
  }
  CHECK(macs == 4812388352LL);
}

TEST_CASE("resnet50 layers match the reference") {
  check_against_reference("resnet50", "ResNet-50", "torchvision v1.5 (stride on 3x3)");
}

TEST_CASE("vgg16 layers match the reference") {
  check_against_reference("vgg16", "VGG-16", "torchvision cfg D");
}

TEST_CASE("reference parameter counts match torchvision") {
  // torchvision counts two batch-norm parameters per conv output channel;
  // the graph folds batch norm into one bias per channel.
  for (const auto& [name, torchvision_parameters] :
       std::vector<std::pair<std::string, std::int64_t>>{{"mobilenetv2", 3504872},
                                                         {"resnet50", 25557032}}) {
    CAPTURE(name);
    const auto graph = nasq::space::reference_graph(name, 224, 8, 8);
    std::int64_t conv_biases = 0;
    for (const auto v : graph.layers_in_order()) {
      if (graph.layer(v).kind != nasq::space::NodeKind::fully_connected) {
        conv_biases += graph.layer(v).biases;
      }
    }
    const auto totals = graph.totals();
    CHECK(totals.weights + 2 * conv_biases + 1000 == torchvision_parameters);
  }
  // VGG-16 has real conv biases and no batch norm.
  CHECK(nasq::space::reference_graph("vgg16", 224, 8, 8).totals().parameters() == 138357544);
}

TEST_CASE("reference specs carry bits and first layer") {
  const auto specs = nasq::space::reference_network("resnet50", 224, 16, 4, 6);
  REQUIRE_FALSE(specs.empty());
  CHECK(specs.front().first_layer);
  CHECK(specs.front().weight_bits == 4);
  CHECK(specs.front().activation_bits == 6);
  CHECK(specs.front().output_bits == 6);
  CHECK(specs.back().kind == LayerKind::fully_connected);
  CHECK(specs.back().output_bits == 6);
  int adds = 0;
  for (const auto& spec : specs) {
    if (&spec != &specs.front()) CHECK_FALSE(spec.first_layer);
    adds += spec.kind == LayerKind::add ? 1 : 0;
  }
  CHECK(adds == 16);
}

TEST_CASE("unknown reference network lists the names") {
  CHECK_THROWS_WITH_AS(nasq::space::reference_network("alexnet", 224, 16, 8, 8),
                       doctest::Contains("valid names: mobilenetv2, resnet50, vgg16"),
                       nasq::sdk::Error);
  CHECK_THROWS_WITH_AS(nasq::space::reference_network("vgg16", 16, 16, 8, 8),
                       doctest::Contains("input size 16 is too small"), nasq::sdk::Error);
}
