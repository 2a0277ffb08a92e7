// Prints how the energy and latency of each MB block change with the
// bottleneck bits b1 and the depthwise bits b2 on Bit Fusion, in both output
// modes, for the fashion-mnist and imagenet presets (largest block choices:
// expansion 6, kernel 3) at inference batch 16.
//
// usage: bench_sensitivity [PRESET...]
#include <cstdio>
#include <string>
#include <vector>

#include "core/config/stack.hpp"
#include "core/cost/oracle.hpp"
#include "core/plugin/host.hpp"
#include "core/search/block_costs.hpp"
#include "core/space/search_space.hpp"

namespace {

void print_preset(const std::string& preset, const std::string& mode) {
  nasq::Stack stack = nasq::Stack::parse(
      "[hardware.bitfusion]\noutput_precision = \"" + mode + "\"\n", "(sensitivity)");
  stack.validate_core();
  nasq::PluginRegistry registry;
  registry.scan({NASQ_PLUGIN_DIR});
  nasq::PluginFactory factory(stack, registry);
  nasq::CostOracle oracle(factory.hardware_model("bitfusion"), "bitfusion");
  const nasq::space::SearchSpace space(nasq::space::preset_options(preset));

  std::printf("\n%s preset, output_precision = %s: energy and latency relative to b1 = b2 = 8\n",
              preset.c_str(), mode.c_str());
  std::printf("block  8/8 mJ     8/8 ms   | energy b1=2,4,6 (b2=8)  | energy b2=2,4,6 (b1=8)  | latency b1=2,4,6       | latency b2=2,4,6\n");
  for (const auto& slot : space.blocks()) {
    auto cost = [&](int b1, int b2) {
      const nasq::space::BlockChoice choice{false, 6, 3, b1, b2};
      return oracle.total(nasq::search::block_layers(slot, choice, 16));
    };
    const nasq::sdk::Cost base = cost(8, 8);
    std::printf("%5d  %9.5f  %8.4f |", slot.index, base.energy_mj, base.latency_ms);
    for (const bool energy : {true, false}) {
      for (const bool bottleneck : {true, false}) {
        for (const int bits : {2, 4, 6}) {
          const nasq::sdk::Cost changed = bottleneck ? cost(bits, 8) : cost(8, bits);
          const double ratio = energy ? changed.energy_mj / base.energy_mj
                                      : changed.latency_ms / base.latency_ms;
          std::printf(" %6.3f", ratio);
        }
        std::printf("  |");
      }
    }
    std::printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> presets(argv + 1, argv + argc);
  if (presets.empty()) presets = {"fashion-mnist", "imagenet"};
  for (const auto& preset : presets) {
    for (const std::string mode : {"accumulator", "activation"}) print_preset(preset, mode);
  }
  return 0;
}
