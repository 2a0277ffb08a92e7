// Rows of labeled block boxes joined by arrows, as inline SVG.
#include "core/report/block_diagram.hpp"

#include <algorithm>
#include <sstream>

#include "core/report/svg_chart.hpp"

namespace nasq::report {
namespace {

// Layout, in pixels.
constexpr int kBoxWidth = 150;
constexpr int kBoxHeight = 46;
constexpr int kColumnGap = 28;
constexpr int kRowGap = 36;
constexpr int kMargin = 14;
constexpr std::size_t kLabelMaxChars = 22;

struct Point {
  int x = 0;
  int y = 0;
};

Point box_corner(std::size_t index, int per_row) {
  const int column = static_cast<int>(index) % per_row;
  const int row = static_cast<int>(index) / per_row;
  return {kMargin + column * (kBoxWidth + kColumnGap), kMargin + row * (kBoxHeight + kRowGap)};
}

// An arrowhead at `tip`, pointing right (dx = 1) or down (dy = 1).
void write_arrowhead(std::ostringstream& svg, Point tip, int dx, int dy) {
  const int back_x = tip.x - 7 * dx;
  const int back_y = tip.y - 7 * dy;
  svg << "<polygon points=\"" << tip.x << "," << tip.y << " " << back_x - 4 * dy << ","
      << back_y - 4 * dx << " " << back_x + 4 * dy << "," << back_y + 4 * dx
      << "\" fill=\"#555555\"/>\n";
}

// The arrow from box `index` to the next one: straight within a row, and
// down, left and down again from the end of a row to the start of the next.
void write_arrow(std::ostringstream& svg, std::size_t index, int per_row) {
  const Point from = box_corner(index, per_row);
  const Point to = box_corner(index + 1, per_row);
  if (to.y == from.y) {
    const Point tip{to.x - 1, from.y + kBoxHeight / 2};
    svg << "<line x1=\"" << from.x + kBoxWidth << "\" y1=\"" << tip.y << "\" x2=\"" << tip.x - 6
        << "\" y2=\"" << tip.y << "\" stroke=\"#555555\" stroke-width=\"1.5\"/>\n";
    write_arrowhead(svg, tip, 1, 0);
    return;
  }
  const int start_x = from.x + kBoxWidth / 2;
  const int end_x = to.x + kBoxWidth / 2;
  const int middle_y = from.y + kBoxHeight + kRowGap / 2;
  const Point tip{end_x, to.y - 1};
  svg << "<polyline fill=\"none\" stroke=\"#555555\" stroke-width=\"1.5\" points=\"" << start_x
      << "," << from.y + kBoxHeight << " " << start_x << "," << middle_y << " " << end_x << ","
      << middle_y << " " << end_x << "," << tip.y - 6 << "\"/>\n";
  write_arrowhead(svg, tip, 0, 1);
}

void write_box(std::ostringstream& svg, const std::string& label, std::size_t index, int per_row) {
  const Point corner = box_corner(index, per_row);
  const bool skipped = label == "skip";
  const int center = corner.x + kBoxWidth / 2;
  svg << "<g class=\"block" << (skipped ? " skipped" : "") << "\">\n"
      << "<rect x=\"" << corner.x << "\" y=\"" << corner.y << "\" width=\"" << kBoxWidth
      << "\" height=\"" << kBoxHeight << "\" rx=\"6\" "
      << (skipped ? "fill=\"#f2f2f2\" stroke=\"#999999\" stroke-dasharray=\"6,4\""
                  : "fill=\"#e8f0fb\" stroke=\"#2b5797\"")
      << "><title>block " << index << ": " << escape_xml(label) << "</title></rect>\n"
      << "<text x=\"" << center << "\" y=\"" << corner.y + 17
      << "\" text-anchor=\"middle\" font-size=\"11\" fill=\"" << (skipped ? "#999999" : "#555555")
      << "\">block " << index << "</text>\n"
      << "<text x=\"" << center << "\" y=\"" << corner.y + 35
      << "\" text-anchor=\"middle\" font-size=\"13\" fill=\"" << (skipped ? "#999999" : "#111111")
      << "\">" << escape_xml(shorten_text(label, kLabelMaxChars)) << "</text>\n"
      << "</g>\n";
}

}  // namespace

std::string block_diagram(const std::vector<std::string>& labels, int boxes_per_row) {
  const int count = static_cast<int>(labels.size());
  const int per_row = std::clamp(count, 1, std::max(boxes_per_row, 1));
  const int rows = std::max(1, (count + per_row - 1) / per_row);
  const int width = 2 * kMargin + per_row * kBoxWidth + (per_row - 1) * kColumnGap;
  const int height = 2 * kMargin + rows * kBoxHeight + (rows - 1) * kRowGap;

  std::ostringstream svg;
  svg << "<svg class=\"blocks\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << " " << height
      << "\" role=\"img\" aria-label=\"architecture blocks\" "
         "font-family=\"Helvetica, Arial, sans-serif\">\n"
      << "<title>architecture blocks</title>\n";
  if (labels.empty()) {
    svg << "<text x=\"" << width / 2 << "\" y=\"" << height / 2 + 4
        << "\" text-anchor=\"middle\" fill=\"#777777\">no blocks</text>\n";
  }
  for (std::size_t i = 0; i + 1 < labels.size(); ++i) write_arrow(svg, i, per_row);
  for (std::size_t i = 0; i < labels.size(); ++i) write_box(svg, labels[i], i, per_row);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace nasq::report
