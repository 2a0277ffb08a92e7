// Layer lists that `nasq cost` and other commands cost: reference networks
// and architectures of a stack's search space.
#pragma once

#include <boost/program_options/variables_map.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config/stack.hpp"
#include "core/cost/layer_file.hpp"
#include "core/plugin/host.hpp"
#include "core/plugin/registry.hpp"

namespace nasq::cli {

// Layers of a reference network ("mobilenetv2", "resnet50", "vgg16") at a
// square input side, batch and uniform bits; the first conv uses im2col.
std::vector<NamedLayer> network_layers(const std::string& network, std::int64_t input_size,
                                       std::int64_t batch, int weight_bits, int activation_bits);

// Layers of the architecture in `arch_file` built in the stack's search space.
std::vector<NamedLayer> architecture_layers(Stack& stack, const std::string& arch_file,
                                            std::int64_t batch);

// Stack (file or defaults) with `nasq cost`'s overrides applied (--set,
// --hardware, then `extra_overrides`) and its plugins scanned. One hardware
// model is created from it.
struct CostSession {
  std::unique_ptr<Stack> stack;
  std::unique_ptr<PluginRegistry> registry;
  std::unique_ptr<PluginFactory> factory;
  std::string plugin;
};

CostSession open_cost_session(const boost::program_options::variables_map& values,
                              const std::vector<std::string>& extra_overrides);

// True when the plugin declares `key` in its table.
bool declares_key(const PluginInfo& info, const std::string& key);

// Prints, for `nasq cost --sensitivity`, the bit-width sensitivity of every
// block of the space that --network mobilenetv2, --preset or the stack's
// [search_space] names, in `format` (table, csv or json). It prints one table
// per output precision when the hardware plugin has an output_precision key.
void print_sensitivity(const boost::program_options::variables_map& values,
                       const std::string& format);

}  // namespace nasq::cli
