// SVG charts and the block drawing: well-formed markup, value scaling, gaps
// for NaN, empty input and escaping.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "core/report/block_diagram.hpp"
#include "core/report/svg_chart.hpp"
#include "tests/report/run_fixtures.hpp"

using nasq::report::Bar;
using nasq::report::ChartFrame;
using nasq::report::LineSeries;
using nasq::report::ScatterPoint;
using nasq::test::count_of;

namespace {

// Checks that every start tag has its end tag, in order, and that no text
// contains a raw '<' or '&' that does not start a tag or an entity. Returns
// the first problem, or "" for well-formed markup.
std::string markup_error(const std::string& xml) {
  std::vector<std::string> open;
  std::size_t at = 0;
  while ((at = xml.find_first_of("<&", at)) != std::string::npos) {
    if (xml[at] == '&') {
      const std::size_t end = xml.find(';', at);
      if (end == std::string::npos || end - at > 6) return "bare & at " + std::to_string(at);
      at = end;
      continue;
    }
    const std::size_t end = xml.find('>', at);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(at);
    const std::string tag = xml.substr(at + 1, end - at - 1);
    at = end + 1;
    if (tag.empty() || tag.find('<') != std::string::npos) return "bad tag '" + tag + "'";
    if (tag.back() == '/') continue;
    const bool closing = tag[0] == '/';
    const std::string name =
        tag.substr(closing ? 1 : 0, tag.find_first_of(" \t\n") - (closing ? 1 : 0));
    if (!closing) {
      open.push_back(name);
      continue;
    }
    if (open.empty() || open.back() != name) return "unexpected </" + name + ">";
    open.pop_back();
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

// Returns the value of attribute `name` in the first element that starts with `element`.
std::string attribute(const std::string& svg, const std::string& element, const std::string& name) {
  const std::size_t start = svg.find(element);
  if (start == std::string::npos) return "";
  const std::size_t tag_end = svg.find('>', start);
  const std::size_t at = svg.find(" " + name + "=\"", start);
  if (at == std::string::npos || at > tag_end) return "";
  const std::size_t value = at + name.size() + 3;
  return svg.substr(value, svg.find('"', value) - value);
}

struct Point {
  double x;
  double y;
};

std::vector<Point> polyline_points(const std::string& svg) {
  std::istringstream stream(attribute(svg, "<polyline", "points"));
  std::vector<Point> points;
  std::string pair;
  while (stream >> pair) {
    const std::size_t comma = pair.find(',');
    points.push_back({std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1))});
  }
  return points;
}

const ChartFrame kFrame{"Loss", "epoch", "loss", 640, 320};

}  // namespace

TEST_CASE("escape_xml escapes markup characters") {
  CHECK(nasq::report::escape_xml("<a href=\"x\">&'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  CHECK(nasq::report::escape_xml("MB6 5x5 [4,2] \xCE\xBB") == "MB6 5x5 [4,2] \xCE\xBB");
}

TEST_CASE("shorten_text cuts at code points") {
  CHECK(nasq::report::shorten_text("abcdef", 10) == "abcdef");
  CHECK(nasq::report::shorten_text("abcdef", 4) == "abc\xE2\x80\xA6");
  CHECK(nasq::report::shorten_text("\xCE\xBB\xCE\xBB\xCE\xBB", 2) == "\xCE\xBB\xE2\x80\xA6");
}

TEST_CASE("linear scale maps domain to range") {
  const nasq::report::LinearScale scale{0.0, 10.0, 300.0, 100.0};
  CHECK(scale.map(0.0) == doctest::Approx(300.0));
  CHECK(scale.map(10.0) == doctest::Approx(100.0));
  CHECK(scale.map(5.0) == doctest::Approx(200.0));
  CHECK(scale.map(12.5) == doctest::Approx(50.0));
  const nasq::report::LinearScale flat{3.0, 3.0, 0.0, 100.0};
  CHECK(flat.map(3.0) == doctest::Approx(50.0));
}

TEST_CASE("nice ticks cover the interval") {
  CHECK(nasq::report::nice_ticks(0.0, 9.3, 5) == std::vector<double>{0, 2, 4, 6, 8, 10});
  const std::vector<double> fractions = nasq::report::nice_ticks(0.12, 0.87, 5);
  REQUIRE(fractions.size() == 6);
  CHECK(fractions.front() == doctest::Approx(0.0));
  CHECK(fractions[1] == doctest::Approx(0.2));
  CHECK(fractions.back() == doctest::Approx(1.0));
  const std::vector<double> negative = nasq::report::nice_ticks(-3.0, 7.0, 5);
  CHECK(negative.front() == doctest::Approx(-4.0));
  CHECK(negative.back() == doctest::Approx(8.0));
}

TEST_CASE("nice ticks of one value, NaN and huge values") {
  const std::vector<double> single = nasq::report::nice_ticks(5.0, 5.0, 5);
  REQUIRE(single.size() >= 2);
  CHECK(single.front() < 5.0);
  CHECK(single.back() > 5.0);
  CHECK(nasq::report::nice_ticks(NAN, 1.0, 5).empty());
  CHECK(nasq::report::nice_ticks(0.0, INFINITY, 5).empty());
  CHECK(nasq::report::nice_ticks(1e16, 1e16 + 2.0, 5) == std::vector<double>{1e16, 1e16 + 2.0});
}

TEST_CASE("format_tick uses the decimals of the step") {
  CHECK(nasq::report::format_tick(0.2, 0.2) == "0.2");
  CHECK(nasq::report::format_tick(0.25, 0.05) == "0.25");
  CHECK(nasq::report::format_tick(10.0, 5.0) == "10");
  CHECK(nasq::report::format_tick(1e-17, 0.1) == "0.0");
  CHECK(nasq::report::format_tick(-1e-17, 1.0) == "0");
  CHECK(nasq::report::format_tick(2e6, 1e6) == "2e+06");
}

TEST_CASE("line chart is well-formed svg") {
  const std::string svg = nasq::report::line_chart(
      kFrame, {{"train", {0, 1, 2}, {1.0, 0.8, 0.5}}, {"validation", {0, 1, 2}, {1.1, 0.9, 0.7}}});
  CHECK(markup_error(svg) == "");
  CHECK(svg.rfind("<svg ", 0) == 0);
  CHECK(count_of(svg, "<svg") == 1);
  CHECK(count_of(svg, "<polyline") == 2);
  CHECK(svg.find(">train</text>") != std::string::npos);
  CHECK(svg.find(">validation</text>") != std::string::npos);
  CHECK(svg.find(">epoch</text>") != std::string::npos);
  CHECK(svg.find("rotate(-90") != std::string::npos);
  CHECK(svg.find("http") == std::string::npos);
}

TEST_CASE("line chart scales values to the plot area") {
  const std::string svg = nasq::report::line_chart(kFrame, {{"s", {0, 5, 10}, {0.0, 0.5, 1.0}}});
  const std::vector<Point> points = polyline_points(svg);
  REQUIRE(points.size() == 3);
  // The y axis is drawn at the plot's left edge, from its top to its bottom.
  CHECK(svg.find("<line x1=\"64.0\" y1=\"30.0\" x2=\"64.0\" y2=\"274.0\"") != std::string::npos);
  CHECK(points[0].x == doctest::Approx(64.0));
  CHECK(points[0].y == doctest::Approx(274.0));  // y = 0 at the bottom
  CHECK(points[2].y == doctest::Approx(30.0));   // y = 1 at the top
  CHECK(points[2].x > points[0].x);
  CHECK(points[1].x == doctest::Approx((points[0].x + points[2].x) / 2));
  CHECK(points[1].y == doctest::Approx((points[0].y + points[2].y) / 2));
}

TEST_CASE("line chart leaves gaps at NaN") {
  const std::string svg = nasq::report::line_chart(
      kFrame, {{"gappy", {0, 1, 2, 3, 4, 5}, {1.0, NAN, 2.0, 3.0, INFINITY, 4.0}}});
  CHECK(markup_error(svg) == "");
  CHECK(count_of(svg, "<polyline") == 1);  // epochs 2 and 3
  CHECK(count_of(svg, "<circle") == 2);    // epochs 0 and 5 stand alone
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(svg.find("inf") == std::string::npos);
}

TEST_CASE("line chart shows no data") {
  const std::string empty = nasq::report::line_chart(kFrame, {});
  CHECK(markup_error(empty) == "");
  CHECK(empty.find(">no data</text>") != std::string::npos);

  const std::string all_nan =
      nasq::report::line_chart(kFrame, {{"val", {0, 1}, {NAN, NAN}}, {"empty", {}, {}}});
  CHECK(markup_error(all_nan) == "");
  CHECK(all_nan.find(">no data</text>") != std::string::npos);
  CHECK(all_nan.find(">val (no data)</text>") != std::string::npos);
  CHECK(all_nan.find(">empty (no data)</text>") != std::string::npos);
  CHECK(count_of(all_nan, "<polyline") == 0);
}

TEST_CASE("line chart rejects series of unequal length") {
  CHECK_THROWS_AS(nasq::report::line_chart(kFrame, {{"bad", {0, 1, 2}, {1.0, 2.0}}}),
                  std::logic_error);
}

TEST_CASE("line chart escapes text") {
  const std::string svg = nasq::report::line_chart({"a <b> & \"c\"", "x<", "y&", 640, 320},
                                                   {{"<script>", {0, 1}, {0.0, 1.0}}});
  CHECK(markup_error(svg) == "");
  CHECK(svg.find("<script>") == std::string::npos);
  CHECK(svg.find("&lt;script&gt;") != std::string::npos);
  CHECK(svg.find("a &lt;b&gt; &amp; &quot;c&quot;") != std::string::npos);
}

TEST_CASE("line chart shades a band") {
  const std::string svg =
      nasq::report::line_chart(kFrame, {{"s", {0, 1, 2, 3}, {1.0, 2.0, 3.0, 4.0}}},
                               nasq::report::XBand{0.0, 1.5, "warm-up"});
  CHECK(count_of(svg, "class=\"band\"") == 1);
  CHECK(svg.find(">warm-up</text>") != std::string::npos);
}

TEST_CASE("bar chart draws finite bars to scale") {
  const std::string svg =
      nasq::report::bar_chart({"Energy per layer", "energy (mJ)", "", 640, 0},
                              {{"conv1", 1.0, "conv"}, {"<dw>", 2.0, "conv"}, {"fc", NAN, "conv"}});
  CHECK(markup_error(svg) == "");
  CHECK(count_of(svg, "<rect") == 2);
  CHECK(svg.find("&lt;dw&gt;") != std::string::npos);
  CHECK(svg.find(">\xE2\x80\x94</text>") != std::string::npos);  // the NaN bar's value
  const double first = std::stod(attribute(svg, "<rect", "width"));
  const std::size_t second_start = svg.find("<rect", svg.find("<rect") + 1);
  const double second = std::stod(attribute(svg.substr(second_start), "<rect", "width"));
  CHECK(second == doctest::Approx(2 * first).epsilon(0.01));
}

TEST_CASE("bar chart legend lists groups") {
  const std::string one_group =
      nasq::report::bar_chart({"E", "mJ", "", 640, 0}, {{"a", 1.0, "conv"}});
  CHECK(count_of(one_group, "<circle") == 0);
  const std::string two_groups =
      nasq::report::bar_chart({"E", "mJ", "", 640, 0}, {{"a", 1.0, "conv"}, {"b", 1.0, "fc"}});
  CHECK(markup_error(two_groups) == "");
  CHECK(count_of(two_groups, "<circle") == 2);
  CHECK(two_groups.find(">fc</text>") != std::string::npos);
  const std::string none = nasq::report::bar_chart({"E", "mJ", "", 640, 0}, {});
  CHECK(none.find(">no data</text>") != std::string::npos);
}

TEST_CASE("scatter highlights and joins a subset") {
  const std::vector<ScatterPoint> points = {{0.3, 7.1, "a", true},
                                            {0.1, 11.2, "b <1>", true},
                                            {0.2, 9.0, "c", false},
                                            {NAN, 5.0, "missing", true}};
  const std::string svg = nasq::report::scatter_chart(
      {"Error", "energy (mJ)", "error (%)", 800, 400}, points, "Pareto front", "other runs");
  CHECK(markup_error(svg) == "");
  CHECK(count_of(svg, "<circle") == 3 + 2);  // finite points and two legend dots
  CHECK(count_of(svg, "class=\"front\"") == 1);
  CHECK(svg.find("b &lt;1&gt;") != std::string::npos);
  CHECK(svg.find(">missing</text>") == std::string::npos);
  CHECK(svg.find(">Pareto front</text>") != std::string::npos);
  // The front line runs in order of x: b (0.1) before a (0.3).
  const std::vector<Point> front = polyline_points(svg);
  REQUIRE(front.size() == 2);
  CHECK(front[0].x < front[1].x);
  CHECK(front[0].y < front[1].y);  // b has the larger error, drawn higher
}

TEST_CASE("scatter without finite points") {
  const std::string svg = nasq::report::scatter_chart({"E", "x", "y", 800, 400},
                                                      {{NAN, NAN, "a", false}}, "front", "other");
  CHECK(markup_error(svg) == "");
  CHECK(svg.find(">no data</text>") != std::string::npos);
}

TEST_CASE("block diagram draws one box per block") {
  const std::string svg = nasq::report::block_diagram({"MB6 5x5 [4,2]", "skip", "<MB3>"});
  CHECK(markup_error(svg) == "");
  CHECK(count_of(svg, "<rect") == 3);
  CHECK(count_of(svg, "stroke-dasharray") == 1);
  CHECK(count_of(svg, "<polygon") == 2);  // arrowheads between the boxes
  CHECK(svg.find(">MB6 5x5 [4,2]</text>") != std::string::npos);
  CHECK(svg.find("&lt;MB3&gt;") != std::string::npos);
  CHECK(svg.find(">block 2</text>") != std::string::npos);
}

TEST_CASE("block diagram wraps rows") {
  const std::string svg = nasq::report::block_diagram(nasq::test::fixture_blocks(), 6);
  CHECK(markup_error(svg) == "");
  CHECK(count_of(svg, "<rect") == 12);
  CHECK(count_of(svg, "<polyline") == 1);  // the turn from row 1 to row 2
  CHECK(count_of(svg, "<polygon") == 11);
  const std::string empty = nasq::report::block_diagram({});
  CHECK(markup_error(empty) == "");
  CHECK(empty.find(">no blocks</text>") != std::string::npos);
}
