// Loader and registry tests on real plugin libraries, working and broken.
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>

#include "core/config/stack.hpp"
#include "core/plugin/host.hpp"
#include "core/plugin/registry.hpp"
#include "nasq/sdk/error.hpp"

namespace fs = std::filesystem;
using nasq::PluginKind;
using nasq::PluginRegistry;

namespace {

const fs::path kPlugins = NASQ_TEST_PLUGIN_DIR;

std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const nasq::sdk::Error& error) {
    return error.what();
  }
  return "";
}

const nasq::RefusedLibrary* refused_named(const PluginRegistry& registry, const std::string& file) {
  for (const auto& refused : registry.refused()) {
    if (refused.path.filename() == file) return &refused;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("registry loads one plugin of each kind") {
  PluginRegistry registry;
  registry.scan({kPlugins / "good"});
  CHECK(registry.refused().empty());
  CHECK(registry.plugins(PluginKind::hardware).size() == 1);
  CHECK(registry.plugins(PluginKind::quantizer).size() == 1);
  CHECK(registry.plugins(PluginKind::strategy).size() == 1);

  const auto& hardware = registry.find(PluginKind::hardware, "test-hardware");
  CHECK(hardware.version == "1.0.0");
  CHECK(hardware.torch_version.empty());
  CHECK(hardware.keys.size() == 2);
  CHECK(registry.find(PluginKind::quantizer, "test-quantizer").torch_version.size() > 0);
}

TEST_CASE("registry creates a configured hardware model") {
  PluginRegistry registry;
  registry.scan({kPlugins / "good"});
  auto stack = nasq::Stack::parse("[hardware.test-hardware]\nenergy_per_mac_pj = 2.0\n", "inline.toml");
  stack.validate_core();
  nasq::PluginFactory factory(stack, registry);
  auto model = factory.hardware_model("test-hardware");
  REQUIRE(model != nullptr);

  nasq::sdk::LayerSpec layer;
  layer.input_c = 4;
  layer.output_c = 8;
  layer.batch = 2;
  const auto cost = model->cost(layer);
  CHECK(cost.macs == 64);
  CHECK(cost.energy_mj == doctest::Approx(64 * 2.0e-9));
}

TEST_CASE("unknown plugin name lists the available ones") {
  PluginRegistry registry;
  registry.scan({kPlugins / "good"});
  const std::string message =
      error_message([&] { registry.find(PluginKind::hardware, "test-hardwar"); });
  CHECK(message.find("unknown hardware plugin 'test-hardwar'") != std::string::npos);
  CHECK(message.find("did you mean 'test-hardware'") != std::string::npos);
  CHECK(message.find("libnasq_hardware_test_hardware.so") != std::string::npos);
  CHECK(message.find("1.0.0") != std::string::npos);
}

TEST_CASE("missing library file is an error") {
  PluginRegistry registry;
  const std::string message =
      error_message([&] { registry.load_file(kPlugins / "good" / "libnot_there.so"); });
  CHECK(message.find("not found") != std::string::npos);
  CHECK(message.find("libnot_there.so") != std::string::npos);
}

TEST_CASE("broken libraries are refused with reasons") {
  PluginRegistry registry;
  registry.scan({kPlugins / "broken"});

  const auto* no_entry = refused_named(registry, "libnasq_hardware_no_entry_points.so");
  REQUIRE(no_entry != nullptr);
  CHECK(no_entry->reason.find("missing entry symbol 'nasq_plugin_descriptor'") != std::string::npos);

  const auto* no_factory = refused_named(registry, "libnasq_hardware_missing_factory.so");
  REQUIRE(no_factory != nullptr);
  CHECK(no_factory->reason.find("missing entry symbol 'nasq_create_hardware'") != std::string::npos);

  const auto* wrong_abi = refused_named(registry, "libnasq_hardware_wrong_abi.so");
  REQUIRE(wrong_abi != nullptr);
  CHECK(wrong_abi->reason.find("SDK ABI version 99") != std::string::npos);
  CHECK(wrong_abi->reason.find("SDK ABI version 2;") != std::string::npos);

  const auto* wrong_torch = refused_named(registry, "libnasq_hardware_wrong_torch.so");
  REQUIRE(wrong_torch != nullptr);
  CHECK(wrong_torch->reason.find("LibTorch 1.4.0") != std::string::npos);
  CHECK(wrong_torch->name == "old-torch-quantizer");
  CHECK(registry.plugins(PluginKind::quantizer).empty());

  const std::string selected =
      error_message([&] { registry.find(PluginKind::quantizer, "old-torch-quantizer"); });
  CHECK(selected.find("was refused") != std::string::npos);
  CHECK(selected.find("libnasq_hardware_wrong_torch.so") != std::string::npos);
}

TEST_CASE("throwing factory is reported and the process survives") {
  PluginRegistry registry;
  registry.scan({kPlugins / "broken"});
  auto stack = nasq::Stack::parse("", "inline.toml");
  stack.validate_core();
  nasq::PluginFactory factory(stack, registry);
  const std::string message = error_message([&] { factory.hardware_model("throwing-hardware"); });
  CHECK(message.find("plugin 'throwing-hardware'") != std::string::npos);
  CHECK(message.find("deliberate failure in the constructor") != std::string::npos);
  CHECK(registry.plugins(PluginKind::hardware).size() == 1);
}

TEST_CASE("two libraries with one name in a directory are an error") {
  PluginRegistry registry;
  const std::string message = error_message([&] { registry.scan({kPlugins / "duplicate"}); });
  CHECK(message.find("two hardware plugins named 'test-hardware'") != std::string::npos);
  CHECK(message.find("libnasq_hardware_duplicate_a.so") != std::string::npos);
  CHECK(message.find("libnasq_hardware_duplicate_b.so") != std::string::npos);
}

TEST_CASE("earlier directory shadows a later one") {
  PluginRegistry first_shadow;
  first_shadow.scan({kPlugins / "shadow", kPlugins / "good"});
  CHECK(first_shadow.find(PluginKind::hardware, "test-hardware").version == "9.9.9");

  PluginRegistry first_good;
  first_good.scan({kPlugins / "good", kPlugins / "shadow"});
  CHECK(first_good.find(PluginKind::hardware, "test-hardware").version == "1.0.0");
}

TEST_CASE("search path order and no current directory") {
  setenv("NASQ_PLUGIN_PATH", "/env/one:/env/two", 1);
  const auto path = nasq::plugin_search_path({"/cli"}, {"relative", "/absolute"}, "/stacks");
  unsetenv("NASQ_PLUGIN_PATH");
  REQUIRE(path.size() == 6);
  CHECK(path[0] == "/cli");
  CHECK(path[1] == "/env/one");
  CHECK(path[2] == "/env/two");
  CHECK(path[3] == "/stacks/relative");
  CHECK(path[4] == "/absolute");
  CHECK(path[5].string().find("lib/nasq/plugins") != std::string::npos);
  for (const auto& directory : path) CHECK(directory != fs::current_path());
}

TEST_CASE("a directory named twice is scanned once") {
  PluginRegistry registry;
  registry.scan({kPlugins / "good", kPlugins / "good" / ".." / "good"});
  CHECK(registry.refused().empty());
  CHECK(registry.plugins(PluginKind::hardware).size() == 1);
}
