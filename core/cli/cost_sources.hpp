// Layer lists that `nasq cost` and other commands cost: reference networks
// and architectures of a stack's search space.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/stack.hpp"
#include "core/cost/layer_file.hpp"

namespace nasq::cli {

// Layers of a reference network ("mobilenetv2", "resnet50", "vgg16") at a
// square input side, batch and uniform bits; the first conv uses im2col.
std::vector<NamedLayer> network_layers(const std::string& network, std::int64_t input_size,
                                       std::int64_t batch, int weight_bits, int activation_bits);

// Layers of the architecture in `arch_file` built in the stack's search space.
std::vector<NamedLayer> architecture_layers(Stack& stack, const std::string& arch_file,
                                            std::int64_t batch);

}  // namespace nasq::cli
