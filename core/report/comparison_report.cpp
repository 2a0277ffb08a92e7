// Sections of the HTML report that compares several runs.
#include "core/report/comparison_report.hpp"

#include <algorithm>
#include <cmath>
#include <regex>

#include "core/report/formatting.hpp"
#include "core/report/html_page.hpp"
#include "core/report/pareto.hpp"
#include "core/report/svg_chart.hpp"
#include "core/util/text.hpp"

namespace nasq::report {
namespace {

std::string trim_separators(const std::string& text) {
  const char* const separators = " \t,;";
  const std::size_t first = text.find_first_not_of(separators);
  if (first == std::string::npos) return "";
  const std::size_t last = text.find_last_not_of(separators);
  return text.substr(first, last - first + 1);
}

std::string lambda_text(const RunResults& results) {
  return results.lambda ? format_number(results.lambda) : kMissing;
}

// The label a run is grouped by before its seed is removed.
std::string model_label(const RunDirectory& run) {
  if (run.results.model) return *run.results.model;
  return run.results.strategy.value_or(run.name) + " \xCE\xBB=" + lambda_text(run.results) + " " +
         run.results.precision.value_or("");
}

// One unit for the model-size column of all tables.
SizeUnit table_size_unit(const std::vector<RunDirectory>& runs) {
  std::vector<std::optional<double>> sizes;
  for (const RunDirectory& run : runs) sizes.push_back(run.results.model_size_bytes);
  return size_unit(sizes);
}

// Returns the hardware model and batch of a run's energy and latency, such as
// "bitfusion 1.0.0, batch 16".
std::string cost_basis(const RunResults& results) {
  return results.hardware_plugin.value_or("unknown hardware model") +
         (results.hardware_version ? " " + *results.hardware_version : std::string()) + ", batch " +
         (results.hardware_batch ? std::to_string(*results.hardware_batch) : std::string(kMissing));
}

// States the hardware model and batch of the energy and latency columns, or
// warns that runs differ in them.
std::string hardware_note(const std::vector<RunDirectory>& runs) {
  std::vector<std::string> bases;
  for (const RunDirectory& run : runs) {
    const std::string basis = cost_basis(run.results);
    if (std::find(bases.begin(), bases.end(), basis) == bases.end()) bases.push_back(basis);
  }
  if (bases.size() == 1) {
    return note("Energy and latency are per batch, on " + bases[0] + ".");
  }
  return "<p class=\"warning\">" +
         escape_xml("The runs were costed on different hardware models or batch sizes (" +
                    join(bases, "; ") + "), so their energy and latency are not comparable.") +
         "</p>\n";
}

std::string runs_table(const std::vector<RunDirectory>& runs, const SizeUnit& unit) {
  std::vector<std::vector<std::string>> rows;
  for (const RunDirectory& run : runs) {
    const RunResults& results = run.results;
    rows.push_back({run.name, results.model.value_or(kMissing), results.strategy.value_or(kMissing),
                    lambda_text(results), results.seed ? std::to_string(*results.seed) : kMissing,
                    results.precision.value_or(kMissing), format_percent(results.top1_error),
                    format_percent(results.top5_error), format_size(results.model_size_bytes, unit),
                    format_number(results.energy_mj), format_number(results.latency_ms)});
  }
  return html_table({{"Run"},
                     {"Model"},
                     {"Strategy"},
                     {"\xCE\xBB", true},
                     {"Seed", true},
                     {"Precision"},
                     {"Top-1 error (%)", true},
                     {"Top-5 error (%)", true},
                     {std::string("Model size (") + unit.name + ")", true},
                     {"Energy (mJ)", true},
                     {"Latency (ms)", true}},
                    rows, "runs");
}

std::string groups_table(const std::vector<RunDirectory>& runs, const std::vector<RunGroup>& groups,
                         const SizeUnit& unit) {
  std::vector<std::vector<std::string>> rows;
  for (const RunGroup& group : groups) {
    std::vector<std::optional<double>> top1, top5, size, energy, latency;
    std::string seeds;
    for (const std::size_t index : group.runs) {
      const RunResults& results = runs[index].results;
      top1.push_back(results.top1_error);
      top5.push_back(results.top5_error);
      size.push_back(results.model_size_bytes);
      energy.push_back(results.energy_mj);
      latency.push_back(results.latency_ms);
      seeds +=
          (seeds.empty() ? "" : ", ") + (results.seed ? std::to_string(*results.seed) : kMissing);
    }
    rows.push_back({group.label, std::to_string(group.runs.size()), seeds,
                    format_mean_std(mean_std(top1), 100.0), format_mean_std(mean_std(top5), 100.0),
                    format_mean_std(mean_std(size), 1.0 / unit.bytes),
                    format_mean_std(mean_std(energy)), format_mean_std(mean_std(latency))});
  }
  return html_table({{"Model (all seeds)"},
                     {"Runs", true},
                     {"Seeds"},
                     {"Top-1 error (%)", true},
                     {"Top-5 error (%)", true},
                     {std::string("Model size (") + unit.name + ")", true},
                     {"Energy (mJ)", true},
                     {"Latency (ms)", true}},
                    rows, "groups");
}

// The point labels of the runs: point_label(), with the seed (or the
// directory name) added where runs would share a label.
std::vector<std::string> scatter_labels(const std::vector<RunDirectory>& runs) {
  std::vector<std::string> labels;
  for (const RunDirectory& run : runs) labels.push_back(point_label(run));
  std::vector<std::string> unique = labels;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (std::count(labels.begin(), labels.end(), labels[i]) < 2) continue;
    const RunResults& results = runs[i].results;
    unique[i] +=
        results.seed ? " seed " + std::to_string(*results.seed) : " (" + runs[i].name + ")";
  }
  return unique;
}

std::string pareto_section(const std::vector<RunDirectory>& runs) {
  std::vector<Objectives> objectives;
  for (const RunDirectory& run : runs) {
    objectives.push_back(
        {run.results.top1_error.value_or(NAN), run.results.energy_mj.value_or(NAN)});
  }
  const std::vector<std::size_t> front = pareto_front(objectives);

  const std::vector<std::string> labels = scatter_labels(runs);
  std::vector<ScatterPoint> points;
  std::vector<std::string> front_names;
  std::vector<std::string> left_out;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const bool on_front = std::find(front.begin(), front.end(), i) != front.end();
    if (on_front) front_names.push_back(runs[i].name);
    if (!std::isfinite(objectives[i].first) || !std::isfinite(objectives[i].second)) {
      left_out.push_back(runs[i].name);
    }
    points.push_back({objectives[i].second, objectives[i].first * 100.0, labels[i], on_front});
  }
  std::string html = "<h2>Error against energy</h2>\n";
  html += scatter_chart({"Top-1 error against energy", "energy (mJ)", "top-1 error (%)", 900, 460},
                        points, "Pareto front", "other runs");
  html += note(
      "On the Pareto front (no other run is as good in both top-1 error and energy and "
      "better in one): " +
      (front_names.empty() ? std::string(kMissing) : join(front_names, ", ")) + ".");
  if (!left_out.empty()) {
    html +=
        note("Not plotted, for lack of a top-1 error or an energy: " + join(left_out, ", ") + ".");
  }
  return html;
}

}  // namespace

std::string label_without_seed(const std::string& label) {
  static const std::regex seed(R"(\bseed\s*[=:]?\s*\d+\b)", std::regex::icase);
  std::string text = std::regex_replace(label, seed, "");
  static const std::regex spaces(R"(\s{2,})");
  text = std::regex_replace(text, spaces, " ");
  return trim_separators(text);
}

std::vector<RunGroup> seed_groups(const std::vector<RunDirectory>& runs) {
  std::vector<RunGroup> groups;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    std::string label = label_without_seed(model_label(runs[i]));
    // Runs of a lambda sweep share their model label unless it names lambda.
    if (runs[i].results.lambda && label.find("\xCE\xBB=") == std::string::npos) {
      label += " \xCE\xBB=" + lambda_text(runs[i].results);
    }
    const auto found = std::find_if(groups.begin(), groups.end(),
                                    [&](const RunGroup& group) { return group.label == label; });
    if (found == groups.end()) {
      groups.push_back({label, {i}});
    } else {
      found->runs.push_back(i);
    }
  }
  std::erase_if(groups, [](const RunGroup& group) { return group.runs.size() < 2; });
  return groups;
}

std::string point_label(const RunDirectory& run) {
  if (run.results.strategy) {
    return *run.results.strategy +
           (run.results.lambda ? " \xCE\xBB=" + format_number(run.results.lambda) : std::string());
  }
  return run.results.model.value_or(run.name);
}

std::string render_comparison_report(const std::vector<RunDirectory>& runs) {
  std::string html = page_start("nasq comparison of " + std::to_string(runs.size()) + " runs");
  const SizeUnit unit = table_size_unit(runs);
  html += "<h2>Runs</h2>\n" + runs_table(runs, unit);
  html += hardware_note(runs);
  const std::vector<RunGroup> groups = seed_groups(runs);
  if (!groups.empty()) {
    html +=
        "<h2>Mean \xC2\xB1 standard deviation over seeds</h2>\n" + groups_table(runs, groups, unit);
    html += note(
        "Runs whose model labels differ only in \"seed N\" form a group; the standard "
        "deviation is the sample one (divisor n - 1) over the runs that have the value.");
  }
  html += pareto_section(runs);
  return html + page_end();
}

}  // namespace nasq::report
