// Line, bar and scatter charts as inline SVG elements.
#include "core/report/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace nasq::report {
namespace {

// Series and group colors, in order of use.
const char* const kPalette[] = {"#2b5797", "#d9534f", "#3c9d5d", "#e08a1e",
                                "#7d5ba6", "#3a9bb0", "#8c6d31", "#c2467a"};
constexpr std::size_t kPaletteSize = sizeof kPalette / sizeof kPalette[0];

// Layout, in pixels.
constexpr double kTitleHeight = 30.0;
constexpr double kLeftMargin = 64.0;    // y tick labels and the y axis label
constexpr double kBottomMargin = 46.0;  // x tick labels and the x axis label
constexpr double kRightPadding = 16.0;
constexpr double kFontSize = 12.0;
constexpr double kLegendLineLength = 18.0;
constexpr double kLegendRowHeight = 18.0;
constexpr std::size_t kLegendMaxChars = 28;
constexpr std::size_t kBarLabelMaxChars = 40;
constexpr double kBarRowHeight = 20.0;
constexpr double kBarHeight = 14.0;
constexpr double kBarValueWidth = 72.0;  // room right of the longest bar for its value

const char* const kHighlightColor = "#d9534f";
const char* const kOtherColor = "#8a8a8a";

const char* color(std::size_t index) { return kPalette[index % kPaletteSize]; }

std::string px(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

std::string format_value(double value) {
  if (!std::isfinite(value)) return "\xE2\x80\x94";  // em dash
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// An estimate of the rendered width of text in the chart font.
double text_width(std::string_view text, double font_size = kFontSize) {
  return static_cast<double>(code_points(text)) * font_size * 0.6;
}

// The finite interval spanned by the values given to include().
struct Extent {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();

  void include(double value) {
    if (!std::isfinite(value)) return;
    low = std::min(low, value);
    high = std::max(high, value);
  }
  bool empty() const { return low > high; }
  // Widens the interval on both sides by `fraction` of its width.
  void pad(double fraction) {
    if (empty()) return;
    const double margin = (high - low) * fraction;
    low -= margin;
    high += margin;
  }
};

// The plot area inside the chart, in pixels.
struct PlotArea {
  double left = 0.0;
  double top = 0.0;
  double right = 0.0;
  double bottom = 0.0;
};

// One axis: its ticks and the scale from data values to pixels.
struct Axis {
  std::vector<double> ticks;
  LinearScale scale;
};

Axis make_axis(const Extent& extent, double pixel_from, double pixel_to, int intervals) {
  Axis axis;
  axis.ticks = nice_ticks(extent.low, extent.high, intervals);
  axis.scale = {axis.ticks.front(), axis.ticks.back(), pixel_from, pixel_to};
  return axis;
}

double tick_step(const std::vector<double>& ticks) {
  return ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0;
}

void open_svg(std::ostringstream& svg, double width, double height, const std::string& title) {
  svg << "<svg class=\"chart\" width=\"" << px(width) << "\" height=\"" << px(height)
      << "\" viewBox=\"0 0 " << px(width) << " " << px(height) << "\" role=\"img\" aria-label=\""
      << escape_xml(title) << "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\""
      << kFontSize << "\">\n"
      << "<title>" << escape_xml(title) << "</title>\n"
      << "<text x=\"" << px(width / 2)
      << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" "
         "font-weight=\"bold\">"
      << escape_xml(title) << "</text>\n";
}

void write_no_data(std::ostringstream& svg, const PlotArea& area) {
  svg << "<rect x=\"" << px(area.left) << "\" y=\"" << px(area.top) << "\" width=\""
      << px(area.right - area.left) << "\" height=\"" << px(area.bottom - area.top)
      << "\" fill=\"none\" stroke=\"#cccccc\"/>\n"
      << "<text x=\"" << px((area.left + area.right) / 2) << "\" y=\""
      << px((area.top + area.bottom) / 2) << "\" text-anchor=\"middle\" fill=\"#777777\">"
      << "no data</text>\n";
}

// Grid lines, tick labels and the label of the x axis.
void write_x_axis(std::ostringstream& svg, const PlotArea& area, const Axis& axis,
                  const std::string& label) {
  const double step = tick_step(axis.ticks);
  for (const double tick : axis.ticks) {
    const double x = axis.scale.map(tick);
    svg << "<line x1=\"" << px(x) << "\" y1=\"" << px(area.top) << "\" x2=\"" << px(x) << "\" y2=\""
        << px(area.bottom) << "\" stroke=\"#e4e4e4\"/>\n"
        << "<text x=\"" << px(x) << "\" y=\"" << px(area.bottom + 16)
        << "\" text-anchor=\"middle\">" << escape_xml(format_tick(tick, step)) << "</text>\n";
  }
  svg << "<line x1=\"" << px(area.left) << "\" y1=\"" << px(area.bottom) << "\" x2=\""
      << px(area.right) << "\" y2=\"" << px(area.bottom) << "\" stroke=\"#333333\"/>\n"
      << "<text x=\"" << px((area.left + area.right) / 2) << "\" y=\"" << px(area.bottom + 36)
      << "\" text-anchor=\"middle\">" << escape_xml(label) << "</text>\n";
}

// Grid lines, tick labels and the (rotated) label of the y axis.
void write_y_axis(std::ostringstream& svg, const PlotArea& area, const Axis& axis,
                  const std::string& label) {
  const double step = tick_step(axis.ticks);
  for (const double tick : axis.ticks) {
    const double y = axis.scale.map(tick);
    svg << "<line x1=\"" << px(area.left) << "\" y1=\"" << px(y) << "\" x2=\"" << px(area.right)
        << "\" y2=\"" << px(y) << "\" stroke=\"#e4e4e4\"/>\n"
        << "<text x=\"" << px(area.left - 6) << "\" y=\"" << px(y + 4) << "\" text-anchor=\"end\">"
        << escape_xml(format_tick(tick, step)) << "</text>\n";
  }
  const double middle = (area.top + area.bottom) / 2;
  svg << "<line x1=\"" << px(area.left) << "\" y1=\"" << px(area.top) << "\" x2=\"" << px(area.left)
      << "\" y2=\"" << px(area.bottom) << "\" stroke=\"#333333\"/>\n"
      << "<text x=\"14\" y=\"" << px(middle)
      << "\" text-anchor=\"middle\" transform=\"rotate(-90 14 " << px(middle) << ")\">"
      << escape_xml(label) << "</text>\n";
}

// A legend entry: a short line or a dot in `entry_color`, then the name.
struct LegendEntry {
  std::string name;
  std::string entry_color;
  bool dot = false;
  bool dashed = false;
  bool hollow = false;  // a dot drawn as a ring, as the scatter's other points
};

double legend_width(const std::vector<LegendEntry>& entries) {
  double widest = 0.0;
  for (const LegendEntry& entry : entries) {
    widest = std::max(widest, text_width(shorten_text(entry.name, kLegendMaxChars)));
  }
  return entries.empty() ? 0.0 : kLegendLineLength + 8 + widest + kRightPadding;
}

// Writes the legend as a column that starts at (left, top).
void write_legend(std::ostringstream& svg, const std::vector<LegendEntry>& entries, double left,
                  double top) {
  svg << "<g class=\"legend\">\n";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& entry = entries[i];
    const double y = top + static_cast<double>(i) * kLegendRowHeight;
    if (entry.dot) {
      svg << "<circle cx=\"" << px(left + kLegendLineLength / 2) << "\" cy=\"" << px(y) << "\" "
          << (entry.hollow ? "r=\"4\" fill=\"#ffffff\" stroke-width=\"1.5\" stroke=\""
                           : "r=\"4.5\" fill=\"")
          << entry.entry_color << "\"/>\n";
    } else {
      svg << "<line x1=\"" << px(left) << "\" y1=\"" << px(y) << "\" x2=\""
          << px(left + kLegendLineLength) << "\" y2=\"" << px(y) << "\" stroke=\""
          << entry.entry_color << "\" stroke-width=\"2.5\""
          << (entry.dashed ? " stroke-dasharray=\"5,3\"" : "") << "/>\n";
    }
    svg << "<text x=\"" << px(left + kLegendLineLength + 6) << "\" y=\"" << px(y + 4) << "\">"
        << escape_xml(shorten_text(entry.name, kLegendMaxChars)) << "</text>\n";
  }
  svg << "</g>\n";
}

bool finite_point(double x, double y) { return std::isfinite(x) && std::isfinite(y); }

void check_lengths(const LineSeries& series) {
  if (series.x.size() == series.y.size()) return;
  throw std::logic_error("line_chart: series '" + series.name + "' has " +
                         std::to_string(series.x.size()) + " x values and " +
                         std::to_string(series.y.size()) +
                         " y values. This is a bug in the caller");
}

// Writes consecutive points (in pixels) as a polyline, or a lone point as a circle.
void write_run(std::ostringstream& svg, const std::vector<std::pair<double, double>>& run,
               const char* series_color) {
  if (run.size() == 1) {
    svg << "<circle cx=\"" << px(run[0].first) << "\" cy=\"" << px(run[0].second)
        << "\" r=\"2.5\" fill=\"" << series_color << "\"/>\n";
    return;
  }
  svg << "<polyline fill=\"none\" stroke=\"" << series_color
      << "\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"";
  for (std::size_t i = 0; i < run.size(); ++i) {
    svg << (i ? " " : "") << px(run[i].first) << "," << px(run[i].second);
  }
  svg << "\"/>\n";
}

// Writes one series, split at every point that is not finite.
void write_series(std::ostringstream& svg, const LineSeries& series, const Axis& x_axis,
                  const Axis& y_axis, const char* series_color) {
  std::vector<std::pair<double, double>> run;
  for (std::size_t i = 0; i < series.x.size(); ++i) {
    if (finite_point(series.x[i], series.y[i])) {
      run.emplace_back(x_axis.scale.map(series.x[i]), y_axis.scale.map(series.y[i]));
      continue;
    }
    if (!run.empty()) write_run(svg, run, series_color);
    run.clear();
  }
  if (!run.empty()) write_run(svg, run, series_color);
}

void write_band(std::ostringstream& svg, const XBand& band, const PlotArea& area,
                const Axis& x_axis) {
  const double from = std::clamp(x_axis.scale.map(band.from), area.left, area.right);
  const double to = std::clamp(x_axis.scale.map(band.to), area.left, area.right);
  if (!(to > from)) return;
  svg << "<rect class=\"band\" x=\"" << px(from) << "\" y=\"" << px(area.top) << "\" width=\""
      << px(to - from) << "\" height=\"" << px(area.bottom - area.top) << "\" fill=\"#f1f1f1\"/>\n"
      << "<text x=\"" << px(from + 4) << "\" y=\"" << px(area.top + 14)
      << "\" fill=\"#777777\" font-size=\"11\">" << escape_xml(band.caption) << "</text>\n";
}

// Writes the group legend as one row that starts at (left, top).
void write_group_legend(std::ostringstream& svg, const std::vector<std::string>& groups,
                        double left, double top) {
  for (std::size_t g = 0; g < groups.size(); ++g) {
    write_legend(svg, {{groups[g], color(g), true}}, left, top + 6);
    left += kLegendLineLength + 6 + text_width(shorten_text(groups[g], kLegendMaxChars)) + 16;
  }
}

// Writes one bar in the row that starts at `top`: its label, its <rect> when
// the value is finite, and the value.
void write_bar(std::ostringstream& svg, const Bar& bar, double top, const PlotArea& area,
               const Axis& axis, const char* bar_color) {
  const double middle = top + kBarRowHeight / 2;
  const double zero = axis.scale.map(0.0);
  svg << "<text x=\"" << px(area.left - 6) << "\" y=\"" << px(middle + 4)
      << "\" text-anchor=\"end\">" << escape_xml(shorten_text(bar.label, kBarLabelMaxChars))
      << "</text>\n";
  double value_x = zero;
  if (std::isfinite(bar.value)) {
    const double end = axis.scale.map(bar.value);
    svg << "<rect x=\"" << px(std::min(zero, end)) << "\" y=\"" << px(middle - kBarHeight / 2)
        << "\" width=\"" << px(std::abs(end - zero)) << "\" height=\"" << px(kBarHeight)
        << "\" fill=\"" << bar_color << "\"><title>" << escape_xml(bar.label) << ": "
        << format_value(bar.value) << "</title></rect>\n";
    value_x = std::max(zero, end);
  }
  svg << "<text x=\"" << px(value_x + 4) << "\" y=\"" << px(middle + 4) << "\">"
      << format_value(bar.value) << "</text>\n";
}

// Joins the highlighted points with finite coordinates, in order of x.
void write_front_line(std::ostringstream& svg, const std::vector<ScatterPoint>& points,
                      const Axis& x_axis, const Axis& y_axis) {
  std::vector<const ScatterPoint*> front;
  for (const ScatterPoint& point : points) {
    if (point.highlighted && finite_point(point.x, point.y)) front.push_back(&point);
  }
  if (front.size() < 2) return;
  std::stable_sort(front.begin(), front.end(),
                   [](const ScatterPoint* a, const ScatterPoint* b) { return a->x < b->x; });
  svg << "<polyline class=\"front\" fill=\"none\" stroke=\"" << kHighlightColor
      << "\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\" points=\"";
  for (std::size_t i = 0; i < front.size(); ++i) {
    svg << (i ? " " : "") << px(x_axis.scale.map(front[i]->x)) << ","
        << px(y_axis.scale.map(front[i]->y));
  }
  svg << "\"/>\n";
}

// Writes a point with finite coordinates as a circle with a tooltip and its label.
void write_point(std::ostringstream& svg, const ScatterPoint& point, const Axis& x_axis,
                 const Axis& y_axis) {
  if (!finite_point(point.x, point.y)) return;
  const double x = x_axis.scale.map(point.x);
  const double y = y_axis.scale.map(point.y);
  svg << "<circle cx=\"" << px(x) << "\" cy=\"" << px(y) << "\" ";
  if (point.highlighted) {
    svg << "r=\"5\" fill=\"" << kHighlightColor << "\"";
  } else {
    svg << "r=\"4\" fill=\"#ffffff\" stroke=\"" << kOtherColor << "\" stroke-width=\"1.5\"";
  }
  svg << "><title>" << escape_xml(point.label) << ": " << format_value(point.x) << ", "
      << format_value(point.y) << "</title></circle>\n"
      << "<text x=\"" << px(x + 7) << "\" y=\"" << px(y - 7) << "\" font-size=\"11\">"
      << escape_xml(point.label) << "</text>\n";
}

}  // namespace

std::string escape_xml(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      case '\'':
        escaped += "&#39;";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

std::string shorten_text(const std::string& text, std::size_t max_chars) {
  if (code_points(text) <= max_chars) return text;
  if (max_chars == 0) return "";
  std::size_t code_point_count = 0;
  std::size_t end = 0;
  while (end < text.size()) {
    const bool starts_code_point = (static_cast<unsigned char>(text[end]) & 0xC0) != 0x80;
    if (starts_code_point && code_point_count == max_chars - 1) break;
    if (starts_code_point) ++code_point_count;
    ++end;
  }
  return text.substr(0, end) + "\xE2\x80\xA6";  // horizontal ellipsis
}

double LinearScale::map(double value) const {
  const double width = domain_max - domain_min;
  if (width == 0.0) return (range_min + range_max) / 2;
  return range_min + (value - domain_min) / width * (range_max - range_min);
}

std::vector<double> nice_ticks(double low, double high, int target_intervals) {
  if (!std::isfinite(low) || !std::isfinite(high)) return {};
  if (low > high) std::swap(low, high);
  if (low == high) {
    const double margin = low == 0.0 ? 1.0 : std::abs(low) * 0.1;
    low -= margin;
    high += margin;
  }
  const double raw_step = (high - low) / std::max(target_intervals, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw_step)));
  const double residual = raw_step / magnitude;
  const double multiple = residual <= 1.0   ? 1.0
                          : residual <= 2.0 ? 2.0
                          : residual <= 5.0 ? 5.0
                                            : 10.0;
  const double step = multiple * magnitude;

  // The 1e-9 tolerance keeps a bound that is a multiple of the step, up to
  // rounding error, from adding one more tick.
  const double first = std::floor(low / step + 1e-9);
  const double last = std::ceil(high / step - 1e-9);
  const double intervals = last - first;
  // Values far larger than their spread leave no room for distinct ticks.
  if (!(intervals >= 1.0 && intervals <= 100.0)) return {low, high};
  std::vector<double> ticks;
  for (int i = 0; i <= static_cast<int>(intervals); ++i) {
    const double tick = (first + i) * step;
    if (!ticks.empty() && !(tick > ticks.back())) return {low, high};
    ticks.push_back(std::abs(tick) < step * 1e-9 ? 0.0 : tick);
  }
  return ticks;
}

std::string format_tick(double value, double step) {
  char text[32];
  if (std::abs(value) < std::abs(step) * 1e-9) value = 0.0;
  const double magnitude = std::abs(value);
  if (magnitude >= 1e6 || (magnitude > 0.0 && magnitude < 1e-4)) {
    std::snprintf(text, sizeof text, "%.3g", value);
    return text;
  }
  const int decimals =
      step >= 1.0 || step <= 0.0 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string line_chart(const ChartFrame& frame, const std::vector<LineSeries>& series,
                       const std::optional<XBand>& band) {
  Extent x_extent;
  Extent y_extent;
  std::vector<LegendEntry> legend;
  for (std::size_t s = 0; s < series.size(); ++s) {
    check_lengths(series[s]);
    bool has_data = false;
    for (std::size_t i = 0; i < series[s].x.size(); ++i) {
      if (!finite_point(series[s].x[i], series[s].y[i])) continue;
      x_extent.include(series[s].x[i]);
      y_extent.include(series[s].y[i]);
      has_data = true;
    }
    legend.push_back({series[s].name + (has_data ? "" : " (no data)"), color(s)});
  }

  const double width = frame.width;
  const double height = frame.height;
  const PlotArea area{kLeftMargin, kTitleHeight, width - legend_width(legend) - kRightPadding,
                      height - kBottomMargin};
  std::ostringstream svg;
  open_svg(svg, width, height, frame.title);
  if (x_extent.empty()) {
    write_no_data(svg, area);
  } else {
    if (frame.x_range) {
      x_extent.include(frame.x_range->first);
      x_extent.include(frame.x_range->second);
    }
    const Axis x_axis = make_axis(x_extent, area.left, area.right, 6);
    const Axis y_axis = make_axis(y_extent, area.bottom, area.top, 5);
    if (band) write_band(svg, *band, area, x_axis);
    write_x_axis(svg, area, x_axis, frame.x_label);
    write_y_axis(svg, area, y_axis, frame.y_label);
    for (std::size_t s = 0; s < series.size(); ++s) {
      write_series(svg, series[s], x_axis, y_axis, color(s));
    }
  }
  write_legend(svg, legend, area.right + kRightPadding, area.top + 6);
  svg << "</svg>\n";
  return svg.str();
}

std::string bar_chart(const ChartFrame& frame, const std::vector<Bar>& bars) {
  Extent extent;
  extent.include(0.0);
  double widest_label = 0.0;
  std::vector<std::string> groups;
  for (const Bar& bar : bars) {
    extent.include(bar.value);
    widest_label = std::max(widest_label, text_width(shorten_text(bar.label, kBarLabelMaxChars)));
    if (std::find(groups.begin(), groups.end(), bar.group) == groups.end()) {
      groups.push_back(bar.group);
    }
  }
  const double legend_height = groups.size() > 1 ? kLegendRowHeight : 0.0;
  const double rows_height = std::max(static_cast<double>(bars.size()), 1.0) * kBarRowHeight;
  const double width = frame.width;
  const double height = kTitleHeight + legend_height + rows_height + kBottomMargin + 4;
  const double top = kTitleHeight + legend_height + 4;
  const PlotArea area{std::max(widest_label + 12, kLeftMargin), top, width - kBarValueWidth,
                      top + rows_height};

  std::ostringstream svg;
  open_svg(svg, width, height, frame.title);
  if (groups.size() > 1) write_group_legend(svg, groups, area.left, kTitleHeight + 4);
  if (bars.empty()) {
    write_no_data(svg, area);
  } else {
    const Axis axis = make_axis(extent, area.left, area.right, 5);
    write_x_axis(svg, area, axis, frame.x_label);
    for (std::size_t i = 0; i < bars.size(); ++i) {
      const std::size_t group = static_cast<std::size_t>(
          std::find(groups.begin(), groups.end(), bars[i].group) - groups.begin());
      write_bar(svg, bars[i], area.top + static_cast<double>(i) * kBarRowHeight, area, axis,
                color(group));
    }
  }
  svg << "</svg>\n";
  return svg.str();
}

std::string scatter_chart(const ChartFrame& frame, const std::vector<ScatterPoint>& points,
                          const std::string& highlighted_name, const std::string& other_name) {
  Extent x_extent;
  Extent y_extent;
  for (const ScatterPoint& point : points) {
    if (!finite_point(point.x, point.y)) continue;
    x_extent.include(point.x);
    y_extent.include(point.y);
  }
  // A margin of 5 % keeps points and their labels off the axes.
  x_extent.pad(0.05);
  y_extent.pad(0.05);
  const std::vector<LegendEntry> legend = {{highlighted_name, kHighlightColor, true},
                                           {other_name, kOtherColor, true, false, true}};
  const double width = frame.width;
  const double height = frame.height;
  const PlotArea area{kLeftMargin, kTitleHeight, width - legend_width(legend) - kRightPadding,
                      height - kBottomMargin};

  std::ostringstream svg;
  open_svg(svg, width, height, frame.title);
  if (x_extent.empty()) {
    write_no_data(svg, area);
  } else {
    const Axis x_axis = make_axis(x_extent, area.left, area.right, 6);
    const Axis y_axis = make_axis(y_extent, area.bottom, area.top, 5);
    write_x_axis(svg, area, x_axis, frame.x_label);
    write_y_axis(svg, area, y_axis, frame.y_label);
    write_front_line(svg, points, x_axis, y_axis);
    for (const ScatterPoint& point : points) write_point(svg, point, x_axis, y_axis);
  }
  write_legend(svg, legend, area.right + kRightPadding, area.top + 6);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace nasq::report
