// Loading of a run's trained network, with the checks that model.pt fits the
// network that arch.json describes.
#include "core/export/trained_network.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include <torch/torch.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/config/stack.hpp"
#include "core/plugin/torch_plugins.hpp"
#include "core/space/space_config.hpp"
#include "core/util/log.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::exporting {

std::string architecture_text(const space::Architecture& architecture) {
  std::string text;
  for (const space::BlockChoice& block : architecture.blocks) {
    if (!text.empty()) text += "; ";
    text += space::block_label(block);
  }
  return text;
}

namespace {

using ShapeMap = std::map<std::string, std::vector<std::int64_t>>;

// Adds the shape of every tensor in `archive` and its nested archives, under
// the dotted names that Module::named_parameters() and named_buffers() use.
void collect_archive_shapes(torch::serialize::InputArchive& archive, const std::string& prefix,
                            ShapeMap& shapes) {
  for (const std::string& key : archive.keys()) {
    if (prefix.empty() && key == kModelArchitectureKey) continue;
    torch::serialize::InputArchive child;
    if (archive.try_read(key, child)) {
      collect_archive_shapes(child, prefix + key + ".", shapes);
      continue;
    }
    c10::IValue value;
    if (archive.try_read(key, value) && value.isTensor()) {
      shapes[prefix + key] = value.toTensor().sizes().vec();
    }
  }
}

ShapeMap network_shapes(const model::DiscreteNetworkImpl& network) {
  ShapeMap shapes;
  for (const auto& item : network.named_parameters()) shapes[item.key()] = item.value().sizes().vec();
  for (const auto& item : network.named_buffers()) shapes[item.key()] = item.value().sizes().vec();
  return shapes;
}

std::string format_shape(const std::vector<std::int64_t>& shape) {
  std::ostringstream text;
  text << c10::IntArrayRef(shape);
  return text.str();
}

// The first difference between the tensors of model.pt and of the network,
// or "" when names and shapes agree.
std::string first_mismatch(const ShapeMap& stored, const ShapeMap& expected) {
  for (const auto& [name, shape] : expected) {
    const auto found = stored.find(name);
    if (found == stored.end()) return "it has no tensor '" + name + "'";
    if (found->second != shape) {
      return "its tensor '" + name + "' has shape " + format_shape(found->second) +
             " where the network has " + format_shape(shape);
    }
  }
  for (const auto& [name, shape] : stored) {
    if (expected.count(name) == 0) {
      return "it has a tensor '" + name + "' that the network does not have";
    }
  }
  return "";
}

}  // namespace

void load_model_file(model::DiscreteNetworkImpl& network, const std::filesystem::path& model_file,
                     const std::filesystem::path& architecture_file) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(model_file.string());
  } catch (const c10::Error& error) {
    throw sdk::Error("failed to read " + model_file.string() + ": " +
                     error.what_without_backtrace());
  }

  // Bit-widths do not change tensor shapes, so the labels that training
  // recorded (with bits) are compared too. Files written before training
  // recorded them have no labels to compare.
  torch::Tensor trained_labels;
  if (archive.try_read(kModelArchitectureKey, trained_labels)) {
    const torch::Tensor bytes = trained_labels.contiguous();
    const std::string trained(bytes.data_ptr<std::uint8_t>(),
                              bytes.data_ptr<std::uint8_t>() + bytes.numel());
    const std::string current = architecture_text(network.architecture());
    if (trained != current) {
      throw sdk::Error(model_file.string() + " was trained for the architecture \"" + trained +
                       "\", but " + architecture_file.string() + " describes \"" + current +
                       "\"; both files must come from the same run");
    }
  }
  ShapeMap stored;
  collect_archive_shapes(archive, "", stored);
  const std::string mismatch = first_mismatch(stored, network_shapes(network));
  if (!mismatch.empty()) {
    throw sdk::Error(model_file.string() + " does not match the network of " +
                     architecture_file.string() + ": " + mismatch +
                     "; both files must come from the same run and stack");
  }

  try {
    network.load(archive);
  } catch (const c10::Error& error) {
    throw sdk::Error("failed to load " + model_file.string() + " into the network of " +
                     architecture_file.string() + ": " + error.what_without_backtrace());
  }
}

// Reads {"mean": [...], "std": [...]} with one value per input channel.
data::Normalization read_normalization(const std::filesystem::path& file, std::int64_t channels) {
  std::ifstream stream(file);
  try {
    const nlohmann::json document = nlohmann::json::parse(stream);
    data::Normalization normalization{document.at("mean").get<std::vector<float>>(),
                                      document.at("std").get<std::vector<float>>()};
    if (static_cast<std::int64_t>(normalization.mean.size()) != channels ||
        static_cast<std::int64_t>(normalization.std.size()) != channels) {
      throw sdk::Error("expected " + std::to_string(channels) + " values (one per input channel) "
                       "in mean and std, found " + std::to_string(normalization.mean.size()) +
                       " and " + std::to_string(normalization.std.size()));
    }
    for (std::size_t c = 0; c < normalization.std.size(); ++c) {
      if (!std::isfinite(normalization.mean[c]) || !std::isfinite(normalization.std[c]) ||
          normalization.std[c] <= 0.0f) {
        throw sdk::Error("channel " + std::to_string(c) + " needs a finite mean and a positive "
                         "std, found mean " + std::to_string(normalization.mean[c]) + " and std " +
                         std::to_string(normalization.std[c]));
      }
    }
    return normalization;
  } catch (const std::exception& error) {
    throw sdk::Error("invalid " + file.string() + ": " + error.what() +
                     "; rerun the train stage to rewrite it");
  }
}

TrainedNetwork load_trained_network(PluginFactory& factory,
                                    const std::filesystem::path& run_directory) {
  Stack& stack = factory.stack();
  const std::filesystem::path architecture_file = run_directory / "arch.json";
  const std::filesystem::path model_file = run_directory / "model.pt";
  space::SearchSpace space = space::load_search_space(stack);
  space::Architecture architecture = space::load_architecture(space, architecture_file);
  if (!std::filesystem::exists(model_file)) {
    throw sdk::Error("cannot export " + run_directory.string() + ": " + model_file.string() +
                     " not found; run the train stage first");
  }

  std::shared_ptr<sdk::Quantizer> quantizer =
      create_quantizer(factory, stack.get_string("quantizer.plugin"));
  model::DiscreteNetwork network(space, architecture, *quantizer);
  load_model_file(*network, model_file, architecture_file);
  network->eval();
  std::optional<data::Normalization> normalization;
  const std::filesystem::path normalization_file = run_directory / "normalization.json";
  if (std::filesystem::exists(normalization_file)) {
    normalization = read_normalization(normalization_file, space.options().input_channels);
  } else {
    log_warn(normalization_file.string() + " not found, so the exports do not record the input "
             "normalization; rerun the train stage to write it");
  }
  return TrainedNetwork{std::move(space), std::move(architecture), std::move(quantizer),
                        std::move(network), std::move(normalization)};
}

}  // namespace nasq::exporting
