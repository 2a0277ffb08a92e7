// Runs the main job end to end on the tiny stack: `nasq run` writes every
// stage's files, resumes, and exports tensors that Python's torch.load reads
// and an ONNX model that ONNX's checkers accept and that computes the
// network's logits.
#include "tests/support/torch_doctest.hpp"

#include <nlohmann/json.hpp>

// onnx_library.hpp defines the macros that <onnx/checker.h> needs.
#include "core/export/onnx_library.hpp"
#include <onnx/checker.h>

#include <filesystem>
#include <sstream>

#include "core/config/stack.hpp"
#include "core/export/onnx_export.hpp"
#include "core/export/trained_network.hpp"
#include "core/model/supernet.hpp"
#include "core/plugin/host.hpp"
#include "core/plugin/torch_plugins.hpp"
#include "core/space/space_config.hpp"
#include "tests/support/fashion_mnist_batch.hpp"
#include "tests/support/onnx_evaluator.hpp"
#include "tests/support/process.hpp"
#include "tests/support/python_onnx.hpp"
#include "tests/support/tiny_stack.hpp"

namespace fs = std::filesystem;
using nasq::test::read_text;
using nasq::test::run_command;

TEST_CASE("run writes every stage's files") {
  nasq::test::write_text("tiny.toml", nasq::test::kTinyStack);
  fs::remove_all("full");
  const auto result = run_command(nasq::test::nasq_command() +
                                  " run tiny.toml --set train.epochs=1 --run-dir full");
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  for (const char* file : {"config.toml", "arch.json", "metrics.csv", "model.pt", "train_metrics.csv",
                           "results.json", "report.html", "export.pt", "model.onnx", "stage_times.json",
                           "normalization.json"}) {
    CHECK(fs::exists(fs::path("full") / file));
  }
  const std::string results = read_text("full/results.json");
  CHECK(results.find("\"top1_error\"") != std::string::npos);
  CHECK(results.find("\"energy_mj\"") != std::string::npos);
  CHECK(results.find("\"fnv1a64\"") != std::string::npos);
  CHECK(results.find("\"search\"") != std::string::npos);
  CHECK(result.out.find("test error: top-1") != std::string::npos);

  // A resumed run keeps the finished stages.
  const std::string architecture = read_text("full/arch.json");
  const auto resumed = run_command(nasq::test::nasq_command() +
                                   " run tiny.toml --set train.epochs=1 --resume full --stages search,train,evaluate");
  CHECK(resumed.exit_code == 0);
  CHECK(read_text("full/arch.json") == architecture);
}

TEST_CASE("resume rejects a file that is no checkpoint") {
  REQUIRE(fs::exists("full/model.pt"));
  fs::remove_all("foreign");
  fs::copy("full", "foreign", fs::copy_options::recursive);
  // model.pt is a LibTorch archive that contains a network, not a search checkpoint.
  fs::copy_file("foreign/model.pt", "foreign/checkpoint.pt", fs::copy_options::overwrite_existing);
  const auto search = run_command(nasq::test::nasq_command() + " search tiny.toml --resume foreign");
  CHECK(search.exit_code == 1);
  CHECK(search.err.find("foreign/checkpoint.pt is not a search checkpoint") != std::string::npos);
  CHECK(search.err.find("internal error") == std::string::npos);

  fs::copy_file("foreign/model.pt", "foreign/train_checkpoint.pt",
                fs::copy_options::overwrite_existing);
  const auto train = run_command(nasq::test::nasq_command() +
                                 " train tiny.toml --arch foreign/arch.json --resume foreign");
  CHECK(train.exit_code == 1);
  CHECK(train.err.find("foreign/train_checkpoint.pt is not a training checkpoint") !=
        std::string::npos);
}

TEST_CASE("exported tensors load in Python") {
  REQUIRE(fs::exists("full/export.pt"));
  const auto python = run_command(
      "/usr/bin/python3 -c \"import torch; d = torch.load('full/export.pt'); "
      "print(len(d['architecture'])); "
      "[print(k, repr(float(v.double().sum()))) for k, v in sorted(d['state_dict'].items())]\"");
  INFO(python.err);
  REQUIRE(python.exit_code == 0);

  // The same sums from the C++ network loaded from model.pt.
  nasq::Stack stack = nasq::Stack::load_file("full/config.toml");
  stack.validate_core();
  nasq::PluginRegistry registry;
  registry.scan({NASQ_BINARY_DIR "/lib/nasq/plugins"});
  nasq::PluginFactory factory(stack, registry);
  const auto space = nasq::space::load_search_space(stack);
  const auto architecture = nasq::space::load_architecture(space, "full/arch.json");
  const auto quantizer = nasq::create_quantizer(factory, "linear");
  nasq::model::DiscreteNetwork network(space, architecture, *quantizer);
  torch::serialize::InputArchive archive;
  archive.load_from("full/model.pt");
  network->load(archive);

  std::istringstream lines(python.out);
  std::string line;
  std::getline(lines, line);
  CHECK(std::stoul(line) == architecture.blocks.size());
  std::map<std::string, double> sums;
  for (const auto& item : network->named_parameters()) sums[item.key()] = item.value().to(torch::kFloat64).sum().item<double>();
  for (const auto& item : network->named_buffers()) sums[item.key()] = item.value().to(torch::kFloat64).sum().item<double>();
  std::size_t compared = 0;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name;
    double sum = 0.0;
    fields >> name >> sum;
    REQUIRE(sums.count(name) == 1);
    CHECK(sums[name] == doctest::Approx(sum).epsilon(1e-9));
    ++compared;
  }
  CHECK(compared == sums.size());
}

TEST_CASE("exports carry the input normalization") {
  const nlohmann::json normalization = nlohmann::json::parse(read_text("full/normalization.json"));
  const auto mean = normalization.at("mean").get<std::vector<double>>();
  const auto std = normalization.at("std").get<std::vector<double>>();
  REQUIRE(mean.size() == 1);
  REQUIRE(std.size() == 1);
  CHECK(std[0] > 0.0);

  const auto python = run_command(
      "/usr/bin/python3 -c \"import torch; d = torch.load('full/export.pt'); "
      "print(repr(d['input_mean'][0]), repr(d['input_std'][0]))\"");
  INFO(python.err);
  REQUIRE(python.exit_code == 0);
  std::istringstream values(python.out);
  double python_mean = 0.0, python_std = 0.0;
  values >> python_mean >> python_std;
  CHECK(python_mean == doctest::Approx(mean[0]).epsilon(1e-6));
  CHECK(python_std == doctest::Approx(std[0]).epsilon(1e-6));

  std::map<std::string, std::string> metadata;
  const onnx::ModelProto model = nasq::test::read_onnx_model("full/model.onnx");
  for (const auto& entry : model.metadata_props()) {
    metadata[entry.key()] = entry.value();
  }
  REQUIRE(metadata.count("nasq.input_mean") == 1);
  REQUIRE(metadata.count("nasq.input_std") == 1);
  CHECK(std::stod(metadata["nasq.input_mean"]) == doctest::Approx(mean[0]).epsilon(1e-6));
  CHECK(std::stod(metadata["nasq.input_std"]) == doctest::Approx(std[0]).epsilon(1e-6));
}

TEST_CASE("exported ONNX model passes the checkers") {
  REQUIRE(fs::exists("full/model.onnx"));
  CHECK_NOTHROW(onnx::checker::check_model(std::string("full/model.onnx")));

  const auto python = nasq::test::run_python_onnx_checker("full/model.onnx");
  if (!python) {
    MESSAGE("skipped the Python checker: /usr/bin/python3 cannot import onnx (install "
            "python3-onnx)");
    return;
  }
  INFO(python->err);
  CHECK(python->exit_code == 0);
  CHECK(python->out == "ok\n");
}

TEST_CASE("ONNX model matches trained logits") {
  REQUIRE(fs::exists("full/model.onnx"));
  nasq::Stack stack = nasq::Stack::load_file("full/config.toml");
  stack.validate_core();
  nasq::PluginRegistry registry;
  registry.scan({NASQ_BINARY_DIR "/lib/nasq/plugins"});
  nasq::PluginFactory factory(stack, registry);
  nasq::exporting::TrainedNetwork trained = nasq::exporting::load_trained_network(factory, "full");

  const torch::Tensor images = nasq::test::fashion_mnist_test_batch(64);
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = trained.network->forward(images);
  }
  const auto values = nasq::test::evaluate_onnx_graph(
      nasq::test::read_onnx_model("full/model.onnx"), {{nasq::exporting::kOnnxInputName, images}});
  const nasq::test::LogitAgreement agreement = nasq::test::compare_logits(
      expected, values.at(nasq::exporting::kOnnxOutputName), 1e-4);
  MESSAGE("trained network: max |logit difference| " << agreement.max_abs_difference
          << " of max |logit| " << agreement.max_abs_logit << ", argmax agreement "
          << agreement.argmax_agreement);
  // As in tests/export/test_onnx_export.cpp: the batch norm fold changes
  // float rounding, which can move a rare activation to the neighbouring grid
  // value, so a few images may differ by more than the tolerance.
  CHECK(agreement.images_within_tolerance >= 0.95);
  CHECK(agreement.argmax_agreement >= 0.95);
}

TEST_CASE("evaluate needs a trained run") {
  const auto result = run_command(nasq::test::nasq_command() + " evaluate does-not-exist");
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("does-not-exist") != std::string::npos);
}

TEST_CASE("resume names a missing run directory") {
  nasq::test::write_text("tiny.toml", nasq::test::kTinyStack);
  fs::remove_all("never-ran");
  for (const std::string command : {" run tiny.toml --resume never-ran --stages export",
                                    " search tiny.toml --resume never-ran",
                                    " train tiny.toml --arch full/arch.json --resume never-ran"}) {
    const auto result = run_command(nasq::test::nasq_command() + command);
    INFO(command);
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("run directory never-ran not found") != std::string::npos);
    CHECK_FALSE(fs::exists("never-ran"));
  }
}

TEST_CASE("evaluate rejects bits edited after training") {
  REQUIRE(fs::exists("full/model.pt"));
  fs::remove_all("edited");
  fs::copy("full", "edited", fs::copy_options::recursive);
  nlohmann::json architecture = nlohmann::json::parse(read_text("edited/arch.json"));
  // Bits do not change the shapes of the trained tensors.
  bool edited = false;
  for (auto& block : architecture.at("blocks")) {
    if (block.at("skip").get<bool>()) continue;
    block["bottleneck_bits"] = block.at("bottleneck_bits").get<int>() == 8 ? 4 : 8;
    edited = true;
    break;
  }
  REQUIRE(edited);
  nasq::test::write_text("edited/arch.json", architecture.dump(2));
  for (const char* stage : {"evaluate", "export"}) {
    const auto result = run_command(nasq::test::nasq_command() +
                                    " run tiny.toml --resume edited --stages " + stage);
    INFO(stage << ": " << result.err);
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("edited/model.pt was trained for the architecture") != std::string::npos);
  }
}
