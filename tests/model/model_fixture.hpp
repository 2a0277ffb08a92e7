// Test helpers for the model tests: quantizer plugins loaded through the real
// loader, a tiny search space, and tensor comparisons.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/config/stack.hpp"
#include "core/plugin/host.hpp"
#include "core/plugin/registry.hpp"
#include "core/plugin/torch_plugins.hpp"
#include "core/space/search_space.hpp"
#include "nasq/sdk/quantizer.hpp"

namespace nasq::test {

inline const std::filesystem::path kPluginDir = NASQ_PLUGIN_OUTPUT_DIR;

// The quantizer plugin `name`, found by scanning the build's plugin folder
// and created from an inline stack. Declare networks after the loader so
// that they are destroyed first.
struct QuantizerLoader {
  explicit QuantizerLoader(const std::string& name, const std::string& stack_text = "")
      : stack(Stack::parse(stack_text, "inline.toml")) {
    registry.scan({kPluginDir});
    stack.validate_core();
    factory = std::make_unique<PluginFactory>(stack, registry);
    quantizer = create_quantizer(*factory, name);
  }

  PluginRegistry registry;
  Stack stack;
  std::unique_ptr<PluginFactory> factory;
  std::shared_ptr<sdk::Quantizer> quantizer;
};

// 8x8 inputs with 2 channels, stem of 4 channels, then block 0 (4 -> 4,
// stride 1, residual and skippable) and block 1 (4 -> 6, stride 2), head of 8
// channels and 3 classes; the default choice lists.
inline space::SearchSpace tiny_space() {
  space::SpaceOptions options;
  options.input_size = 8;
  options.input_channels = 2;
  options.num_classes = 3;
  options.stem_channels = 4;
  options.stages = {{4, 1, 1}, {6, 1, 2}};
  options.head_channels = 8;
  return space::SearchSpace(options);
}

inline double max_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.detach() - b.detach()).abs().max().item<double>();
}

// Gives every batch norm affine parameter and running statistic of `module`
// a random value, so that they are not the identity.
inline void randomize_batch_norm(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  auto randomize = [](const std::string& name, torch::Tensor& t) {
    const bool norm = name.find("bn") != std::string::npos || name.find("running") != std::string::npos;
    if (!norm) return;
    if (name.ends_with("bn.weight") || name.ends_with("bn_weight") || name.ends_with("running_var")) {
      t.uniform_(0.5, 1.5);
    } else if (name.ends_with("bias") || name.ends_with("running_mean")) {
      t.normal_(0.0, 0.2);
    }
  };
  for (auto& item : module.named_parameters()) randomize(item.key(), item.value());
  for (auto& item : module.named_buffers()) randomize(item.key(), item.value());
}

// Detached copies of the gradients of `tensors` (undefined where none).
inline std::vector<torch::Tensor> gradients(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> result;
  for (const torch::Tensor& t : tensors) {
    result.push_back(t.grad().defined() ? t.grad().detach().clone() : torch::Tensor());
  }
  return result;
}

inline void clear_gradients(const std::vector<torch::Tensor>& tensors) {
  for (torch::Tensor t : tensors) t.mutable_grad() = torch::Tensor();
}

}  // namespace nasq::test
