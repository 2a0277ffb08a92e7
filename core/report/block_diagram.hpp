// An inline SVG drawing of an architecture's MB blocks from their labels.
#pragma once

#include <string>
#include <vector>

namespace nasq::report {

// Draws one box per block, numbered from 0 as in arch.json, in rows of
// `boxes_per_row` joined by arrows. Each box shows the block's label, such as
// "MB6 5x5 [4,2]" (expansion, kernel, bottleneck and depthwise bits). A
// block labeled "skip" is dashed and grey. Labels are escaped. With no labels the
// drawing shows the text "no blocks".
std::string block_diagram(const std::vector<std::string>& labels, int boxes_per_row = 6);

}  // namespace nasq::report
