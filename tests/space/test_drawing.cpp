// DOT and SVG drawings of an architecture: structure and well-formedness.
#include <doctest/doctest.h>

#include <algorithm>

#include "core/space/architecture_drawing.hpp"

using nasq::space::Architecture;
using nasq::space::SearchSpace;

namespace {

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

// Checks that every start tag has its end tag, in order; returns the first
// problem, or "" when the tags balance. Handles <?...?>, comments and
// self-closing tags, which is all the drawing writes.
std::string tag_balance_error(const std::string& xml) {
  std::vector<std::string> open;
  std::size_t at = 0;
  while ((at = xml.find('<', at)) != std::string::npos) {
    const std::size_t end = xml.find('>', at);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(at);
    const std::string tag = xml.substr(at + 1, end - at - 1);
    at = end + 1;
    if (tag.empty()) return "empty tag";
    if (tag[0] == '?' || tag[0] == '!') continue;
    if (tag.back() == '/') continue;
    const std::string name = tag.substr(tag[0] == '/' ? 1 : 0, tag.find_first_of(" \t\n") -
                                                                    (tag[0] == '/' ? 1 : 0));
    if (tag[0] != '/') {
      open.push_back(name);
      continue;
    }
    if (open.empty() || open.back() != name) return "unexpected </" + name + ">";
    open.pop_back();
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

SearchSpace fashion_space() { return SearchSpace(nasq::space::preset_options("fashion-mnist")); }

Architecture mixed_architecture(const SearchSpace& space) {
  Architecture architecture = nasq::space::largest_architecture(space);
  architecture.blocks[0] = {false, 6, 5, 4, 2};
  architecture.blocks[2] = {true, 1, 3, 2, 2};
  architecture.blocks[6] = {true, 1, 3, 2, 2};
  return architecture;
}

}  // namespace

TEST_CASE("drawing boxes") {
  const SearchSpace space = fashion_space();
  const auto boxes = nasq::space::drawing_boxes(space, mixed_architecture(space));
  REQUIRE(boxes.size() == space.blocks().size() + 4);
  CHECK(boxes.front().id == "stem");
  CHECK(boxes[1].title == "block0: MB6 5x5 [4,2]");
  CHECK(boxes[1].detail == "16 -> 16 ch, 28x28");
  CHECK(boxes[2].detail == "16 -> 24 ch, 28x28 -> 14x14");
  CHECK(boxes[3].title == "block2: skip");
  CHECK(boxes[3].skipped);
  CHECK_FALSE(boxes[1].skipped);
  CHECK(boxes.back().id == "fc");
  CHECK(boxes.back().detail == "256 -> 10 classes");
}

TEST_CASE("dot output is a chain") {
  const SearchSpace space = fashion_space();
  const std::string dot = nasq::space::architecture_dot(space, mixed_architecture(space));
  CHECK(dot.rfind("digraph architecture {", 0) == 0);
  CHECK(dot.substr(dot.size() - 2) == "}\n");
  CHECK(count_of(dot, "{") == count_of(dot, "}"));
  CHECK(count_of(dot, "[label=") == space.blocks().size() + 4);
  CHECK(count_of(dot, " -> block") + count_of(dot, " -> head") + count_of(dot, " -> pool") +
            count_of(dot, " -> fc;") ==
        space.blocks().size() + 3);
  CHECK(count_of(dot, "dashed") == 2);
  CHECK(dot.find("block0 [label=\"block0: MB6 5x5 [4,2]\\n16 -> 16 ch, 28x28\"]") !=
        std::string::npos);
  CHECK(dot.find("block2 [label=\"block2: skip") != std::string::npos);
}

TEST_CASE("svg output is well formed") {
  const SearchSpace space = fashion_space();
  const std::string svg = nasq::space::architecture_svg(space, mixed_architecture(space));
  CHECK(tag_balance_error(svg) == "");
  CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(count_of(svg, "<rect") == space.blocks().size() + 4);
  CHECK(count_of(svg, "stroke-dasharray") == 2);
  CHECK(count_of(svg, "<line") == space.blocks().size() + 3);
  // Labels are escaped: "->" must appear as "-&gt;".
  CHECK(svg.find("16 -&gt; 24 ch") != std::string::npos);
  CHECK(svg.find("MB6 5x5 [4,2]") != std::string::npos);
}

TEST_CASE("svg tag checker finds problems") {
  CHECK(tag_balance_error("<a><b></a>") == "unexpected </a>");
  CHECK(tag_balance_error("<a>") == "unclosed <a>");
  CHECK(tag_balance_error("<?xml?><a><b/></a>") == "");
}

TEST_CASE("imagenet drawing has one box per block") {
  const SearchSpace space(nasq::space::preset_options("imagenet"));
  const std::string svg =
      nasq::space::architecture_svg(space, nasq::space::smallest_architecture(space));
  CHECK(tag_balance_error(svg) == "");
  CHECK(count_of(svg, "<rect") == 26);
  CHECK(count_of(svg, "stroke-dasharray") == 15);
}
