// Inline SVG charts for HTML reports: line charts with several series,
// horizontal bar charts and scatter plots with a highlighted subset.
//
// Each function returns one <svg> element without an XML declaration or
// namespace attribute, meant to sit inside an HTML5 document (the HTML parser
// puts it in the SVG namespace). Every text taken from the arguments is
// escaped. NaN and infinite values are skipped, and a chart without any
// finite value shows "no data". Coordinates are in pixels, with y growing
// downwards as in SVG.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nasq::report {

// Escapes &, <, >, " and ' so that `text` is safe in XML or HTML text and in
// quoted attribute values.
std::string escape_xml(std::string_view text);

// Shortens UTF-8 text to at most `max_chars` code points, the last of them an
// ellipsis when text was cut.
std::string shorten_text(const std::string& text, std::size_t max_chars);

// Linear map of the interval [domain_min, domain_max] onto
// [range_min, range_max]. A domain of zero width maps every value to the
// middle of the range.
struct LinearScale {
  double domain_min = 0.0;
  double domain_max = 1.0;
  double range_min = 0.0;
  double range_max = 1.0;

  double map(double value) const;
};

// Axis tick values: multiples of a step of 1, 2 or 5 times a power of ten,
// from the largest multiple <= low to the smallest multiple >= high, with
// about `target_intervals` intervals. Returns {} when low or high is not
// finite, and {low, high} when the values are too large for their spread to
// give distinct ticks. When low == high the interval is widened around the
// value first.
std::vector<double> nice_ticks(double low, double high, int target_intervals = 5);

// Formats a tick value with as many decimals as the tick step needs
// ("0.25", "10"), and in exponent form for very large or small values.
std::string format_tick(double value, double step);

// Title, axis labels and size of a chart.
struct ChartFrame {
  std::string title;
  std::string x_label;
  std::string y_label;
  int width = 640;   // pixels
  int height = 320;  // pixels, ignored by bar charts, which grow with the bar count
  // An x interval that a line chart's axis covers even where no series has
  // a value, such as all epochs of a run, so that charts of one run align.
  std::optional<std::pair<double, double>> x_range = std::nullopt;
};

// One line of a line chart. `x` and `y` have the same length. A NaN or
// infinite y (or x) leaves a gap in the line.
struct LineSeries {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
};

// A shaded interval of the x axis with a caption, such as warm-up epochs.
struct XBand {
  double from = 0.0;
  double to = 0.0;
  std::string caption;
};

// Draws one <polyline> per run of consecutive finite points of each series
// and a <circle> for a point that has no finite neighbor, with ticks on both
// axes and a legend that lists every series ("(no data)" after a series
// without finite points). Throws std::logic_error when a series has more x
// than y values or the reverse, which is a bug in the caller.
std::string line_chart(const ChartFrame& frame, const std::vector<LineSeries>& series,
                       const std::optional<XBand>& band = std::nullopt);

// One bar of a bar chart. Bars of the same `group` share a color, and the
// legend lists the groups when there is more than one.
struct Bar {
  std::string label;
  double value = 0.0;
  std::string group;
};

// Draws horizontal bars, one <rect> per bar with a finite value, labeled
// with `label` on the left and the value on the right. The value axis starts
// at zero (or at the smallest value when one is negative). The chart height
// grows with the bar count, and frame.height is ignored.
std::string bar_chart(const ChartFrame& frame, const std::vector<Bar>& bars);

// One point of a scatter plot.
struct ScatterPoint {
  double x = 0.0;
  double y = 0.0;
  std::string label;  // written next to the point
  bool highlighted = false;
};

// Draws each point with a finite x and y as a <circle> with its label.
// Highlighted points are filled and joined, in order of x, by a dashed
// <polyline>. The legend names the highlighted points `highlighted_name` and
// the others `other_name`.
std::string scatter_chart(const ChartFrame& frame, const std::vector<ScatterPoint>& points,
                          const std::string& highlighted_name, const std::string& other_name);

}  // namespace nasq::report
