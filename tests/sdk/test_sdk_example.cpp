// Installs the SDK component alone, builds sdk/examples/roofline against it out
// of tree, and checks that nasq loads, lists and runs the resulting plugin.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/config/stack.hpp"
#include "core/plugin/host.hpp"
#include "core/plugin/registry.hpp"
#include "nasq/sdk/error.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;
using nasq::test::CommandResult;
using nasq::test::run_command;

namespace {

// Quotes `path` for /bin/sh. Built by appending, because GCC 12 gives a false
// -Wrestrict warning for "'" + std::string at -O3.
std::string quote(const fs::path& path) {
  std::string quoted = "'";
  quoted += path.string();
  quoted += "'";
  return quoted;
}

const std::string kCmake = quote(NASQ_CMAKE_COMMAND);

// Paths inside the test's working directory.
struct WorkPaths {
  fs::path prefix = fs::current_path() / "sdk-prefix";
  fs::path example_build = fs::current_path() / "roofline-build";
  fs::path plugin = example_build / "libnasq_hardware_roofline.so";
};

// Results of the install, configure and build steps, run once for all test
// cases. A step runs only when the ones before it succeeded.
struct ExampleBuild {
  WorkPaths paths;
  CommandResult install;
  CommandResult configure;
  CommandResult build;
  bool ok = false;
};

const ExampleBuild& example_build() {
  static const ExampleBuild result = [] {
    ExampleBuild run;
    fs::remove_all(run.paths.prefix);
    fs::remove_all(run.paths.example_build);

    run.install = run_command(kCmake + " --install " + quote(NASQ_BINARY_DIR) + " --prefix " +
                              quote(run.paths.prefix) + " --component sdk");
    if (run.install.exit_code != 0) return run;

    run.configure = run_command(
        kCmake + " -S " + quote(fs::path(NASQ_SOURCE_DIR) / "sdk/examples/roofline") + " -B " +
        quote(run.paths.example_build) + " -G " + quote(NASQ_CMAKE_GENERATOR) +
        " -DCMAKE_MAKE_PROGRAM=" + quote(NASQ_MAKE_PROGRAM) +
        " -DCMAKE_CXX_COMPILER=" + quote(NASQ_CXX_COMPILER) +
        " -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" + quote(run.paths.prefix));
    if (run.configure.exit_code != 0) return run;

    run.build = run_command(kCmake + " --build " + quote(run.paths.example_build) + " -j2");
    run.ok = run.build.exit_code == 0;
    return run;
  }();
  return result;
}

// Requires the example plugin to have been built, showing the failed step's output otherwise.
const ExampleBuild& require_example() {
  const ExampleBuild& run = example_build();
  INFO("install: " << run.install.out << run.install.err);
  INFO("configure: " << run.configure.out << run.configure.err);
  INFO("build: " << run.build.out << run.build.err);
  REQUIRE(run.ok);
  return run;
}

// Configures a one-file CMake project in `directory` against the installed SDK.
CommandResult configure_project(const fs::path& directory, const std::string& body) {
  fs::remove_all(directory);
  fs::create_directories(directory);
  nasq::test::write_text(directory / "CMakeLists.txt",
                         "cmake_minimum_required(VERSION 3.25)\n"
                         "project(sdk_package_check LANGUAGES CXX)\n" +
                             body);
  return run_command(kCmake + " -S " + quote(directory) + " -B " + quote(directory / "build") +
                     " -G " + quote(NASQ_CMAKE_GENERATOR) + " -DCMAKE_MAKE_PROGRAM=" +
                     quote(NASQ_MAKE_PROGRAM) + " -DCMAKE_CXX_COMPILER=" +
                     quote(NASQ_CXX_COMPILER) + " -DTorch_DIR=" + quote(NASQ_TORCH_DIR) +
                     " -DCMAKE_PREFIX_PATH=" + quote(example_build().paths.prefix));
}

// The line of `text` that contains `needle`, or "" when none does.
std::string line_containing(const std::string& text, const std::string& needle) {
  std::istringstream stream(text);
  std::string line;
  while (std::getline(stream, line)) {
    if (line.find(needle) != std::string::npos) return line;
  }
  return "";
}

std::string plugin_command(const std::string& arguments) {
  return nasq::test::nasq_command() + " plugins " + arguments + " --plugin-path " +
         quote(example_build().paths.example_build);
}

std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const nasq::sdk::Error& error) {
    return error.what();
  }
  return "";
}

// A roofline model created by the core's loader from the out-of-tree build,
// configured from `table` ([hardware.roofline] keys).
struct LoadedRoofline {
  nasq::PluginRegistry registry;
  nasq::Stack stack;
  nasq::PluginFactory factory;
  std::shared_ptr<nasq::sdk::HardwareModel> model;

  explicit LoadedRoofline(const std::string& table)
      : stack(nasq::Stack::parse("[hardware.roofline]\n" + table, "inline.toml")),
        factory(stack, registry) {
    registry.scan({example_build().paths.example_build});
    stack.validate_core();
    model = factory.hardware_model("roofline");
  }
};

nasq::sdk::LayerSpec conv_layer() {
  nasq::sdk::LayerSpec layer;
  layer.kind = nasq::sdk::LayerKind::conv;
  layer.input_h = 8;
  layer.input_w = 8;
  layer.input_c = 16;
  layer.output_c = 32;
  layer.kernel = 3;
  layer.padding = 1;
  return layer;
}

// A 1024 -> 1000 fully connected layer with 4-bit weights.
nasq::sdk::LayerSpec fc_layer() {
  nasq::sdk::LayerSpec layer;
  layer.kind = nasq::sdk::LayerKind::fully_connected;
  layer.input_c = 1024;
  layer.output_c = 1000;
  layer.weight_bits = 4;
  return layer;
}

}  // namespace

TEST_CASE("sdk component installs only the SDK") {
  const ExampleBuild& run = example_build();
  INFO(run.install.out << run.install.err);
  REQUIRE(run.install.exit_code == 0);

  const fs::path& prefix = run.paths.prefix;
  CHECK(fs::exists(prefix / "include/nasq/sdk/hardware_model.hpp"));
  CHECK(fs::exists(prefix / "include/nasq/sdk/quantizer.hpp"));
  CHECK(fs::exists(prefix / "lib/libnasq_sdk.so"));
  CHECK(fs::exists(prefix / "lib/libnasq_sdk_torch.so"));
  CHECK(fs::exists(prefix / "lib/cmake/nasq_sdk/nasq_sdkConfig.cmake"));
  CHECK(fs::exists(prefix / "lib/cmake/nasq_sdk/nasq_sdkConfigVersion.cmake"));
  CHECK(fs::exists(prefix / "lib/cmake/nasq_sdk/NasqSdkPlugin.cmake"));
  CHECK_FALSE(fs::exists(prefix / "bin/nasq"));
  CHECK_FALSE(fs::exists(prefix / "lib/libnasq_core.so"));
}

TEST_CASE("roofline example builds out of tree") {
  const ExampleBuild& run = require_example();
  CHECK(fs::is_regular_file(run.paths.plugin));
  CHECK(run.build.out.find("warning:") == std::string::npos);
  CHECK(run.build.err.find("warning:") == std::string::npos);
}

TEST_CASE("plugins lists the example with version and path") {
  const ExampleBuild& run = require_example();
  const CommandResult result = run_command(plugin_command(""));
  INFO(result.out << result.err);
  CHECK(result.exit_code == 0);

  const std::string line = line_containing(result.out, " roofline ");
  REQUIRE_FALSE(line.empty());
  CHECK(line.rfind("hardware ", 0) == 0);
  CHECK(line.find(" 1.0.0 ") != std::string::npos);
  CHECK(line.find(run.paths.plugin.string()) != std::string::npos);

  const std::size_t refused_section = result.out.find("refused libraries");
  if (refused_section != std::string::npos) {
    CHECK(result.out.find("roofline", refused_section) == std::string::npos);
  }
}

TEST_CASE("plugins keys prints the example's keys") {
  require_example();
  const CommandResult result = run_command(plugin_command("--keys roofline"));
  INFO(result.out << result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("keys of roofline 1.0.0") != std::string::npos);

  const std::vector<std::pair<std::string, std::string>> keys_and_units = {
      {"peak_macs_per_cycle", "[MAC/cycle]"},
      {"frequency_mhz", "[MHz]"},
      {"dram_bytes_per_cycle", "[B/cycle]"},
      {"energy_per_mac_pj", "[pJ]"},
      {"dram_energy_per_byte_pj", "[pJ]"}};
  for (const auto& [key, unit] : keys_and_units) {
    const std::string line = line_containing(result.out, "  " + key + " ");
    INFO("key " << key);
    REQUIRE_FALSE(line.empty());
    CHECK(line.find(unit) != std::string::npos);
  }
}

TEST_CASE("installed package rejects another major version") {
  require_example();
  const CommandResult result = configure_project(fs::current_path() / "major-3",
                                                 "find_package(nasq_sdk 3 REQUIRED)\n");
  INFO(result.out << result.err);
  CHECK(result.exit_code != 0);
  CHECK(result.err.find("compatible with requested version \"3\"") != std::string::npos);
  CHECK(result.err.find("nasq_sdkConfig.cmake, version: 2.0.0") != std::string::npos);
}

TEST_CASE("installed package provides the torch component") {
  require_example();
  const CommandResult result = configure_project(
      fs::current_path() / "torch-component",
      "find_package(nasq_sdk 2 REQUIRED COMPONENTS torch)\n"
      "if(NOT TARGET nasq::sdk OR NOT TARGET nasq::sdk_torch)\n"
      "  message(FATAL_ERROR \"nasq::sdk or nasq::sdk_torch is missing\")\n"
      "endif()\n");
  INFO(result.out << result.err);
  CHECK(result.exit_code == 0);
}

TEST_CASE("cost command runs the example") {
  require_example();
  nasq::test::write_text("layers.csv",
                         "name,kind,n,h,w,c,oc,k,s,p,groups,wbits,abits\n"
                         "fc,fc,1,1,1,1024,1000,1,1,0,1,4,8\n");
  const CommandResult result =
      run_command(nasq::test::nasq_command() + " cost --layers layers.csv --hardware roofline" +
                  " --format csv --plugin-path " + quote(example_build().paths.example_build));
  INFO(result.out << result.err);
  CHECK(result.exit_code == 0);

  // The fc layer of "roofline fc layer is memory bound" at the default 500 MHz.
  const std::string row = line_containing(result.out, "fc,fc,");
  REQUIRE_FALSE(row.empty());
  std::vector<std::string> fields;
  std::istringstream stream(row);
  for (std::string field; std::getline(stream, field, ',');) fields.push_back(field);
  for (const std::string expected : {"1024000", "32127", "4000", "28127"}) {
    INFO("field " << expected);
    CHECK(std::find(fields.begin(), fields.end(), expected) != fields.end());
  }
}

TEST_CASE("roofline conv layer is compute bound") {
  require_example();
  LoadedRoofline roofline("");
  REQUIRE(roofline.model != nullptr);

  const nasq::sdk::Cost cost = roofline.model->cost(conv_layer());
  // 8x8 output, 32 x 16 channels, 3x3 kernel.
  CHECK(cost.macs == 8 * 8 * 32 * 16 * 9);
  CHECK(cost.bitops == cost.macs * 64);
  CHECK(cost.compute_cycles == cost.macs / 256);
  // Weights 32*16*9 and inputs 8*8*16 read, outputs 8*8*32 written, 8 bits each.
  CHECK(cost.dram_read_bits == (32 * 16 * 9 + 8 * 8 * 16) * 8);
  CHECK(cost.dram_write_bits == 8 * 8 * 32 * 8);
  // 7680 bytes at 16 B/cycle take 480 cycles, fewer than the 1152 compute cycles.
  CHECK(cost.cycles == 1152);
  CHECK(cost.stall_cycles == 0);
  CHECK(cost.latency_ms == doctest::Approx(1152 / 500e3));
  CHECK(cost.core_energy_mj == doctest::Approx(cost.macs * 0.2e-9));
  CHECK(cost.dram_energy_mj == doctest::Approx(7680 * 100e-9));
  CHECK(cost.energy_mj == doctest::Approx(cost.core_energy_mj + cost.dram_energy_mj));
}

TEST_CASE("roofline fc layer is memory bound") {
  require_example();
  LoadedRoofline roofline("frequency_mhz = 1000.0\n");
  const nasq::sdk::Cost cost = roofline.model->cost(fc_layer());
  CHECK(cost.macs == 1024000);
  CHECK(cost.compute_cycles == 4000);
  CHECK(cost.dram_read_bits == 1024000 * 4 + 1024 * 8);
  CHECK(cost.dram_write_bits == 1000 * 8);
  // 514024 bytes at 16 B/cycle: 32126.5, rounded up.
  CHECK(cost.cycles == 32127);
  CHECK(cost.stall_cycles == 32127 - 4000);
  CHECK(cost.latency_ms == doctest::Approx(32127 / 1e6));
}

TEST_CASE("roofline pool layer costs only traffic") {
  require_example();
  LoadedRoofline roofline("");
  nasq::sdk::LayerSpec layer;
  layer.kind = nasq::sdk::LayerKind::pool;
  layer.input_h = 7;
  layer.input_w = 7;
  layer.input_c = 64;
  layer.output_c = 0;     // unused by pool layers
  layer.weight_bits = 16; // unused by pool layers

  const nasq::sdk::Cost cost = roofline.model->cost(layer);
  CHECK(cost.macs == 0);
  CHECK(cost.compute_cycles == 0);
  CHECK(cost.dram_read_bits == 7 * 7 * 64 * 8);
  CHECK(cost.dram_write_bits == 64 * 8);
  CHECK(cost.cycles == 200);
  CHECK(cost.stall_cycles == 200);
  CHECK(cost.core_energy_mj == 0.0);
  CHECK(cost.energy_mj == doctest::Approx(3200 * 100e-9));
}

TEST_CASE("roofline add layer reads two inputs") {
  require_example();
  LoadedRoofline roofline("");
  nasq::sdk::LayerSpec layer;
  layer.kind = nasq::sdk::LayerKind::add;
  layer.batch = 2;
  layer.input_h = 4;
  layer.input_w = 4;
  layer.input_c = 8;

  const nasq::sdk::Cost cost = roofline.model->cost(layer);
  CHECK(cost.macs == 0);
  CHECK(cost.dram_read_bits == 2 * (2 * 4 * 4 * 8) * 8);
  CHECK(cost.dram_write_bits == 2 * 4 * 4 * 8 * 8);
  // 768 bytes at 16 B/cycle.
  CHECK(cost.cycles == 48);
}

TEST_CASE("roofline depthwise conv reads per-group weights") {
  require_example();
  LoadedRoofline roofline("");
  nasq::sdk::LayerSpec layer = conv_layer();
  layer.kind = nasq::sdk::LayerKind::depthwise_conv;
  layer.output_c = 16;
  layer.groups = 16;

  const nasq::sdk::Cost cost = roofline.model->cost(layer);
  CHECK(cost.macs == 8 * 8 * 16 * 9);
  // One 3x3 filter per channel, plus the 8x8x16 input.
  CHECK(cost.dram_read_bits == (16 * 9 + 8 * 8 * 16) * 8);
  CHECK(cost.dram_write_bits == 8 * 8 * 16 * 8);
}

TEST_CASE("roofline capabilities match the costs") {
  require_example();
  LoadedRoofline roofline("");
  const nasq::sdk::HardwareCapabilities capabilities = roofline.model->capabilities();
  CHECK(capabilities.supported_bits == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(capabilities.additive);
  CHECK(capabilities.thread_safe);

  // The memory-bound layer has a nonzero value in every field the model fills.
  const nasq::sdk::Cost cost = roofline.model->cost(fc_layer());
  for (const std::string& metric : capabilities.metrics) {
    INFO("metric " << metric);
    CHECK(nasq::sdk::metric_value(cost, metric) > 0.0);
  }
}

TEST_CASE("roofline rejects bad layers by field") {
  require_example();
  LoadedRoofline roofline("");
  struct BadLayer {
    std::function<void(nasq::sdk::LayerSpec&)> change;
    std::string expected;
  };
  const std::vector<BadLayer> cases = {
      {[](auto& layer) { layer.batch = 0; }, "batch = 0 is invalid; expected batch >= 1"},
      {[](auto& layer) { layer.input_w = 0; }, "input_w = 0 are invalid"},
      {[](auto& layer) { layer.input_c = 0; }, "input_c = 0 is invalid; expected >= 1"},
      {[](auto& layer) { layer.output_c = 0; }, "output_c = 0 is invalid; expected >= 1"},
      {[](auto& layer) { layer.kernel = 11; }, "kernel = 11 is larger than the padded input (10"},
      {[](auto& layer) { layer.weight_bits = 9; },
       "weight_bits = 9 is not supported; expected 1..8"},
      {[](auto& layer) { layer.activation_bits = 0; }, "activation_bits = 0 is not supported"},
      {[](auto& layer) { layer.output_bits = 16; }, "output_bits = 16 is not supported"},
      {[](auto& layer) { layer.groups = 3; }, "groups = 3 is invalid"},
      {[](auto& layer) { layer.stride = 0; }, "stride = 0"},
  };
  for (const auto& bad : cases) {
    nasq::sdk::LayerSpec layer = conv_layer();
    bad.change(layer);
    const std::string message = error_message([&] { roofline.model->cost(layer); });
    INFO("expected: " << bad.expected);
    CHECK(message.find("roofline cannot cost this conv layer") != std::string::npos);
    CHECK(message.find(bad.expected) != std::string::npos);
  }
}

TEST_CASE("roofline prepare lists every bad layer") {
  require_example();
  LoadedRoofline roofline("");
  std::vector<nasq::sdk::LayerSpec> layers(3, conv_layer());
  layers[0].input_c = 0;
  layers[2].weight_bits = 12;

  const std::string message = error_message([&] { roofline.model->prepare(layers); });
  CHECK(message.find("layer 0 (conv): input_c = 0") != std::string::npos);
  CHECK(message.find("layer 1") == std::string::npos);
  CHECK(message.find("layer 2 (conv): weight_bits = 12") != std::string::npos);
  CHECK(error_message([&] { roofline.model->prepare(std::vector(2, conv_layer())); }).empty());
}

TEST_CASE("roofline key outside its range is rejected") {
  require_example();
  const std::string message = error_message([] { LoadedRoofline roofline("frequency_mhz = 0\n"); });
  CHECK(message.find("hardware.roofline.frequency_mhz") != std::string::npos);
  CHECK(message.find("out of range") != std::string::npos);
  CHECK(message.find("MHz") != std::string::npos);
}
