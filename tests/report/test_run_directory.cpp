// Reading run directories (results.json, metrics CSV files), number formats
// and the grouping of seeds in comparisons.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "core/report/comparison_report.hpp"
#include "core/report/csv_table.hpp"
#include "core/report/formatting.hpp"
#include "core/report/report.hpp"
#include "core/report/run_directory.hpp"
#include "nasq/sdk/error.hpp"
#include "tests/report/run_fixtures.hpp"

using nasq::report::parse_csv_table;
using nasq::report::parse_results;

namespace {

// The message of the sdk::Error that `action` throws, or "" when it throws none.
template <typename Action>
std::string error_message(Action action) {
  try {
    action();
  } catch (const nasq::sdk::Error& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("csv table reads numbers and missing cells") {
  const auto table =
      parse_csv_table("epoch,loss,temperature\r\n0,1.5,\r\n1, 0.5 ,nan\n2,inf,-2e-3\n\n", "m.csv");
  CHECK(table.columns == std::vector<std::string>{"epoch", "loss", "temperature"});
  REQUIRE(table.rows.size() == 3);
  CHECK(table.rows[1][1] == 0.5);
  CHECK(std::isnan(table.rows[0][2]));
  CHECK(std::isnan(table.rows[1][2]));
  CHECK(std::isinf(table.rows[2][1]));
  CHECK(table.rows[2][2] == doctest::Approx(-0.002));
  CHECK(table.column("loss").size() == 3);
  CHECK(table.has_values("temperature"));
  CHECK_FALSE(table.has_column("val_loss"));
  CHECK_THROWS_AS(table.column("val_loss"), std::logic_error);
}

TEST_CASE("csv table with a header only") {
  const auto table = parse_csv_table("epoch,loss\n", "m.csv");
  CHECK(table.rows.empty());
  CHECK_FALSE(table.has_values("loss"));
}

TEST_CASE("csv table errors name file, line and column") {
  CHECK(error_message([] { parse_csv_table("", "m.csv"); }) ==
        "m.csv: the file is empty, but it must start with a header line");
  CHECK(error_message([] { parse_csv_table("epoch,loss\n0,1\n1\n", "m.csv"); }) ==
        "m.csv line 3: 1 cells, but the header has 2 columns");
  CHECK(error_message([] { parse_csv_table("epoch,loss\n0,abc\n", "m.csv"); }) ==
        "m.csv line 2, column 'loss': 'abc' is not a number");
  CHECK(error_message([] { parse_csv_table("epoch,loss,loss\n", "m.csv"); }) ==
        "m.csv line 1: column 'loss' appears twice in the header");
  CHECK(error_message([] { parse_csv_table("epoch,,loss\n", "m.csv"); }) ==
        "m.csv line 1: column 2 of the header has an empty name");
  CHECK(contains(error_message([] { parse_csv_table("epoch\n1.5x\n", "m.csv"); }), "'1.5x'"));
}

TEST_CASE("results json with every field") {
  const auto results = parse_results(nasq::test::results_json({}), "results.json");
  CHECK(results.model == "reinforce-hybrid \xCE\xBB=0.1 seed 1");
  CHECK(results.strategy == "reinforce-hybrid");
  CHECK(results.lambda == doctest::Approx(0.1));
  CHECK(results.seed == 1);
  REQUIRE(results.blocks.has_value());
  CHECK(results.blocks->size() == 12);
  CHECK(results.top1_error == doctest::Approx(0.0785));
  CHECK(results.test_images == 10000);
  CHECK(results.parameters == 151234);
  CHECK(results.hardware_plugin == "bitfusion");
  CHECK(results.hardware_batch == 16);
  REQUIRE(results.layers.size() == 8);
  CHECK(results.layers[7].kind == "fc");
  CHECK(results.layers[7].macs == 80000);
  REQUIRE(results.provenance.size() == 3);
  CHECK(results.provenance[0] == std::pair<std::string, std::string>{"git.commit", "abc123"});
  CHECK(results.provenance[1] == std::pair<std::string, std::string>{"git.dirty", "false"});
  CHECK(results.provenance[2].first == "note");
}

TEST_CASE("results json of a partial run") {
  const auto results = parse_results("{\"model\": \"m\", \"lambda\": null}", "results.json");
  CHECK(results.model == "m");
  CHECK_FALSE(results.lambda.has_value());
  CHECK_FALSE(results.top1_error.has_value());
  CHECK_FALSE(results.blocks.has_value());
  CHECK(results.layers.empty());
  CHECK(results.provenance.empty());
}

TEST_CASE("results json errors name the field") {
  CHECK(contains(error_message([] { parse_results("{\"model\": ", "r.json"); }),
                 "r.json: invalid JSON"));
  CHECK(error_message([] { parse_results("[1]", "r.json"); }) ==
        "r.json: the top level must be a JSON object, but it is an array");
  CHECK(error_message([] { parse_results("{\"test\": {\"top1_error\": \"7%\"}}", "r.json"); }) ==
        "r.json: field 'test.top1_error' must be a number, but it is the string \"7%\"");
  CHECK(error_message([] { parse_results("{\"seed\": 1.5}", "r.json"); }) ==
        "r.json: field 'seed' must be an integer, but it is a number");
  CHECK(error_message([] { parse_results("{\"hardware\": []}", "r.json"); }) ==
        "r.json: field 'hardware' must be an object, but it is an array");
  CHECK(error_message([] {
          parse_results("{\"hardware\": {\"layers\": [{\"energy_mj\": true}]}}", "r.json");
        }) == "r.json: field 'hardware.layers[0].energy_mj' must be a number, but it is a boolean");
  CHECK(contains(
      error_message([] { parse_results("{\"architecture\": {\"blocks\": [1]}}", "r.json"); }),
      "field 'architecture.blocks[0]' must be a string"));
}

TEST_CASE("run directory errors name the path") {
  namespace fs = std::filesystem;
  CHECK(error_message([] { nasq::report::load_run_directory("no-such-run"); }) ==
        "run directory no-such-run not found");

  fs::create_directories("empty-run");
  CHECK(contains(error_message([] { nasq::report::load_run_directory("empty-run"); }),
                 "empty-run/results.json not found"));

  nasq::test::write_run("no-epoch-run");
  nasq::test::write_text("no-epoch-run/train_metrics.csv", "step,loss\n1,2\n");
  CHECK(error_message([] { nasq::report::load_run_directory("no-epoch-run"); }) ==
        "no-epoch-run/train_metrics.csv: missing column 'epoch' in the header (columns: step, "
        "loss)");
}

TEST_CASE("run directory loads all files") {
  nasq::test::write_run("full-run");
  const auto run = nasq::report::load_run_directory("full-run/");
  CHECK(run.name == "full-run");
  REQUIRE(run.search_metrics.has_value());
  CHECK(run.search_metrics->rows.size() == 10);
  REQUIRE(run.training_metrics.has_value());
  CHECK(run.training_metrics->rows.size() == 8);

  nasq::test::write_partial_run("partial-run");
  const auto partial = nasq::report::load_run_directory("partial-run");
  CHECK_FALSE(partial.search_metrics.has_value());
  CHECK_FALSE(partial.training_metrics.has_value());
}

TEST_CASE("number formats") {
  using namespace nasq::report;
  CHECK(format_percent(0.0785) == "7.85");
  CHECK(format_percent(std::nullopt) == kMissing);
  CHECK(format_number(0.123456) == "0.1235");
  CHECK(format_number(NAN) == kMissing);
  CHECK(format_count(1234567) == "1,234,567");
  CHECK(format_count(-1000) == "-1,000");
  CHECK(format_count(12) == "12");
  const SizeUnit kilobytes = size_unit({48200.0, std::nullopt});
  CHECK(std::string(kilobytes.name) == "kB");
  CHECK(format_size(48200.0, kilobytes) == "48.2");
  CHECK(std::string(size_unit({2.5e6}).name) == "MB");
}

TEST_CASE("mean and sample standard deviation") {
  using namespace nasq::report;
  const auto statistics = mean_std({1.0, 3.0, std::nullopt});
  REQUIRE(statistics.has_value());
  CHECK(statistics->count == 2);
  CHECK(statistics->mean == doctest::Approx(2.0));
  CHECK(statistics->std == doctest::Approx(std::sqrt(2.0)));
  CHECK(format_mean_std(statistics) == "2.0 \xC2\xB1 1.4");
  CHECK(format_mean_std(mean_std({0.07})) == "0.07");
  CHECK(format_mean_std(mean_std({std::nullopt})) == kMissing);
  CHECK(format_mean_std(mean_std({0.079, 0.081}), 100.0) == "8.00 \xC2\xB1 0.14");
  CHECK(format_mean_std(mean_std({48200.0, 48200.0}), 1e-3) == "48.2 \xC2\xB1 0");
  CHECK(format_mean_std(mean_std({10000.0, 12000.0})) == "11000 \xC2\xB1 1400");
}

TEST_CASE("labels without seed") {
  using nasq::report::label_without_seed;
  CHECK(label_without_seed("reinforce-hybrid \xCE\xBB=0.1 seed 1") ==
        "reinforce-hybrid \xCE\xBB=0.1");
  CHECK(label_without_seed("gumbel, seed=12") == "gumbel");
  CHECK(label_without_seed("Seed 3 gumbel uniform") == "gumbel uniform");
  CHECK(label_without_seed("seedless 1") == "seedless 1");
  CHECK(label_without_seed("plain") == "plain");
}

TEST_CASE("seed groups of a sweep") {
  std::vector<nasq::report::RunDirectory> runs;
  for (const auto& directory : nasq::test::write_sweep("sweep")) {
    runs.push_back(nasq::report::load_run_directory(directory));
  }
  const auto groups = nasq::report::seed_groups(runs);
  REQUIRE(groups.size() == 1);
  CHECK(groups[0].label == "reinforce-hybrid \xCE\xBB=0.1");
  CHECK(groups[0].runs == std::vector<std::size_t>{1, 2});
  CHECK(nasq::report::point_label(runs[0]) == "reinforce-hybrid \xCE\xBB=0.01");
}

TEST_CASE("seed groups split by lambda") {
  std::vector<nasq::report::RunDirectory> runs;
  for (const auto& directory : nasq::test::write_sweep("sweep-unnamed")) {
    runs.push_back(nasq::report::load_run_directory(directory));
  }
  // Model labels that name only the strategy and the seed.
  for (auto& run : runs) {
    run.results.model = *run.results.strategy + " seed " + std::to_string(*run.results.seed);
  }
  const auto groups = nasq::report::seed_groups(runs);
  REQUIRE(groups.size() == 1);
  CHECK(groups[0].label == "reinforce-hybrid \xCE\xBB=0.1");
  CHECK(groups[0].runs == std::vector<std::size_t>{1, 2});
}

TEST_CASE("write_report creates the output directory") {
  nasq::test::write_run("writer-run");
  const auto file = nasq::report::write_report({"writer-run"}, "writer-out/nested");
  CHECK(file == std::filesystem::path("writer-out/nested/report.html"));
  CHECK(std::filesystem::exists(file));
  CHECK_THROWS_AS(nasq::report::write_report({}, "writer-out"), std::logic_error);
}

TEST_CASE("comparison flags mixed hardware and missing values") {
  std::vector<nasq::report::RunDirectory> runs;
  for (const auto& directory : nasq::test::write_sweep("mixed")) {
    runs.push_back(nasq::report::load_run_directory(directory));
  }
  const std::string same = nasq::report::render_comparison_report(runs);
  CHECK(contains(same, "Energy and latency are per batch, on bitfusion 1.0.0, batch 16."));
  CHECK_FALSE(contains(same, "not comparable"));
  CHECK_FALSE(contains(same, "Not plotted"));

  runs[4].results.hardware_batch = 1;
  runs[3].results.energy_mj.reset();
  const std::string mixed = nasq::report::render_comparison_report(runs);
  CHECK(contains(mixed, "<p class=\"warning\">"));
  CHECK(contains(mixed, "bitfusion 1.0.0, batch 16; bitfusion 1.0.0, batch 1"));
  CHECK(contains(mixed, "Not plotted, for lack of a top-1 error or an energy: run3."));
  // Without run3 (lowest energy), run1 and run0 remain on the front.
  CHECK(contains(mixed, "better in one): run0, run1."));
}
