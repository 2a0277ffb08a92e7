// Sections of the one-run HTML report.
#include "core/report/run_report.hpp"

#include <algorithm>
#include <cmath>

#include "core/report/block_diagram.hpp"
#include "core/report/formatting.hpp"
#include "core/report/html_page.hpp"
#include "core/report/svg_chart.hpp"

namespace nasq::report {
namespace {

constexpr int kChartWidth = 640;
constexpr int kChartHeight = 300;

const char* const kCostPrefixes[] = {"expected_", "sampled_", "exact_"};

std::vector<double> column_or_missing(const CsvTable& table, const std::string& name) {
  if (table.has_column(name)) return table.column(name);
  return std::vector<double>(table.rows.size(), std::nan(""));
}

std::vector<double> scaled(std::vector<double> values, double factor) {
  for (double& value : values) value *= factor;
  return values;
}

LineSeries series(const CsvTable& table, const std::string& name, const std::string& column,
                  double factor = 1.0) {
  return {name, table.column("epoch"), scaled(column_or_missing(table, column), factor)};
}

// The x axis shared by the charts of one CSV file: the range of its epochs,
// and its warm-up epochs (warmup = 1) as a shaded band.
struct EpochAxis {
  std::optional<std::pair<double, double>> range;
  std::optional<XBand> band;
};

EpochAxis epoch_axis(const CsvTable& table) {
  const std::vector<double> epochs = table.column("epoch");
  const std::vector<double> warmup = column_or_missing(table, "warmup");
  double first = INFINITY;
  double last = -INFINITY;
  double first_warmup = INFINITY;
  double last_warmup = -INFINITY;
  for (std::size_t i = 0; i < epochs.size(); ++i) {
    if (!std::isfinite(epochs[i])) continue;
    first = std::min(first, epochs[i]);
    last = std::max(last, epochs[i]);
    if (warmup[i] != 1.0) continue;
    first_warmup = std::min(first_warmup, epochs[i]);
    last_warmup = std::max(last_warmup, epochs[i]);
  }
  EpochAxis axis;
  if (first <= last) axis.range = std::pair{first, last};
  if (first_warmup <= last_warmup)
    axis.band = XBand{first_warmup - 0.5, last_warmup + 0.5, "warm-up"};
  return axis;
}

std::string chart(const EpochAxis& axis, const std::string& title, const std::string& y_label,
                  const std::vector<LineSeries>& lines) {
  return line_chart({title, "epoch", y_label, kChartWidth, kChartHeight, axis.range}, lines,
                    axis.band);
}

// "energy_mj" -> "energy (mJ)": the unit suffix of a metric name made readable.
std::string metric_title(const std::string& metric) {
  const std::pair<const char*, const char*> units[] = {
      {"_mj", " (mJ)"}, {"_ms", " (ms)"}, {"_bytes", " (bytes)"}, {"_cycles", " (cycles)"}};
  for (const auto& [suffix, unit] : units) {
    const std::string ending(suffix);
    if (metric.size() > ending.size() &&
        metric.compare(metric.size() - ending.size(), ending.size(), ending) == 0) {
      return metric.substr(0, metric.size() - ending.size()) + unit;
    }
  }
  return metric;
}

// Metrics with an expected_, sampled_ or exact_ column, such as "energy_mj".
std::vector<std::string> cost_metrics(const CsvTable& table) {
  std::vector<std::string> metrics;
  for (const std::string& column : table.columns) {
    for (const char* prefix : kCostPrefixes) {
      const std::string start(prefix);
      if (column.rfind(start, 0) != 0 || column.size() == start.size()) continue;
      const std::string metric = column.substr(start.size());
      if (std::find(metrics.begin(), metrics.end(), metric) == metrics.end()) {
        metrics.push_back(metric);
      }
    }
  }
  return metrics;
}

// "b1" -> "bottleneck bits (b1)": the decision kinds of the search space.
std::string decision_kind_name(const std::string& kind) {
  const std::pair<const char*, const char*> names[] = {{"s", "skip"},
                                                       {"m", "expansion"},
                                                       {"k", "kernel"},
                                                       {"b1", "bottleneck bits"},
                                                       {"b2", "depthwise bits"}};
  for (const auto& [code, name] : names) {
    if (kind == code) return std::string(name) + " (" + kind + ")";
  }
  return kind;
}

// Columns whose names start with `prefix`, as series named by the rest.
std::vector<LineSeries> prefixed_series(const CsvTable& table, const std::string& prefix) {
  std::vector<LineSeries> lines;
  for (const std::string& column : table.columns) {
    if (column.rfind(prefix, 0) == 0 && column.size() > prefix.size()) {
      lines.push_back(series(table, column.substr(prefix.size()), column));
    }
  }
  return lines;
}

// Describes the hardware model and batch that energy and latency refer to.
std::string cost_basis(const RunResults& results) {
  if (!results.hardware_plugin && !results.hardware_batch) {
    return "results.json has no hardware model or batch.";
  }
  std::string model = results.hardware_plugin.value_or("unknown");
  if (results.hardware_version) model += " " + *results.hardware_version;
  return "Energy and latency are per batch of " +
         (results.hardware_batch ? std::to_string(*results.hardware_batch)
                                 : std::string(kMissing)) +
         " images on the " + model + " hardware model.";
}

// Describes the test images that the errors refer to.
std::string test_basis(const RunResults& results) {
  if (!results.top1_error && !results.top5_error) return "results.json has no test errors.";
  if (!results.test_images) return "results.json does not give the number of test images.";
  return "Errors are on " + format_count(results.test_images) + " test images.";
}

std::string results_section(const RunDirectory& run) {
  const RunResults& results = run.results;
  const SizeUnit unit = size_unit({results.model_size_bytes});
  std::string html = "<h2>Results</h2>\n";
  html += html_table({{"Model"},
                      {"Precision"},
                      {"Top-1 error (%)", true},
                      {"Top-5 error (%)", true},
                      {std::string("Model size (") + unit.name + ")", true},
                      {"Energy (mJ)", true},
                      {"Latency (ms)", true}},
                     {{results.model.value_or(run.name), results.precision.value_or(kMissing),
                       format_percent(results.top1_error), format_percent(results.top5_error),
                       format_size(results.model_size_bytes, unit),
                       format_number(results.energy_mj), format_number(results.latency_ms)}},
                     "results");
  return html + note(cost_basis(results) + " " + test_basis(results));
}

std::string architecture_section(const RunResults& results) {
  std::string html = "<h2>Architecture</h2>\n";
  if (!results.blocks) return html + note("results.json has no architecture.blocks.");
  const auto skipped = std::count(results.blocks->begin(), results.blocks->end(), "skip");
  html += note(std::to_string(results.blocks->size()) + " MB blocks, " + std::to_string(skipped) +
               " of them skipped (dashed). A label gives expansion, kernel and the bit-widths "
               "[bottleneck, depthwise]: MB6 5x5 [4,2].");
  return html + block_diagram(*results.blocks);
}

// The charts of the strategy's columns of metrics.csv: cost per metric,
// entropy per decision kind and skip probability per stage.
std::string strategy_charts(const CsvTable& table, const EpochAxis& axis) {
  std::string html;
  for (const std::string& metric : cost_metrics(table)) {
    std::vector<LineSeries> lines;
    for (const char* prefix : kCostPrefixes) {
      const std::string column = prefix + metric;
      if (!table.has_column(column)) continue;
      lines.push_back(series(table, column.substr(0, column.find('_')), column));
    }
    html += chart(axis, "Cost: " + metric_title(metric), metric_title(metric), lines);
  }
  std::vector<LineSeries> entropies = prefixed_series(table, "entropy_");
  for (LineSeries& line : entropies) line.name = decision_kind_name(line.name);
  if (!entropies.empty()) {
    html += chart(axis, "Mean entropy per decision kind", "entropy (nats)", entropies);
  }
  const std::vector<LineSeries> skips = prefixed_series(table, "skip_probability_");
  if (!skips.empty()) {
    html += chart(axis, "Mean skip probability per stage", "probability", skips);
  }
  return html;
}

std::string search_section(const RunDirectory& run) {
  std::string html = "<h2>Search</h2>\n";
  if (!run.search_metrics) return html + note("metrics.csv not found: no search curves.");
  const CsvTable& table = *run.search_metrics;
  const EpochAxis axis = epoch_axis(table);

  html += "<div class=\"charts\">\n";
  html += chart(axis, "Search loss", "loss",
                {series(table, "train", "train_loss"), series(table, "validation", "val_loss")});
  html += chart(axis, "Search accuracy", "accuracy (%)",
                {series(table, "train", "train_accuracy", 100.0),
                 series(table, "validation", "val_accuracy", 100.0)});
  if (table.has_column("temperature")) {
    html +=
        chart(axis, "Temperature", "temperature", {series(table, "temperature", "temperature")});
  }
  html += strategy_charts(table, axis) + "</div>\n";

  if (!table.has_column("temperature")) html += note("metrics.csv has no temperature column.");
  if (cost_metrics(table).empty()) {
    html += note("metrics.csv has no expected_, sampled_ or exact_ cost columns.");
  }
  return html;
}

std::string training_section(const RunDirectory& run) {
  std::string html = "<h2>Final training</h2>\n";
  if (!run.training_metrics) return html + note("train_metrics.csv not found: no training curves.");
  const CsvTable& table = *run.training_metrics;
  const EpochAxis axis = epoch_axis(table);

  html += "<div class=\"charts\">\n";
  html += chart(axis, "Training loss", "loss",
                {series(table, "train", "train_loss"), series(table, "test", "test_loss")});
  html += chart(axis, "Training accuracy", "accuracy (%)",
                {series(table, "train", "train_accuracy", 100.0),
                 series(table, "test", "test_accuracy", 100.0)});
  html += chart(axis, "Learning rate", "learning rate",
                {series(table, "learning rate", "learning_rate")});
  return html + "</div>\n";
}

std::string layers_section(const RunResults& results) {
  std::string html = "<h2>Energy per layer</h2>\n";
  if (results.layers.empty()) return html + note("results.json has no hardware.layers.");
  std::vector<Bar> energy;
  std::vector<Bar> latency;
  for (const LayerCost& layer : results.layers) {
    energy.push_back({layer.name, layer.energy_mj.value_or(std::nan("")), layer.kind});
    latency.push_back({layer.name, layer.latency_ms.value_or(std::nan("")), layer.kind});
  }
  html += "<div class=\"charts\">\n";
  html += bar_chart({"Energy per layer", "energy (mJ)", "", kChartWidth, 0}, energy);
  html += bar_chart({"Latency per layer", "latency (ms)", "", kChartWidth, 0}, latency);
  return html + "</div>\n";
}

std::string details_section(const RunDirectory& run) {
  const RunResults& results = run.results;
  const std::string lambda = results.lambda ? format_number(results.lambda) : kMissing;
  std::vector<std::vector<std::string>> rows = {
      {"run directory", run.path.string()},
      {"nasq version", results.nasq_version.value_or(kMissing)},
      {"strategy", results.strategy.value_or(kMissing)},
      {"\xCE\xBB (cost weight)", lambda},
      {"seed", results.seed ? std::to_string(*results.seed) : kMissing},
      {"test images", format_count(results.test_images)},
      {"parameters", format_count(results.parameters)},
      {"MACs", format_count(results.macs)},
      {"BitOPs", format_count(results.bitops)},
      {"model size (bytes)",
       results.model_size_bytes ? format_count(static_cast<std::int64_t>(*results.model_size_bytes))
                                : kMissing},
      {"hardware model",
       results.hardware_plugin.value_or(kMissing) + " " + results.hardware_version.value_or("")},
      {"hardware batch",
       results.hardware_batch ? std::to_string(*results.hardware_batch) : kMissing}};
  for (const auto& [key, value] : results.provenance) rows.push_back({"provenance: " + key, value});
  return "<h2>Run details</h2>\n" + html_table({{"Field"}, {"Value"}}, rows, "details");
}

}  // namespace

std::string render_run_report(const RunDirectory& run) {
  std::string html = page_start("nasq report: " + run.results.model.value_or(run.name));
  html += results_section(run);
  html += architecture_section(run.results);
  html += search_section(run);
  html += training_section(run);
  html += layers_section(run.results);
  html += details_section(run);
  return html + page_end();
}

}  // namespace nasq::report
