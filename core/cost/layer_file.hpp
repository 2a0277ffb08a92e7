// Layer list files for `nasq cost --layers`: one layer per CSV row.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "nasq/sdk/hardware_model.hpp"

namespace nasq {

struct NamedLayer {
  std::string name;
  sdk::LayerSpec spec;
  // Depthwise mapping from the row's dw_mode column (ic1, perchannel or
  // dense), set as the hardware model's depthwise_mapping key. Empty when the
  // file has no such value, so the stack's setting applies.
  std::string dw_mode;
};

// Reads a CSV with the columns name,kind,n,h,w,c,oc,k,s,p,groups,wbits,abits
// and optionally dw_mode, im2col (0/1, default 0) and obits (default abits).
// Other columns are ignored, so the reference layers.csv reads as is. Kinds:
// conv, dwconv, gconv, fc, add, pool. Rows whose status column exists and
// does not start with "ok" are skipped. Throws sdk::Error naming file, line
// and column for anything malformed.
std::vector<NamedLayer> read_layer_file(const std::filesystem::path& file);

}  // namespace nasq
