// Times the Bit Fusion plugin through the cost oracle: costing a 22-block
// architecture's layer list from a warm cache, building that list, and
// costing MobileNetV2 from a cold cache.
//
// usage: bench_cost_oracle [REPEATS]   (run from the build directory's bin/)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "core/config/stack.hpp"
#include "core/cost/oracle.hpp"
#include "core/plugin/host.hpp"
#include "core/space/network_graph.hpp"
#include "core/space/reference_networks.hpp"
#include "core/space/search_space.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double microseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 2000;
  nasq::Stack stack = nasq::Stack::parse("", "(defaults)");
  stack.validate_core();
  nasq::PluginRegistry registry;
  registry.scan({NASQ_PLUGIN_DIR});
  nasq::PluginFactory factory(stack, registry);
  nasq::CostOracle oracle(factory.hardware_model("bitfusion"), "bitfusion");

  const nasq::space::SearchSpace space(nasq::space::preset_options("imagenet"));
  std::mt19937_64 generator(1);
  std::vector<int> choices;
  for (const auto& decision : space.decisions()) {
    std::uniform_int_distribution<int> pick(0, static_cast<int>(decision.choices.size()) - 1);
    choices.push_back(pick(generator));
  }
  const auto architecture = nasq::space::architecture_from_indices(space, choices);

  auto start = Clock::now();
  std::vector<nasq::sdk::LayerSpec> layers;
  for (int i = 0; i < repeats; ++i) layers = nasq::space::build_network(space, architecture).layer_specs(16);
  const double build_us = microseconds_since(start) / repeats;

  start = Clock::now();
  const nasq::sdk::Cost cold = oracle.total(layers);
  const double cold_ms = microseconds_since(start) / 1000.0;

  double sink = 0.0;
  start = Clock::now();
  for (int i = 0; i < repeats; ++i) sink += oracle.total(layers).energy_mj;
  const double warm_us = microseconds_since(start) / repeats;

  nasq::CostOracle fresh(factory.hardware_model("bitfusion"), "bitfusion");
  const auto mobilenet = nasq::space::reference_network("mobilenetv2", 224, 16, 8, 8);
  start = Clock::now();
  const double mobilenet_mj = fresh.total(mobilenet).energy_mj;
  const double mobilenet_ms = microseconds_since(start) / 1000.0;

  std::printf("22-block imagenet architecture: %zu layers, %.2f mJ\n", layers.size(), cold.energy_mj);
  std::printf("  build layer list:        %8.1f us\n", build_us);
  std::printf("  cost, cold cache:        %8.2f ms (%.3f ms per layer, %zu distinct)\n", cold_ms,
              cold_ms / static_cast<double>(oracle.cache_size()), oracle.cache_size());
  std::printf("  cost, warm cache:        %8.3f us\n", warm_us);
  std::printf("MobileNetV2 (cold cache, %zu layers): %.2f ms, %.5f mJ\n", mobilenet.size(),
              mobilenet_ms, mobilenet_mj);
  std::printf("(checksum %g)\n", sink);
  return 0;
}
