// Drawings of an architecture as a vertical chain of boxes (stem, one box per
// MB block, head, pool, FC), in Graphviz DOT and in standalone SVG.
#pragma once

#include <string>
#include <vector>

#include "core/space/architecture.hpp"
#include "core/space/search_space.hpp"

namespace nasq::space {

// One box of the drawing.
struct DrawingBox {
  std::string id;      // "stem", "block3", "head", "pool", "fc"
  std::string title;   // "block3: MB6 5x5 [4,2]"
  std::string detail;  // shapes, such as "24 -> 32 ch, 14x14 -> 7x7"
  bool skipped = false;
};

// Returns the boxes in drawing order after validating the architecture.
std::vector<DrawingBox> drawing_boxes(const SearchSpace& space, const Architecture& architecture);

// Renders a Graphviz digraph. Skipped blocks are dashed and grey.
std::string architecture_dot(const SearchSpace& space, const Architecture& architecture);

// Renders a standalone SVG document with one <rect> per box, without
// Graphviz. Skipped blocks are dashed and grey.
std::string architecture_svg(const SearchSpace& space, const Architecture& architecture);

}  // namespace nasq::space
