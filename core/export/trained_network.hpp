// The trained discrete network of a run directory (arch.json and model.pt),
// loaded for the export stage.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/data/image_set.hpp"
#include "core/model/supernet.hpp"
#include "core/plugin/host.hpp"
#include "core/space/architecture.hpp"
#include "core/space/search_space.hpp"
#include "nasq/sdk/quantizer.hpp"

namespace nasq::exporting {

struct TrainedNetwork {
  space::SearchSpace space;
  space::Architecture architecture;
  // Declared before the network, so that the network's ops are destroyed
  // while the quantizer that made them is alive.
  std::shared_ptr<sdk::Quantizer> quantizer;
  model::DiscreteNetwork network{nullptr};
  // Per-channel input normalization of training, from RUN_DIR/normalization.json;
  // empty for runs trained before that file existed.
  std::optional<data::Normalization> normalization;
};

// Key of model.pt's entry with architecture_text() of the trained network.
inline constexpr const char* kModelArchitectureKey = "nasq.architecture";

// Block labels with bits, such as "MB6 5x5 [4,2]; skip; ...".
std::string architecture_text(const space::Architecture& architecture);

// Loads model.pt into `network`. Throws sdk::Error naming both files when
// the tensors do not match the network of arch.json (a tensor missing, extra
// or of another shape), or when model.pt records another architecture.
void load_model_file(model::DiscreteNetworkImpl& network, const std::filesystem::path& model_file,
                     const std::filesystem::path& architecture_file);

// Builds the discrete network of RUN_DIR/arch.json with the stack's search
// space and quantizer, loads RUN_DIR/model.pt into it and puts it in
// evaluation mode. Throws sdk::Error naming the file when arch.json or
// model.pt is missing or unreadable, or when load_model_file() rejects
// model.pt. Also throws when normalization.json exists but is invalid.
TrainedNetwork load_trained_network(PluginFactory& factory,
                                    const std::filesystem::path& run_directory);

}  // namespace nasq::exporting
