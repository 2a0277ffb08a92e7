// Runs `nasq report` on fixture run directories and checks the HTML and the
// errors for bad input.
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/report/run_fixtures.hpp"

using nasq::test::count_of;
using nasq::test::read_text;
using nasq::test::run_command;

namespace fs = std::filesystem;

namespace {

nasq::test::CommandResult report(const std::string& arguments) {
  return run_command(nasq::test::nasq_command() + " report " + arguments);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Text of the first <table> of class `css_class`, or "".
std::string table(const std::string& html, const std::string& css_class) {
  const std::size_t start = html.find("<table class=\"" + css_class + "\">");
  if (start == std::string::npos) return "";
  return html.substr(start, html.find("</table>", start) - start);
}

}  // namespace

TEST_CASE("report of one run") {
  nasq::test::RunFixture run;
  run.provenance_note = "<script>console.error('injected')</script> & \"quoted\"";
  nasq::test::write_run("one-run", run);
  const auto result = report("one-run");
  CHECK(result.exit_code == 0);
  CHECK(contains(result.err, "one-run/report.html"));
  REQUIRE(fs::exists("one-run/report.html"));
  const std::string html = read_text("one-run/report.html");

  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  const std::string results = table(html, "results");
  for (const char* heading : {"Model", "Precision", "Top-1 error (%)", "Top-5 error (%)",
                              "Model size (kB)", "Energy (mJ)", "Latency (ms)"}) {
    CHECK_MESSAGE(contains(results, std::string(">") + heading + "</th>"), heading);
  }
  CHECK(contains(results, "<td>reinforce-hybrid \xCE\xBB=0.1 seed 1</td>"));
  CHECK(contains(results, ">7.85</td>"));
  CHECK(contains(results, ">48.2</td>"));
  CHECK(contains(results, ">0.125</td>"));
  CHECK(contains(html,
                 "Energy and latency are per batch of 16 images on the bitfusion 1.0.0 "
                 "hardware model. Errors are on 10,000 test images."));

  // Blocks, 6 search charts, 3 training charts, energy and latency bars.
  CHECK(count_of(html, "<svg") == 12);
  CHECK(count_of(html, "</svg>") == 12);
  CHECK(count_of(html, "stroke-dasharray=\"6,4\"") == 3);  // skipped blocks
  CHECK(contains(html, ">warm-up</text>"));
  CHECK(contains(html, ">layer7</text>"));
  CHECK(contains(html, "<td>provenance: git.commit</td>"));
  CHECK_FALSE(contains(html, "http"));
  CHECK_FALSE(contains(html, "<script"));
  CHECK(contains(html,
                 "&lt;script&gt;console.error(&#39;injected&#39;)&lt;/script&gt; &amp; "
                 "&quot;quoted&quot;"));
}

TEST_CASE("report of a partial run") {
  nasq::test::write_partial_run("partial-run");
  const auto result = report("partial-run --out partial-report");
  CHECK(result.exit_code == 0);
  REQUIRE(fs::exists("partial-report/report.html"));
  CHECK_FALSE(fs::exists("partial-run/report.html"));
  const std::string html = read_text("partial-report/report.html");
  const std::string results = table(html, "results");
  CHECK(count_of(results, "<td class=\"number\">\xE2\x80\x94</td>") == 5);
  CHECK(contains(html, "metrics.csv not found"));
  CHECK(contains(html, "train_metrics.csv not found"));
  CHECK(contains(html, "results.json has no hardware.layers"));
  CHECK(contains(html, "results.json has no hardware model or batch."));
  CHECK(contains(html, "results.json has no test errors."));
  CHECK(count_of(html, "<svg") == 1);  // the blocks only
}

TEST_CASE("report comparing a sweep") {
  std::string arguments;
  for (const auto& directory : nasq::test::write_sweep("sweep")) {
    arguments += directory.string() + " ";
  }
  const auto result = report(arguments + "--out sweep-report");
  CHECK(result.exit_code == 0);
  REQUIRE(fs::exists("sweep-report/report.html"));
  const std::string html = read_text("sweep-report/report.html");

  const std::string runs = table(html, "runs");
  CHECK(count_of(runs, "<tr>") == 1 + 5);
  CHECK(contains(runs, ">Strategy</th>"));
  CHECK(contains(runs, ">\xCE\xBB</th>"));
  CHECK(contains(runs, "<td>gumbel</td>"));
  const std::string groups = table(html, "groups");
  CHECK(count_of(groups, "<tr>") == 1 + 1);
  CHECK(contains(groups, "<td>reinforce-hybrid \xCE\xBB=0.1</td>"));
  CHECK(contains(groups, ">8.00 \xC2\xB1 0.14</td>"));  // top-1 error of seeds 1 and 2

  CHECK(count_of(html, "<svg") == 1);
  CHECK(count_of(html, "class=\"front\"") == 1);
  CHECK(contains(html, "On the Pareto front"));
  CHECK(contains(html, "run0, run1, run3."));
  CHECK(contains(html, ">reinforce-hybrid \xCE\xBB=1</text>"));
  // Runs that share strategy and lambda get their seed in the label.
  CHECK(contains(html, ">reinforce-hybrid \xCE\xBB=0.1 seed 2</text>"));
  CHECK(contains(html, ">gumbel \xCE\xBB=0.1</text>"));
  CHECK_FALSE(contains(html, "http"));
}

TEST_CASE("report of several runs needs out") {
  nasq::test::write_run("a");
  nasq::test::write_run("b");
  const auto result = report("a b");
  CHECK(result.exit_code == 2);
  CHECK(contains(result.err, "--out DIR is required when comparing several runs"));
}

TEST_CASE("report without arguments") {
  const auto result = report("");
  CHECK(result.exit_code == 2);
  CHECK(contains(result.err, "missing argument RUN_DIR"));
  const auto help = report("--help");
  CHECK(help.exit_code == 0);
  CHECK(contains(help.out, "--out"));
}

TEST_CASE("report errors for bad run directories") {
  const auto missing = report("no-such-run");
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.err, "nasq: error: run directory no-such-run not found"));

  fs::create_directories("no-results");
  const auto no_results = report("no-results");
  CHECK(no_results.exit_code == 1);
  CHECK(contains(no_results.err, "no-results/results.json not found"));

  nasq::test::write_run("bad-json");
  nasq::test::write_text("bad-json/results.json", "{\"model\": \"m\",");
  const auto bad_json = report("bad-json");
  CHECK(bad_json.exit_code == 1);
  CHECK(contains(bad_json.err, "bad-json/results.json: invalid JSON"));

  nasq::test::write_run("bad-field");
  nasq::test::write_text("bad-field/results.json", "{\"test\": {\"top1_error\": \"low\"}}");
  const auto bad_field = report("bad-field");
  CHECK(bad_field.exit_code == 1);
  CHECK(contains(bad_field.err, "field 'test.top1_error' must be a number"));

  nasq::test::write_run("bad-csv");
  nasq::test::write_text("bad-csv/metrics.csv", "epoch,train_loss\n0,1.0\n1,x\n");
  const auto bad_csv = report("bad-csv");
  CHECK(bad_csv.exit_code == 1);
  CHECK(contains(bad_csv.err,
                 "bad-csv/metrics.csv line 3, column 'train_loss': 'x' is not a number"));
  CHECK_FALSE(fs::exists("bad-csv/report.html"));
}
