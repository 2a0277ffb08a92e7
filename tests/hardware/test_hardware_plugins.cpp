// Hardware-model plugins through the real loader: Bit Fusion against the
// simulator's reference rows, the analytical and lookup-table models, and the
// cost oracle's checks.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>

#include "core/config/stack.hpp"
#include "core/cost/oracle.hpp"
#include "core/plugin/host.hpp"
#include "core/plugin/registry.hpp"
#include "nasq/sdk/error.hpp"
#include "tests/hardware/csv_rows.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kPluginDir = fs::path(NASQ_BINARY_DIR) / "lib/nasq/plugins";
const std::string kRefs = NASQ_BITFUSION_REFS_DIR;

// A registry and factory over the built-in plugins for one stack text.
struct Models {
  explicit Models(const std::string& stack_text)
      : stack(nasq::Stack::parse(stack_text, "test.toml")) {
    stack.validate_core();
    registry.scan({kPluginDir, NASQ_TEST_PLUGIN_DIR "/invalid"});
    factory = std::make_unique<nasq::PluginFactory>(stack, registry);
  }
  std::unique_ptr<nasq::CostOracle> oracle(const std::string& name) {
    return std::make_unique<nasq::CostOracle>(factory->hardware_model(name), name);
  }
  nasq::Stack stack;
  nasq::PluginRegistry registry;
  std::unique_ptr<nasq::PluginFactory> factory;
};

nasq::sdk::LayerSpec layer_of(const nasq::test::CsvRow& row) {
  nasq::sdk::LayerSpec layer;
  const std::string kind = row.text("kind");
  layer.kind = kind == "conv"     ? nasq::sdk::LayerKind::conv
               : kind == "dwconv" ? nasq::sdk::LayerKind::depthwise_conv
                                  : nasq::sdk::LayerKind::fully_connected;
  layer.batch = row.integer("n");
  layer.input_h = row.integer("h");
  layer.input_w = row.integer("w");
  layer.input_c = row.integer("c");
  layer.output_c = row.integer("oc");
  layer.kernel = row.integer("k");
  layer.stride = row.integer("s");
  layer.padding = row.integer("p");
  layer.groups = row.integer("groups");
  layer.weight_bits = static_cast<int>(row.integer("wbits"));
  layer.activation_bits = static_cast<int>(row.integer("abits"));
  layer.output_bits = layer.activation_bits;
  layer.first_layer = row.integer("im2col") != 0;
  return layer;
}

double relative_error(double value, double reference) {
  return reference == 0.0 ? std::abs(value) : std::abs(value - reference) / std::abs(reference);
}

// Checks every "ok" row of a reference file through the plugin; returns the
// number of rows checked.
int check_reference_rows(const std::string& file) {
  std::map<std::string, std::unique_ptr<Models>> models;
  std::map<std::string, std::unique_ptr<nasq::CostOracle>> oracles;
  const nasq::test::CsvTable table(kRefs + "/" + file);
  int checked = 0;
  for (const auto& row : table.rows()) {
    if (row.text("status") != "ok") continue;
    const std::string mode = row.text("dw_mode").empty() ? "ic1" : row.text("dw_mode");
    if (!oracles[mode]) {
      models[mode] = std::make_unique<Models>("[hardware.bitfusion]\ndepthwise_mapping = \"" +
                                              mode + "\"\n");
      oracles[mode] = models[mode]->oracle("bitfusion");
    }
    const nasq::sdk::Cost cost = oracles[mode]->layer_cost(layer_of(row));
    INFO(file << " row " << row.text("name"));
    CHECK(cost.cycles == row.integer("cycles"));
    CHECK(cost.stall_cycles == row.integer("mem_stall_cycles"));
    CHECK(cost.compute_cycles == row.integer("compute_cycles"));
    CHECK(cost.dram_read_bits == row.integer("dram_read_bits"));
    CHECK(cost.dram_write_bits == row.integer("dram_write_bits"));
    CHECK(cost.macs == row.integer("macs"));
    CHECK(relative_error(cost.energy_mj, row.real("total_energy_nJ") * 1e-6) <= 1e-9);
    CHECK(relative_error(cost.dram_energy_mj, row.real("dram_energy_nJ") * 1e-6) <= 1e-9);
    CHECK(relative_error(cost.sram_energy_mj, row.real("sram_energy_nJ") * 1e-6) <= 1e-9);
    CHECK(relative_error(cost.core_energy_mj, row.real("core_energy_nJ") * 1e-6) <= 1e-9);
    CHECK(relative_error(cost.latency_ms, row.real("latency_ms")) <= 1e-9);
    ++checked;
  }
  return checked;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const nasq::sdk::Error& error) {
    return error.what();
  }
  return "";
}

nasq::sdk::LayerSpec pointwise(int weight_bits, int activation_bits) {
  nasq::sdk::LayerSpec layer;
  layer.batch = 16;
  layer.input_h = layer.input_w = 28;
  layer.input_c = 32;
  layer.output_c = 192;
  layer.weight_bits = weight_bits;
  layer.activation_bits = activation_bits;
  layer.output_bits = activation_bits;
  return layer;
}

}  // namespace

TEST_CASE("bitfusion plugin reproduces layers.csv") {
  CHECK(check_reference_rows("layers.csv") == 70);
}

TEST_CASE("bitfusion plugin reproduces networks_layers.csv") {
  CHECK(check_reference_rows("networks_layers.csv") > 600);
}

TEST_CASE("bitfusion rejects bad layers with clear errors") {
  Models models("");
  auto oracle = models.oracle("bitfusion");
  auto zero = pointwise(8, 8);
  zero.input_c = 0;
  CHECK(error_of([&] { oracle->layer_cost(zero); }).find("bitfusion cannot cost") != std::string::npos);

  auto big_kernel = pointwise(8, 8);
  big_kernel.input_h = big_kernel.input_w = 3;
  big_kernel.kernel = 7;
  const std::string kernel_message = error_of([&] { oracle->layer_cost(big_kernel); });
  CHECK(kernel_message.find("kernel") != std::string::npos);

  const std::string bits_message = error_of([&] { oracle->layer_cost(pointwise(16, 16)); });
  CHECK(bits_message.find("bitfusion") != std::string::npos);
  CHECK(bits_message.find("16") != std::string::npos);

  const std::string config_message = error_of([&] { oracle->check_bits({2, 4, 16}, "search_space.b1"); });
  CHECK(config_message.find("search_space.b1") != std::string::npos);
  CHECK(config_message.find("hardware plugin 'bitfusion'") != std::string::npos);
  CHECK(config_message.find("supported: 1, 2, 3, 4, 5, 6, 7, 8") != std::string::npos);
}

TEST_CASE("bitfusion constants come from the stack") {
  Models defaults("");
  Models wider("[hardware.bitfusion]\narray_rows = 32\n");
  const auto base = defaults.oracle("bitfusion")->layer_cost(pointwise(8, 8));
  const auto changed = wider.oracle("bitfusion")->layer_cost(pointwise(8, 8));
  CHECK(changed.compute_cycles < base.compute_cycles);

  Models costly_dram("[hardware.bitfusion]\ndram_nj_per_bit = 0.030\n");
  const auto doubled = costly_dram.oracle("bitfusion")->layer_cost(pointwise(8, 8));
  CHECK(doubled.dram_energy_mj == doctest::Approx(2.0 * base.dram_energy_mj));
  CHECK(doubled.cycles == base.cycles);
}

TEST_CASE("bitfusion activation output mode moves fewer DRAM bits") {
  Models accumulator("");
  Models activation("[hardware.bitfusion]\noutput_precision = \"activation\"\n");
  const auto exact = accumulator.oracle("bitfusion")->layer_cost(pointwise(2, 2));
  const auto narrow = activation.oracle("bitfusion")->layer_cost(pointwise(2, 2));
  CHECK(narrow.dram_read_bits + narrow.dram_write_bits < exact.dram_read_bits + exact.dram_write_bits);
  CHECK(narrow.energy_mj < exact.energy_mj);
}

TEST_CASE("analytical counts MACs, BitOPs and memory") {
  Models models("");
  auto oracle = models.oracle("analytical");
  const auto cost = oracle->layer_cost(pointwise(4, 2));
  CHECK(cost.macs == 16LL * 28 * 28 * 32 * 192);
  CHECK(cost.bitops == cost.macs * 4 * 2);
  CHECK(cost.weight_memory_bits == 32 * 192 * 4);
  CHECK(cost.activation_memory_bits == 16LL * 28 * 28 * 32 * 2 + 16LL * 28 * 28 * 192 * 2);
  CHECK(oracle->capabilities().additive);
}

TEST_CASE("lut costs from a table with units") {
  nasq::test::write_text("table.csv",
                         "kind,n,h,w,c,oc,k,s,p,groups,wbits,abits,energy[uJ],latency[ms]\n"
                         "conv,16,28,28,32,192,1,1,0,1,8,8,2500,1.5\n");
  Models models("[hardware]\nplugin = \"lut\"\n[hardware.lut]\nfile = \"" +
                (fs::current_path() / "table.csv").string() + "\"\n");
  auto oracle = models.oracle("lut");
  const auto cost = oracle->layer_cost(pointwise(8, 8));
  CHECK(cost.energy_mj == doctest::Approx(2.5));
  CHECK(cost.latency_ms == doctest::Approx(1.5));
  CHECK_FALSE(cost.estimated);

  const std::vector<nasq::sdk::LayerSpec> layers = {pointwise(8, 8), pointwise(4, 4), pointwise(2, 2)};
  const std::string message = error_of([&] { oracle->prepare(layers); });
  CHECK(message.find("2 layers are missing") != std::string::npos);
  CHECK(message.find("conv,16,28,28,32,192,1,1,0,1,4,4") != std::string::npos);
  CHECK(message.find("conv,16,28,28,32,192,1,1,0,1,2,2") != std::string::npos);
  CHECK(error_of([&] { oracle->layer_cost(pointwise(4, 4)); }).find("missing") != std::string::npos);
}

TEST_CASE("lut rejects a table without units") {
  nasq::test::write_text("unitless.csv", "kind,n,h,w,c,oc,k,s,p,groups,wbits,abits,energy\n"
                                         "conv,16,28,28,32,192,1,1,0,1,8,8,2.5\n");
  Models models("[hardware.lut]\nfile = \"unitless.csv\"\n");
  const std::string message = error_of([&] { models.oracle("lut"); });
  CHECK(message.find("column 'energy' has no unit") != std::string::npos);
  CHECK(message.find("energy[J]") != std::string::npos);
}

TEST_CASE("lut fallback flags estimated entries") {
  nasq::test::write_text("cycles.csv", "kind,n,h,w,c,oc,k,s,p,groups,wbits,abits,cycles[cycles]\n"
                                       "conv,16,28,28,32,192,1,1,0,1,8,8,1000\n");
  Models models("[hardware.lut]\nfile = \"" + (fs::current_path() / "cycles.csv").string() +
                "\"\non_missing = \"fallback\"\nfallback = \"bitfusion\"\n");
  auto oracle = models.oracle("lut");
  const std::vector<nasq::sdk::LayerSpec> layers = {pointwise(8, 8), pointwise(4, 4)};
  oracle->prepare(layers);
  CHECK(oracle->layer_cost(pointwise(8, 8)).cycles == 1000);
  const auto estimated = oracle->layer_cost(pointwise(4, 4));
  CHECK(estimated.estimated);
  CHECK(estimated.cycles > 0);

  Models no_energy("[hardware.lut]\nfile = \"" + (fs::current_path() / "table.csv").string() +
                   "\"\non_missing = \"fallback\"\n");
  const std::string message = error_of([&] { no_energy.oracle("lut"); });
  CHECK(message.find("does not report energy_mj") != std::string::npos);
}

TEST_CASE("oracle rejects NaN, negative and infinite costs") {
  Models models("");
  auto oracle = models.oracle("invalid-costs");
  auto layer = pointwise(8, 8);
  layer.input_c = 3;
  CHECK(error_of([&] { oracle->layer_cost(layer); }).find("invalid energy_mj = nan") != std::string::npos);
  layer.input_c = 5;
  CHECK(error_of([&] { oracle->layer_cost(layer); }).find("invalid latency_ms = -1") != std::string::npos);
  layer.input_c = 7;
  const std::string message = error_of([&] { oracle->layer_cost(layer); });
  CHECK(message.find("invalid energy_mj = inf") != std::string::npos);
  CHECK(message.find("'invalid-costs'") != std::string::npos);
  CHECK(message.find("n16 28x28x7") != std::string::npos);
  layer.input_c = 9;
  CHECK(oracle->layer_cost(layer).energy_mj == 1.0);
}

TEST_CASE("oracle caches and sums layers") {
  Models models("");
  auto oracle = models.oracle("bitfusion");
  const std::vector<nasq::sdk::LayerSpec> layers = {pointwise(8, 8), pointwise(4, 4), pointwise(8, 8)};
  const auto total = oracle->total(layers);
  CHECK(oracle->cache_size() == 2);
  const auto first = oracle->layer_cost(pointwise(8, 8));
  const auto second = oracle->layer_cost(pointwise(4, 4));
  CHECK(total.energy_mj == doctest::Approx(2 * first.energy_mj + second.energy_mj));
  CHECK(total.cycles == 2 * first.cycles + second.cycles);
  CHECK(oracle->total(layers).cycles == total.cycles);
}
