// Fixed reference networks (MobileNetV2, ResNet-50, VGG-16) built with the
// same graph code as searched networks, for hardware-model checks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/space/network_graph.hpp"
#include "core/space/search_space.hpp"
#include "nasq/sdk/hardware_model.hpp"

namespace nasq::space {

// "mobilenetv2", "resnet50", "vgg16".
const std::vector<std::string>& reference_network_names();

// The network `name` on square inputs of `input_size` pixels with 3 channels
// and 1000 classes, every conv and FC at `weight_bits` weights and
// `activation_bits` input activations:
// - mobilenetv2: torchvision's width-1.0 layout (stem 32 stride 2; expansion,
//   channels, repeats, stride = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2)
//   (6,96,3,1) (6,160,3,2) (6,320,1,1); head 1280); expansion 1 has no
//   expansion conv.
// - resnet50: torchvision v1.5 bottlenecks (stride on the 3x3 conv), 3x3
//   stride-2 max pool after the 7x7 stem.
// - vgg16: torchvision configuration D with max pools; fc6 reads the last
//   feature map flattened.
// NOTE: torchvision's VGG adaptive average pooling to 7x7 is not modeled, so
// vgg16 matches torchvision only at input sizes where the last feature map is
// already 7x7 (224).
// Throws sdk::Error for an unknown name or an input too small for the strides.
NetworkGraph reference_graph(const std::string& name, std::int64_t input_size, int weight_bits,
                             int activation_bits);

// layer_specs(batch) of reference_graph(); max pools are left out.
std::vector<sdk::LayerSpec> reference_network(const std::string& name, std::int64_t input_size,
                                              std::int64_t batch, int weight_bits,
                                              int activation_bits);

// Returns MobileNetV2's macro-architecture as search space options: 3 input
// channels, 1000 classes, expansion choices {1, 6}, kernel 3, no skip and the
// default bit choices. At expansion 1 in block 0 and 6 elsewhere, its blocks
// are the blocks of reference_graph("mobilenetv2").
SpaceOptions mobilenetv2_space_options(std::int64_t input_size);

}  // namespace nasq::space
