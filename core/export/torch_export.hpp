// Export of a trained run for Python users: export.pt, a pickled dictionary
// that torch.load reads (tensors, architecture and bits).
#pragma once

#include <filesystem>

#include "core/plugin/host.hpp"

namespace nasq::exporting {

// Writes RUN_DIR/export.pt from RUN_DIR/model.pt and arch.json: a dictionary
// {"state_dict": {name: tensor}, "architecture": [block labels],
//  "bits": {layer name: bits}, "nasq_version": str} written with
// torch::pickle_save, which Python's torch.load reads. Returns the path.
std::filesystem::path export_pickle(PluginFactory& factory, const std::filesystem::path& run_directory);

}  // namespace nasq::exporting
