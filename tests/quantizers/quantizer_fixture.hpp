// Test helper: loads the built quantizer plugins through the real loader and
// creates configured quantizers and ops from a stack written inline.
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
#include "nasq/sdk/quantizer.hpp"

namespace nasq::test {

inline const std::filesystem::path kQuantizerPluginDir = NASQ_PLUGIN_OUTPUT_DIR;
inline const std::vector<std::string> kQuantizerNames = {"linear", "pact", "lsq"};

// One quantizer created from `stack_text` (a TOML stack, such as
// "[quantizer.linear]\nmomentum = 0.5\n"). Declare ops after the fixture, so
// they are destroyed while the plugin library is still loaded.
struct QuantizerFixture {
  QuantizerFixture(const std::string& name, const std::string& stack_text = "")
      : stack(Stack::parse(stack_text, "inline.toml")) {
    for (const auto& plugin : kQuantizerNames) {
      registry.load_file(kQuantizerPluginDir / ("libnasq_quantizer_" + plugin + ".so"));
    }
    stack.validate_core();
    factory = std::make_unique<PluginFactory>(stack, registry);
    quantizer = create_quantizer(*factory, name);
  }

  std::shared_ptr<sdk::QuantizerOp> op(const sdk::QuantizerSite& site) const {
    return quantizer->make_op(site);
  }

  PluginRegistry registry;
  Stack stack;
  std::unique_ptr<PluginFactory> factory;
  std::shared_ptr<sdk::Quantizer> quantizer;
};

inline sdk::QuantizerSite weight_site(std::vector<int> bits, std::int64_t channels = 0) {
  sdk::QuantizerSite site;
  site.name = "stage1.block0.expand.weight";
  site.role = sdk::TensorRole::weight;
  site.channels = channels;
  site.bit_choices = std::move(bits);
  return site;
}

inline sdk::QuantizerSite activation_site(std::vector<int> bits, bool non_negative) {
  sdk::QuantizerSite site;
  site.name = "stage1.block0.expand.input";
  site.role = sdk::TensorRole::activation;
  site.non_negative = non_negative;
  site.bit_choices = std::move(bits);
  return site;
}

// A float32 CPU tensor holding `values`.
inline torch::Tensor tensor_of(const std::vector<float>& values) {
  return torch::tensor(values, torch::kFloat);
}

// A float32 leaf tensor holding `values` that records its gradient.
inline torch::Tensor leaf_of(const std::vector<float>& values) {
  return tensor_of(values).requires_grad_(true);
}

inline std::vector<float> values_of(const torch::Tensor& tensor) {
  const torch::Tensor flat = tensor.detach().to(torch::kFloat).contiguous().flatten();
  return std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
}

inline std::int64_t distinct_values(const torch::Tensor& tensor) {
  return std::get<0>(torch::_unique(tensor.detach().flatten())).numel();
}

// Returns the module's parameter called `name`, or an undefined tensor when absent.
inline torch::Tensor parameter_named(const torch::nn::Module& module, const std::string& name) {
  for (const auto& item : module.named_parameters()) {
    if (item.key() == name) return item.value();
  }
  return {};
}

// Returns the module's buffer called `name`, or an undefined tensor when absent.
inline torch::Tensor buffer_named(const torch::nn::Module& module, const std::string& name) {
  for (const auto& item : module.named_buffers()) {
    if (item.key() == name) return item.value();
  }
  return {};
}

}  // namespace nasq::test
