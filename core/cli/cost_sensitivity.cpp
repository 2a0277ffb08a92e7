// `nasq cost --sensitivity`: how each block's energy and latency change with
// its bottleneck bits b1 and its depthwise bits b2.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <optional>

#include "core/cli/command.hpp"
#include "core/cli/cost_sources.hpp"
#include "core/cost/oracle.hpp"
#include "core/search/sensitivity.hpp"
#include "core/space/reference_networks.hpp"
#include "core/space/space_config.hpp"
#include "nasq/sdk/error.hpp"

namespace po = boost::program_options;

namespace nasq::cli {
namespace {

struct SensitivityTable {
  std::optional<std::string> output_precision;  // set when the plugin has the key
  std::vector<search::BlockSensitivity> blocks;
};

// Search space named by --preset, --network or the stack, with the rule for
// its blocks' reference choices.
struct SensitivitySpace {
  std::string name;
  space::SpaceOptions options;
  search::ReferenceChoice reference = search::ReferenceChoice::widest_expansion;
};

SensitivitySpace sensitivity_space(const po::variables_map& values, Stack& stack) {
  if (values.count("preset")) {
    const std::string preset = values["preset"].as<std::string>();
    return {preset + " preset", space::preset_options(preset),
            search::ReferenceChoice::widest_expansion};
  }
  if (values.count("network")) {
    const std::string network = values["network"].as<std::string>();
    if (network != "mobilenetv2") {
      throw UsageError("--sensitivity works on MB-block networks: use --network mobilenetv2, "
                       "--preset NAME or a stack's [search_space], not --network " + network);
    }
    return {"mobilenetv2",
            space::mobilenetv2_space_options(values["input"].as<std::int64_t>()),
            search::ReferenceChoice::mobilenetv2};
  }
  if (!values.count("stack")) {
    throw UsageError("--sensitivity needs --network mobilenetv2, --preset NAME or a stack with a "
                     "[search_space] section");
  }
  return {values["stack"].as<std::string>() + " [search_space]", space::load_space_options(stack),
          search::ReferenceChoice::widest_expansion};
}

// The ratio as "%7.3f", or a dash when the reference cost is zero.
std::string ratio(double value, double reference) {
  if (!(reference > 0.0)) return "      -";
  char text[32];
  std::snprintf(text, sizeof text, "%7.3f", value / reference);
  return text;
}

std::string bits_header(const std::string& decision, const std::vector<int>& bits, int reference) {
  std::string values;
  for (const int value : bits) {
    if (value == reference) continue;
    if (!values.empty()) values += ',';
    values += std::to_string(value);
  }
  std::string text = decision;
  text += '=';
  text += values.empty() ? std::string("(no lower bits)") : values;
  return text;
}

void print_tables(const std::vector<SensitivityTable>& tables, const SensitivitySpace& described,
                  const std::string& plugin, std::int64_t batch) {
  for (const auto& table : tables) {
    if (table.blocks.empty()) continue;
    const auto& first = table.blocks.front();
    std::cout << "hardware: " << plugin
              << (table.output_precision ? ", output_precision = " + *table.output_precision : "")
              << "\nspace: " << described.name << ", " << table.blocks.size()
              << " blocks, inference batch " << batch
              << "\ncolumns after ms: energy, then latency, at each lower b1 (b2 at the reference) "
                 "and each lower b2 (b1 at the reference), relative to the reference choice\n";
    std::printf("%5s  %-22s %-15s %10s %9s |", "block", "shape", "reference", "mJ", "ms");
    for (const char* metric : {"energy", "latency"}) {
      std::printf(" %s %s | %s %s |", metric,
                  bits_header("b1", first.bottleneck_bits, first.reference.bottleneck_bits).c_str(),
                  metric,
                  bits_header("b2", first.depthwise_bits, first.reference.depthwise_bits).c_str());
    }
    std::printf("\n");
    for (const auto& row : table.blocks) {
      char shape[64];
      std::snprintf(shape, sizeof shape, "%lldx%lldx%lld->%lld s%lld",
                    static_cast<long long>(row.slot.input_size),
                    static_cast<long long>(row.slot.input_size),
                    static_cast<long long>(row.slot.input_channels),
                    static_cast<long long>(row.slot.output_channels),
                    static_cast<long long>(row.slot.stride));
      std::printf("%5d  %-22s %-15s %10.5f %9.4f |", row.slot.index, shape,
                  space::block_label(row.reference).c_str(), row.reference_cost.energy_mj,
                  row.reference_cost.latency_ms);
      for (const bool energy : {true, false}) {
        auto metric = [&](const sdk::Cost& cost) { return energy ? cost.energy_mj : cost.latency_ms; };
        const double reference = metric(row.reference_cost);
        for (std::size_t i = 0; i < row.bottleneck_bits.size(); ++i) {
          if (row.bottleneck_bits[i] == row.reference.bottleneck_bits) continue;
          std::printf("%s", ratio(metric(row.bottleneck_costs[i]), reference).c_str());
        }
        std::printf(" |");
        for (std::size_t i = 0; i < row.depthwise_bits.size(); ++i) {
          if (row.depthwise_bits[i] == row.reference.depthwise_bits) continue;
          std::printf("%s", ratio(metric(row.depthwise_costs[i]), reference).c_str());
        }
        std::printf(" |");
      }
      std::printf("\n");
    }
    std::printf("\n");
  }
}

void print_csv(const std::vector<SensitivityTable>& tables) {
  std::cout << "output_precision,block,stage,input_size,input_channels,output_channels,stride,"
               "expansion,kernel,decision,bits,energy_mj,latency_ms,energy_ratio,latency_ratio\n";
  for (const auto& table : tables) {
    for (const auto& row : table.blocks) {
      auto csv_ratio = [](double value, double reference) {
        if (!(reference > 0.0)) return std::string();
        char text[32];
        std::snprintf(text, sizeof text, "%.17g", value / reference);
        return std::string(text);
      };
      auto line = [&](const char* decision, int bits, const sdk::Cost& cost) {
        std::printf("%s,%d,%d,%lld,%lld,%lld,%lld,%d,%d,%s,%d,%.17g,%.17g,%s,%s\n",
                    table.output_precision.value_or("").c_str(), row.slot.index, row.slot.stage,
                    static_cast<long long>(row.slot.input_size),
                    static_cast<long long>(row.slot.input_channels),
                    static_cast<long long>(row.slot.output_channels),
                    static_cast<long long>(row.slot.stride), row.reference.expansion,
                    row.reference.kernel, decision, bits, cost.energy_mj, cost.latency_ms,
                    csv_ratio(cost.energy_mj, row.reference_cost.energy_mj).c_str(),
                    csv_ratio(cost.latency_ms, row.reference_cost.latency_ms).c_str());
      };
      for (std::size_t i = 0; i < row.bottleneck_bits.size(); ++i) {
        line("b1", row.bottleneck_bits[i], row.bottleneck_costs[i]);
      }
      for (std::size_t i = 0; i < row.depthwise_bits.size(); ++i) {
        line("b2", row.depthwise_bits[i], row.depthwise_costs[i]);
      }
    }
  }
}

void print_json(const std::vector<SensitivityTable>& tables, const SensitivitySpace& described,
                const std::string& plugin, std::int64_t batch) {
  auto costs = [](const std::vector<int>& bits, const std::vector<sdk::Cost>& values) {
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t i = 0; i < bits.size(); ++i) {
      list.push_back({{"bits", bits[i]},
                      {"energy_mj", values[i].energy_mj},
                      {"latency_ms", values[i].latency_ms}});
    }
    return list;
  };
  nlohmann::json document = {{"hardware", plugin},
                             {"space", described.name},
                             {"batch", batch},
                             {"tables", nlohmann::json::array()}};
  for (const auto& table : tables) {
    nlohmann::json entry = {{"output_precision", table.output_precision
                                                     ? nlohmann::json(*table.output_precision)
                                                     : nlohmann::json()},
                            {"blocks", nlohmann::json::array()}};
    for (const auto& row : table.blocks) {
      entry["blocks"].push_back(
          {{"block", row.slot.index},
           {"stage", row.slot.stage},
           {"reference", space::block_label(row.reference)},
           {"energy_mj", row.reference_cost.energy_mj},
           {"latency_ms", row.reference_cost.latency_ms},
           {"b1", costs(row.bottleneck_bits, row.bottleneck_costs)},
           {"b2", costs(row.depthwise_bits, row.depthwise_costs)}});
    }
    document["tables"].push_back(entry);
  }
  std::cout << std::setprecision(17) << document.dump(2) << "\n";
}

}  // namespace

void print_sensitivity(const po::variables_map& values, const std::string& format) {
  CostSession base = open_cost_session(values, {});
  const SensitivitySpace described = sensitivity_space(values, *base.stack);
  const space::SearchSpace search_space(described.options);
  const std::int64_t batch = values.count("batch") ? values["batch"].as<std::int64_t>()
                                                   : base.stack->get_int("hardware.batch");

  // One table per output precision the plugin offers, unless the stack or
  // --set chooses one; else one table.
  std::vector<std::optional<std::string>> modes = {std::nullopt};
  const PluginInfo& info = base.registry->find(PluginKind::hardware, base.plugin);
  const std::string precision_key = "hardware." + base.plugin + ".output_precision";
  for (const auto& key : info.keys) {
    if (key.name != "output_precision" || key.allowed.empty()) continue;
    if (base.stack->has(precision_key)) {
      // Validated by the plugin when the model is created below.
      modes = {base.stack->get_string(precision_key)};
    } else {
      modes.assign(key.allowed.begin(), key.allowed.end());
    }
  }

  std::vector<SensitivityTable> tables;
  for (const auto& mode : modes) {
    std::vector<std::string> extra;
    if (mode) extra.push_back("hardware." + base.plugin + ".output_precision=" + *mode);
    CostSession session = open_cost_session(values, extra);
    CostOracle oracle(session.factory->hardware_model(base.plugin), base.plugin);
    if (!oracle.reports("energy_mj") && !oracle.reports("latency_ms")) {
      throw sdk::Error("hardware plugin '" + base.plugin +
                       "' reports neither energy nor latency, so it has no sensitivity to print; "
                       "use a model that does, such as bitfusion");
    }
    tables.push_back({mode, search::bit_sensitivity(search_space, oracle, batch, described.reference)});
  }

  if (format == "json") {
    print_json(tables, described, base.plugin, batch);
  } else if (format == "csv") {
    print_csv(tables);
  } else {
    print_tables(tables, described, base.plugin, batch);
  }
}

}  // namespace nasq::cli
