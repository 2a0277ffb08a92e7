// Renders `nasq report` pages in headless Chromium: no console messages, and
// the charts are present in the rendered DOM.
//
// Chromium 156 with --enable-logging=stderr prints every console message
// (console.log and console.error alike, and uncaught exceptions) as a line
// with ":CONSOLE" in its prefix, such as
//   [10330:10330:1204/220214.127428:INFO:CONSOLE:2] "deliberate", source: file:///...
// without the console level, so any such line fails the test: the report has
// no scripts. A negative control shows that the check catches errors.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "tests/report/run_fixtures.hpp"

using nasq::test::count_of;

namespace fs = std::filesystem;

namespace {

// Chromium: $NASQ_CHROMIUM when set, else Debian's /usr/bin/chromium.
std::string chromium_path() {
  const char* configured = std::getenv("NASQ_CHROMIUM");
  return configured != nullptr && *configured != '\0' ? configured : "/usr/bin/chromium";
}

struct Rendering {
  int exit_code = -1;
  std::string dom;
  std::vector<std::string> console;  // stderr lines of console messages
  std::string stderr_text;
};

// Loads `page` in a fresh profile, dumps the DOM and writes a screenshot of
// a `width` x `height` window to `screenshot`.
Rendering render(const fs::path& page, const fs::path& screenshot, int width, int height) {
  static int profiles = 0;
  const fs::path profile = fs::absolute("chromium-profile-" + std::to_string(profiles++));
  fs::remove_all(profile);
  fs::create_directories(profile);
  const std::string command =
      "timeout 60 '" + chromium_path() +
      "' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir='" +
      profile.string() +
      "' --enable-logging=stderr --v=0 --hide-scrollbars "
      "--window-size=" +
      std::to_string(width) + "," + std::to_string(height) + " --screenshot='" +
      fs::absolute(screenshot).string() + "' --dump-dom 'file://" + fs::absolute(page).string() +
      "'";
  const nasq::test::CommandResult result = nasq::test::run_command(command);
  Rendering rendering{result.exit_code, result.out, {}, result.err};
  std::istringstream lines(result.err);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find(":CONSOLE") != std::string::npos) rendering.console.push_back(line);
  }
  fs::remove_all(profile);
  return rendering;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

void require_chromium() {
  const std::string path = chromium_path();
  REQUIRE_MESSAGE(fs::exists(path),
                  "Chromium not found at "
                      << path
                      << "; install it with scripts/install-deps.sh --test, or set "
                         "NASQ_CHROMIUM to its path");
}

}  // namespace

TEST_CASE("chromium console check catches errors") {
  require_chromium();
  nasq::test::write_text("negative-control.html",
                         "<!DOCTYPE html><html><body><svg width=\"10\" height=\"10\"><rect "
                         "width=\"5\" height=\"5\"/></svg><script>console.error('deliberate "
                         "error'); undefined_function();</script></body></html>");
  const Rendering rendering = render("negative-control.html", "negative-control.png", 200, 200);
  CHECK(rendering.exit_code == 0);
  REQUIRE_MESSAGE(rendering.console.size() == 2, rendering.stderr_text);
  CHECK(rendering.console[0].find("deliberate error") != std::string::npos);
  CHECK(rendering.console[1].find("undefined_function is not defined") != std::string::npos);
  CHECK(count_of(rendering.dom, "<svg") == 1);
}

TEST_CASE("chromium renders one run report") {
  require_chromium();
  nasq::test::RunFixture run;
  run.provenance_note = "<script>console.error('injected')</script>";
  nasq::test::write_run("one-run", run);
  REQUIRE(nasq::test::run_command(nasq::test::nasq_command() + " report one-run").exit_code == 0);

  const Rendering rendering = render("one-run/report.html", "one-run.png", 1360, 4200);
  CHECK(rendering.exit_code == 0);
  CHECK_MESSAGE(rendering.console.empty(), joined(rendering.console));
  CHECK(count_of(rendering.dom, "<svg") == 12);
  CHECK(count_of(rendering.dom, "<table") == 2);
  // Polylines: search loss 3 (the validation loss is split at its NaN),
  // accuracy 2, temperature 1, energy cost 3, entropy 5, skip probability 2,
  // training 2 + 2 + 1, and the turn between the two rows of blocks.
  CHECK(count_of(rendering.dom, "<polyline") == 22);
  // Rects: 12 blocks, 8 energy and 8 latency bars, 6 warm-up bands.
  CHECK(count_of(rendering.dom, "<rect") == 34);
  // Circles: the legends of layer kinds (conv, depthwise, fc) in both bar charts.
  CHECK(count_of(rendering.dom, "<circle") == 6);
  CHECK(rendering.dom.find("&lt;script&gt;") != std::string::npos);
  CHECK(fs::file_size("one-run.png") > 10000);
}

TEST_CASE("chromium renders a comparison report") {
  require_chromium();
  std::string arguments;
  for (const auto& directory : nasq::test::write_sweep("sweep"))
    arguments += directory.string() + " ";
  REQUIRE(nasq::test::run_command(nasq::test::nasq_command() + " report " + arguments +
                                  "--out sweep-report")
              .exit_code == 0);

  const Rendering rendering = render("sweep-report/report.html", "sweep.png", 1360, 1300);
  CHECK(rendering.exit_code == 0);
  CHECK_MESSAGE(rendering.console.empty(), joined(rendering.console));
  CHECK(count_of(rendering.dom, "<svg") == 1);
  CHECK(count_of(rendering.dom, "<table") == 2);
  CHECK(count_of(rendering.dom, "<circle") == 5 + 2);  // runs and legend dots
  CHECK(count_of(rendering.dom, "<polyline") == 1);    // the Pareto front
  CHECK(fs::file_size("sweep.png") > 10000);
}
