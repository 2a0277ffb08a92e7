// DOT and SVG renderings of an architecture's chain of boxes.
#include "core/space/architecture_drawing.hpp"

#include <sstream>

namespace nasq::space {
namespace {

// SVG layout, in pixels.
constexpr int kBoxWidth = 300;
constexpr int kBoxHeight = 44;
constexpr int kGap = 22;
constexpr int kMargin = 20;

std::string side(std::int64_t size) { return std::to_string(size) + "x" + std::to_string(size); }

std::string block_detail(const BlockSlot& slot) {
  std::string detail = std::to_string(slot.input_channels) + " -> " +
                       std::to_string(slot.output_channels) + " ch, " + side(slot.input_size);
  if (slot.output_size != slot.input_size) detail += " -> " + side(slot.output_size);
  return detail;
}

std::string dot_escape(const std::string& text) {
  std::string escaped;
  for (const char c : text) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

std::string xml_escape(const std::string& text) {
  std::string escaped;
  for (const char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

void write_svg_box(std::ostringstream& svg, const DrawingBox& box, int top) {
  const int center = kMargin + kBoxWidth / 2;
  svg << "  <g id=\"" << xml_escape(box.id) << "\">\n"
      << "    <rect x=\"" << kMargin << "\" y=\"" << top << "\" width=\"" << kBoxWidth
      << "\" height=\"" << kBoxHeight << "\" rx=\"6\" "
      << (box.skipped ? "fill=\"#f2f2f2\" stroke=\"#999999\" stroke-dasharray=\"6,4\""
                      : "fill=\"#e8f0fb\" stroke=\"#2b5797\"")
      << "/>\n"
      << "    <text x=\"" << center << "\" y=\"" << top + 18 << "\" class=\"title"
      << (box.skipped ? " skipped" : "") << "\">" << xml_escape(box.title) << "</text>\n"
      << "    <text x=\"" << center << "\" y=\"" << top + 35 << "\" class=\"detail"
      << (box.skipped ? " skipped" : "") << "\">" << xml_escape(box.detail) << "</text>\n"
      << "  </g>\n";
}

}  // namespace

std::vector<DrawingBox> drawing_boxes(const SearchSpace& space, const Architecture& architecture) {
  validate_architecture(space, architecture);
  const SpaceOptions& options = space.options();
  std::vector<DrawingBox> boxes;
  boxes.push_back({"stem", "stem: conv 3x3 s" + std::to_string(options.stem_stride) + " [8]",
                   std::to_string(options.input_channels) + " -> " +
                       std::to_string(options.stem_channels) + " ch, " +
                       side(options.input_size) + " -> " + side(space.stem_output_size()),
                   false});
  for (const BlockSlot& slot : space.blocks()) {
    const BlockChoice& choice = architecture.blocks[static_cast<std::size_t>(slot.index)];
    const std::string id = "block" + std::to_string(slot.index);
    boxes.push_back({id, id + ": " + block_label(choice), block_detail(slot), choice.skip});
  }
  boxes.push_back({"head", "head: conv 1x1 [8]",
                   std::to_string(space.head_input_channels()) + " -> " +
                       std::to_string(options.head_channels) + " ch, " +
                       side(space.head_input_size()),
                   false});
  boxes.push_back({"pool", "global average pool",
                   std::to_string(options.head_channels) + " ch, " +
                       side(space.head_input_size()) + " -> 1x1",
                   false});
  boxes.push_back({"fc", "fc [8]",
                   std::to_string(options.head_channels) + " -> " +
                       std::to_string(options.num_classes) + " classes",
                   false});
  return boxes;
}

std::string architecture_dot(const SearchSpace& space, const Architecture& architecture) {
  const std::vector<DrawingBox> boxes = drawing_boxes(space, architecture);
  std::ostringstream dot;
  dot << "digraph architecture {\n"
      << "  rankdir=TB;\n"
      << "  node [shape=box, style=\"rounded\", fontname=\"Helvetica\"];\n";
  for (const DrawingBox& box : boxes) {
    dot << "  " << box.id << " [label=\"" << dot_escape(box.title) << "\\n"
        << dot_escape(box.detail) << "\"";
    if (box.skipped) dot << ", style=\"rounded,dashed\", color=grey, fontcolor=grey";
    dot << "];\n";
  }
  for (std::size_t i = 1; i < boxes.size(); ++i) {
    dot << "  " << boxes[i - 1].id << " -> " << boxes[i].id << ";\n";
  }
  dot << "}\n";
  return dot.str();
}

std::string architecture_svg(const SearchSpace& space, const Architecture& architecture) {
  const std::vector<DrawingBox> boxes = drawing_boxes(space, architecture);
  const int count = static_cast<int>(boxes.size());
  const int width = kBoxWidth + 2 * kMargin;
  const int height = 2 * kMargin + count * kBoxHeight + (count - 1) * kGap;
  const int center = kMargin + kBoxWidth / 2;

  std::ostringstream svg;
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\""
      << height << "\" viewBox=\"0 0 " << width << " " << height << "\">\n"
      << "  <defs>\n"
      << "    <marker id=\"arrow\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" "
         "orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#555555\"/></marker>\n"
      << "    <style>text { font-family: Helvetica, Arial, sans-serif; text-anchor: middle; } "
         ".title { font-size: 13px; fill: #111111; } .detail { font-size: 11px; fill: #444444; } "
         ".skipped { fill: #999999; }</style>\n"
      << "  </defs>\n";
  for (int i = 0; i < count; ++i) {
    const int top = kMargin + i * (kBoxHeight + kGap);
    if (i > 0) {
      svg << "  <line x1=\"" << center << "\" y1=\"" << top - kGap << "\" x2=\"" << center
          << "\" y2=\"" << top - 2 << "\" stroke=\"#555555\" marker-end=\"url(#arrow)\"/>\n";
    }
    write_svg_box(svg, boxes[static_cast<std::size_t>(i)], top);
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace nasq::space
