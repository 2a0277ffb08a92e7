// Tests of the ONNX export of discrete networks. The LibTorch evaluator runs
// the graph against the C++ network on Fashion-MNIST images for every
// quantizer. Further cases check the integers of every QuantizeLinear, the
// graph's layout and ONNX's Python checker, and the errors for networks and
// run directories that cannot be exported.
#include "tests/support/torch_doctest.hpp"

// onnx_library.hpp defines the macros that <onnx/checker.h> needs.
#include "core/export/onnx_library.hpp"
#include <onnx/checker.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config/stack.hpp"
#include "core/export/onnx_export.hpp"
#include "core/export/trained_network.hpp"
#include "core/model/layers.hpp"
#include "core/model/supernet.hpp"
#include "core/plugin/host.hpp"
#include "core/plugin/registry.hpp"
#include "core/plugin/torch_plugins.hpp"
#include "core/space/architecture.hpp"
#include "core/space/space_config.hpp"
#include "nasq/sdk/error.hpp"
#include "tests/support/fashion_mnist_batch.hpp"
#include "tests/support/onnx_evaluator.hpp"
#include "tests/support/python_onnx.hpp"
#include "tests/support/tiny_stack.hpp"

namespace fs = std::filesystem;
using namespace nasq;

namespace {

// A quantizer plugin from the build's plugin folder or the test plugins,
// created from an inline stack. Declare networks after it, so that they are
// destroyed while the plugin is loaded.
struct QuantizerSetup {
  explicit QuantizerSetup(const std::string& name, const std::string& stack_text = "")
      : stack(Stack::parse(stack_text, "inline.toml")) {
    registry.scan({NASQ_PLUGIN_OUTPUT_DIR, NASQ_TEST_PLUGIN_DIR "/good"});
    stack.validate_core();
    factory = std::make_unique<PluginFactory>(stack, registry);
    quantizer = create_quantizer(*factory, name);
  }

  PluginRegistry registry;
  Stack stack;
  std::unique_ptr<PluginFactory> factory;
  std::shared_ptr<sdk::Quantizer> quantizer;
};

// 28x28 grey inputs, stem of 8 channels, blocks 0 and 1 (8 -> 8, residual),
// block 2 (8 -> 12, stride 2), block 3 (12 -> 12, residual), head of 16
// channels, 10 classes.
space::SearchSpace export_space(const std::vector<int>& bits = {2, 4, 6, 8}) {
  space::SpaceOptions options;
  options.stem_channels = 8;
  options.stages = {{8, 2, 1}, {12, 2, 2}};
  options.head_channels = 16;
  options.bottleneck_bits = bits;
  options.depthwise_bits = bits;
  return space::SearchSpace(options);
}

// Every kind of layer: a block without expansion conv, kernels 3, 5 and 7,
// every bit-width from 2 to 8, and a skipped block.
space::Architecture export_architecture() {
  space::Architecture architecture;
  architecture.blocks = {{false, 1, 3, 2, 4}, {false, 6, 5, 4, 6}, {false, 3, 7, 8, 2},
                         {true, 6, 3, 8, 8}};
  return architecture;
}

// Gives the batch norms scales of both signs, because a negative factor flips
// a channel's integers in the fold, and gives the FC layer weights that make
// logits of order 1. Then runs training-mode passes over `images`, so that
// batch norm statistics and quantizer scales come from data, and puts the
// network in evaluation mode.
void calibrate(model::DiscreteNetworkImpl& network, const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  for (auto& item : network.named_parameters()) {
    if (item.key().ends_with("bn.weight")) item.value().uniform_(-1.5, 1.5);
    if (item.key().ends_with("bn.bias")) item.value().normal_(0.0, 0.2);
  }
  network.fc().weight.normal_(0.0, 0.5);
  network.fc().bias.normal_(0.0, 0.1);
  network.train();
  for (int pass = 0; pass < 10; ++pass) network.forward(images);
  network.eval();
}

// The largest |difference| between the C++ network's output of each stage
// (stem, every kept block, head) and the graph's value of that stage,
// relative to the stage's largest |value|.
double max_stage_difference(model::DiscreteNetworkImpl& network, const torch::Tensor& images,
                            const std::map<std::string, torch::Tensor>& values) {
  torch::NoGradGuard no_grad;
  double worst = 0.0;
  auto compare = [&](const torch::Tensor& expected, const std::string& name) {
    const double scale = std::max(expected.abs().max().item<double>(), 1e-12);
    worst = std::max(worst, (expected - values.at(name)).abs().max().item<double>() / scale);
  };
  torch::Tensor x = network.stem().forward(images);
  compare(x, "stem.relu6");
  for (const space::BlockSlot& slot : network.space().blocks()) {
    model::DiscreteBlockImpl* block = network.block(slot.index);
    if (block == nullptr) continue;
    x = block->forward(x);
    const std::string name = "block" + std::to_string(slot.index);
    compare(x, block->residual ? name + ".add" : name + ".project.conv");
  }
  compare(network.head().forward(x), "head.relu6");
  return worst;
}

// Bits of every conv and FC layer, by layer name.
std::map<std::string, int> layer_bits(model::DiscreteNetworkImpl& network) {
  std::map<std::string, int> bits;
  auto add = [&](model::QuantizedConvImpl& layer) { bits[layer.options().name] = layer.options().bits; };
  add(network.stem());
  for (const space::BlockSlot& slot : network.space().blocks()) {
    model::DiscreteBlockImpl* block = network.block(slot.index);
    if (block == nullptr) continue;
    if (block->expand) add(*block->expand);
    add(*block->dw);
    add(*block->project);
  }
  add(network.head());
  bits["fc"] = space::kFixedLayerBits;
  return bits;
}

// The graph folds batch norm into the conv weights, so its float results
// differ from the network's by rounding (about 3e-7 of each stage's range in
// these cases). An activation that close to a rounding boundary
// (x / s = k + 0.5) can round to the neighbouring integer in one of the two.
// That moves the value by a whole quantization step and the image's logits by
// far more than 1e-4. No image did so here, but float summation order depends
// on the LibTorch build and thread count, so the checks allow a few such
// images: most images within kLogitTolerance, and argmax agreement.
constexpr double kLogitTolerance = 1e-4;  // relative to the largest |logit|
constexpr double kMinAgreement = 0.95;    // fraction of images

// Checks that every QuantizeLinear of the graph writes integers of its
// layer's b-bit grid. `symmetric` quantizers (linear, pact) use
// {-(2^(b-1) - 1), ..., 2^(b-1) - 1} for signed values; lsq adds -2^(b-1),
// which a negative batch norm factor mirrors to 2^(b-1) in a folded weight.
// Returns the number of weight channels with a zero point other than 0
// (lsq's mirrored 8-bit grid).
std::int64_t check_grid_integers(const onnx::ModelProto& model,
                                 const std::map<std::string, torch::Tensor>& values,
                                 const std::map<std::string, int>& bits, bool symmetric) {
  std::map<std::string, int> quantize_nodes;
  std::int64_t shifted_channels = 0;
  for (const onnx::NodeProto& node : model.graph().node()) {
    if (node.op_type() != "QuantizeLinear") continue;
    const std::string& output = node.output(0);
    const std::string layer = output.substr(0, output.rfind('.'));
    const bool weight = output.ends_with(".weight_quantized");
    CAPTURE(output);
    REQUIRE(bits.count(layer) == 1);
    ++quantize_nodes[layer];

    const torch::Tensor quantized = values.at(output).to(torch::kLong);
    torch::Tensor zero_point = values.at(node.input(2)).to(torch::kLong);
    if (zero_point.dim() == 1) {
      std::vector<std::int64_t> shape(static_cast<std::size_t>(quantized.dim()), 1);
      shape[0] = zero_point.size(0);
      zero_point = zero_point.reshape(shape);
    }
    const torch::Tensor levels = quantized - zero_point;
    const std::int64_t low = levels.min().item<std::int64_t>();
    const std::int64_t high = levels.max().item<std::int64_t>();
    const int b = bits.at(layer);
    const std::int64_t half = std::int64_t{1} << (b - 1);
    if (weight) {
      CHECK(std::max(-low, high) <= (symmetric ? half - 1 : half));
      shifted_channels += values.at(node.input(2)).ne(0).sum().item<std::int64_t>();
    } else if (values.at(output).scalar_type() == torch::kByte) {
      CHECK(low >= 0);
      CHECK(high <= 2 * half - 1);
    } else {
      CHECK(low >= (symmetric ? -(half - 1) : -half));
      CHECK(high <= half - 1);
    }
  }
  CHECK(quantize_nodes.size() == bits.size());
  for (const auto& [layer, count] : quantize_nodes) {
    CAPTURE(layer);
    CHECK(count == 2);
  }
  return shifted_channels;
}

std::int64_t count_ops(const onnx::ModelProto& model, const std::string& op_type) {
  std::int64_t count = 0;
  for (const onnx::NodeProto& node : model.graph().node()) count += node.op_type() == op_type;
  return count;
}

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const onnx::AttributeProto& attribute : node.attribute()) {
    if (attribute.name() == name) return &attribute;
  }
  return nullptr;
}

void write_bytes(const fs::path& file, const std::string& bytes) {
  std::ofstream stream(file, std::ios::binary);
  stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Writes RUN/model.pt of `network` and RUN/arch.json of `architecture`.
void write_run(const fs::path& run, const space::SearchSpace& space,
               const space::Architecture& architecture, model::DiscreteNetworkImpl& network) {
  fs::remove_all(run);
  fs::create_directories(run);
  space::save_architecture(space, architecture, run / "arch.json");
  torch::serialize::OutputArchive archive;
  network.save(archive);
  archive.save_to((run / "model.pt").string());
}

struct ExportCase {
  const char* quantizer;
  const char* stack;
  bool symmetric;
};

}  // namespace

TEST_CASE("onnx export matches every quantizer") {
  const ExportCase cases[] = {
      {"linear", "", true},
      {"linear", "[quantizer.linear]\nper_channel_weights = true\n", true},
      {"linear", "[quantizer.linear]\nsigned_activations = true\n", true},
      {"pact", "", true},
      {"pact", "[quantizer.pact]\nper_channel_weights = true\n", true},
      {"lsq", "", false},
  };
  const torch::Tensor images = test::fashion_mnist_test_batch(64);
  for (const ExportCase& export_case : cases) {
    std::string description = std::string(export_case.quantizer) + " (" + export_case.stack + ")";
    std::replace(description.begin(), description.end(), '\n', ' ');
    CAPTURE(description);
    torch::manual_seed(11);
    QuantizerSetup setup(export_case.quantizer, export_case.stack);
    model::DiscreteNetwork network(export_space(), export_architecture(), *setup.quantizer);
    calibrate(*network, images);

    const std::string bytes = exporting::onnx_model_bytes(*network);
    const onnx::ModelProto model = test::parse_onnx_model(bytes);
    const std::map<std::string, torch::Tensor> values =
        test::evaluate_onnx_graph(model, {{exporting::kOnnxInputName, images}});
    torch::Tensor expected;
    {
      torch::NoGradGuard no_grad;
      expected = network->forward(images);
    }
    const test::LogitAgreement agreement =
        test::compare_logits(expected, values.at(exporting::kOnnxOutputName), kLogitTolerance);
    const double stage_difference = max_stage_difference(*network, images, values);
    MESSAGE(description << ": max |logit difference| " << agreement.max_abs_difference
            << " of max |logit| " << agreement.max_abs_logit << ", argmax agreement "
            << agreement.argmax_agreement << ", max relative stage difference "
            << stage_difference);
    CHECK(agreement.images_within_tolerance >= kMinAgreement);
    CHECK(agreement.argmax_agreement >= kMinAgreement);

    const std::int64_t shifted_channels =
        check_grid_integers(model, values, layer_bits(*network), export_case.symmetric);
    if (export_case.symmetric) {
      CHECK(shifted_channels == 0);
    } else {
      CHECK(shifted_channels > 0);
    }
  }
}

TEST_CASE("onnx export writes the QDQ layout") {
  QuantizerSetup setup("linear");
  model::DiscreteNetwork network(export_space(), export_architecture(), *setup.quantizer);
  calibrate(*network, test::fashion_mnist_test_batch(16));
  const onnx::ModelProto model = test::parse_onnx_model(exporting::onnx_model_bytes(*network));

  REQUIRE(model.opset_import_size() == 1);
  CHECK(model.opset_import(0).version() == exporting::kOnnxOpset);
  CHECK(model.graph().input(0).name() == exporting::kOnnxInputName);
  CHECK(model.graph().output(0).name() == exporting::kOnnxOutputName);
  const auto& output_shape = model.graph().output(0).type().tensor_type().shape();
  REQUIRE(output_shape.dim_size() == 2);
  CHECK(output_shape.dim(0).dim_param() == "batch");
  CHECK(output_shape.dim(1).dim_value() == 10);

  // stem, 3 kept blocks with 2 + 3 + 3 convs, head: 10 convs and the FC.
  CHECK(count_ops(model, "Conv") == 10);
  CHECK(count_ops(model, "Gemm") == 1);
  CHECK(count_ops(model, "QuantizeLinear") == 22);
  CHECK(count_ops(model, "DequantizeLinear") == 22);
  CHECK(count_ops(model, "Add") == 2);  // blocks 0 and 1; block 3 is skipped
  CHECK(count_ops(model, "GlobalAveragePool") == 1);
  CHECK(count_ops(model, "BatchNormalization") == 0);

  for (const onnx::NodeProto& node : model.graph().node()) {
    CAPTURE(node.name());
    if (node.op_type() == "Conv") {
      // Folded weights have one scale per output channel.
      CHECK(node.input(1).ends_with(".weight_dequantized"));
      CHECK(node.input_size() == 3);
    }
    if (node.name() == "block1.dw.weight_quantized") {
      const onnx::AttributeProto* axis = find_attribute(node, "axis");
      REQUIRE(axis != nullptr);
      CHECK(axis->i() == 0);
    }
    if (node.name() == "block1.dw.conv") {
      const onnx::AttributeProto* group = find_attribute(node, "group");
      REQUIRE(group != nullptr);
      CHECK(group->i() == 8 * 6);
    }
  }
  CHECK(model.metadata_props(0).key() == "nasq.architecture");
  CHECK(model.metadata_props(0).value().find("MB6 5x5 [4,6]") != std::string::npos);
}

TEST_CASE("exported model passes the Python checker") {
  QuantizerSetup setup("linear");
  model::DiscreteNetwork network(export_space(), export_architecture(), *setup.quantizer);
  calibrate(*network, test::fashion_mnist_test_batch(16));
  write_bytes("python-check.onnx", exporting::onnx_model_bytes(*network));
  CHECK_NOTHROW(onnx::checker::check_model(std::string("python-check.onnx")));

  const auto python = test::run_python_onnx_checker("python-check.onnx");
  if (!python) {
    MESSAGE("skipped the Python checker: /usr/bin/python3 cannot import onnx (install "
            "python3-onnx)");
    return;
  }
  INFO(python->err);
  CHECK(python->exit_code == 0);
  CHECK(python->out == "ok\n");
}

TEST_CASE("export rejects quantizer without export_grid") {
  QuantizerSetup setup("test-quantizer");
  model::DiscreteNetwork network(export_space({2, 4, 8}), space::Architecture{{
                                     {false, 1, 3, 2, 4}, {false, 6, 5, 4, 8},
                                     {false, 3, 7, 8, 2}, {true, 6, 3, 8, 8}}},
                                 *setup.quantizer);
  network->eval();
  CHECK_THROWS_WITH_AS(exporting::onnx_model_bytes(*network),
                       doctest::Contains("layer 'stem'"), sdk::Error);
  CHECK_THROWS_WITH_AS(exporting::onnx_model_bytes(*network),
                       doctest::Contains("cannot be exported to ONNX"), sdk::Error);
}

TEST_CASE("export rejects untrained activation scales") {
  QuantizerSetup setup("linear");
  model::DiscreteNetwork network(export_space(), export_architecture(), *setup.quantizer);
  network->eval();
  CHECK_THROWS_WITH_AS(exporting::onnx_model_bytes(*network),
                       doctest::Contains("input activation of layer 'stem'"), sdk::Error);
  CHECK_THROWS_WITH_AS(exporting::onnx_model_bytes(*network),
                       doctest::Contains("has seen no training batch"), sdk::Error);
}

TEST_CASE("export writes model.onnx of a run") {
  QuantizerSetup tiny("linear", test::kTinyStack);
  PluginFactory& factory = *tiny.factory;
  const space::SearchSpace space = space::load_search_space(tiny.stack);
  const space::Architecture architecture = space::largest_architecture(space);
  const std::shared_ptr<sdk::Quantizer>& quantizer = tiny.quantizer;
  model::DiscreteNetwork network(space, architecture, *quantizer);
  calibrate(*network, test::fashion_mnist_test_batch(16));
  write_run("complete", space, architecture, *network);

  const exporting::TrainedNetwork trained = exporting::load_trained_network(factory, "complete");
  CHECK(trained.architecture == architecture);
  CHECK_FALSE(trained.network->is_training());
  const fs::path file = exporting::export_onnx(trained, "complete");
  CHECK(file == fs::path("complete") / "model.onnx");
  CHECK_NOTHROW(onnx::checker::check_model(file.string()));

  // An invalid normalization.json is rejected with its file and values.
  test::write_text("complete/normalization.json", "{\"mean\": [0.3], \"std\": [0.0]}");
  CHECK_THROWS_WITH_AS(exporting::load_trained_network(factory, "complete"),
                       doctest::Contains("normalization.json: channel 0 needs a finite mean and a "
                                         "positive std"),
                       sdk::Error);
  test::write_text("complete/normalization.json", "{\"mean\": [0.3, 0.1], \"std\": [1.0]}");
  CHECK_THROWS_WITH_AS(exporting::load_trained_network(factory, "complete"),
                       doctest::Contains("found 2 and 1"), sdk::Error);

  // A failed write names the file and leaves no temporary file behind.
  fs::remove("complete/model.onnx");
  fs::create_directories("complete/model.onnx/inside");
  fs::remove("complete/normalization.json");
  const exporting::TrainedNetwork again = exporting::load_trained_network(factory, "complete");
  CHECK_THROWS_WITH_AS(exporting::export_onnx(again, "complete"),
                       doctest::Contains("failed to replace complete/model.onnx: "), sdk::Error);
  for (const auto& entry : fs::directory_iterator("complete")) {
    CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
  }
  fs::remove_all("complete/model.onnx");
}

TEST_CASE("export names missing model.pt") {
  QuantizerSetup tiny("linear", test::kTinyStack);
  PluginFactory& factory = *tiny.factory;
  const space::SearchSpace space = space::load_search_space(tiny.stack);
  fs::remove_all("no-model");
  fs::create_directories("no-model");
  space::save_architecture(space, space::largest_architecture(space), "no-model/arch.json");

  CHECK_THROWS_WITH_AS(exporting::load_trained_network(factory, "no-model"),
                       doctest::Contains("no-model/model.pt not found"), sdk::Error);
}

TEST_CASE("export rejects mismatched architecture") {
  QuantizerSetup tiny("linear", test::kTinyStack);
  PluginFactory& factory = *tiny.factory;
  const space::SearchSpace space = space::load_search_space(tiny.stack);
  const std::shared_ptr<sdk::Quantizer>& quantizer = tiny.quantizer;
  const space::Architecture trained = space::largest_architecture(space);
  model::DiscreteNetwork network(space, trained, *quantizer);

  // A smaller expansion changes the shapes of block 0's tensors.
  space::Architecture narrower = trained;
  narrower.blocks[0].expansion = space.blocks()[0].expansion_choices.front();
  write_run("narrower", space, trained, *network);
  space::save_architecture(space, narrower, "narrower/arch.json");
  CHECK_THROWS_WITH_AS(exporting::load_trained_network(factory, "narrower"),
                       doctest::Contains("narrower/model.pt does not match the network of "
                                         "narrower/arch.json"),
                       sdk::Error);

  // Skipping a block leaves its tensors in model.pt without a layer.
  space::Architecture skipping = trained;
  const auto skippable = std::find_if(space.blocks().begin(), space.blocks().end(),
                                      [](const space::BlockSlot& slot) {
                                        return slot.skip_choices.size() > 1;
                                      });
  REQUIRE(skippable != space.blocks().end());
  skipping.blocks[static_cast<std::size_t>(skippable->index)].skip = true;
  write_run("skipping", space, trained, *network);
  space::save_architecture(space, skipping, "skipping/arch.json");
  CHECK_THROWS_WITH_AS(exporting::load_trained_network(factory, "skipping"),
                       doctest::Contains("that the network does not have"), sdk::Error);
  CHECK_THROWS_WITH_AS(exporting::load_trained_network(factory, "skipping"),
                       doctest::Contains("skipping/arch.json"), sdk::Error);
}
