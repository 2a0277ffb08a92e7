// Export of a trained run for Python users: export.pt, a pickled dictionary
// that torch.load reads (tensors, architecture and bits).
#pragma once

#include <filesystem>

#include "core/export/trained_network.hpp"

namespace nasq::exporting {

// Writes RUN_DIR/export.pt from the trained network of the run: a dictionary
// {"state_dict": {name: tensor}, "architecture": [block labels],
//  "bits": {layer name: bits}, "nasq_version": str} written with
// torch::pickle_save, which Python's torch.load reads. Returns the path.
std::filesystem::path export_pickle(const TrainedNetwork& trained,
                                    const std::filesystem::path& run_directory);

}  // namespace nasq::exporting
