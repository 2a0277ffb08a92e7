// `nasq cost`: per-layer and total hardware cost of a network, a layer file or an architecture.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

#include "core/cli/command.hpp"
#include "core/cli/cost_sources.hpp"
#include "core/cost/layer_file.hpp"
#include "core/cost/oracle.hpp"
#include "nasq/sdk/error.hpp"

namespace po = boost::program_options;

namespace nasq::cli {
namespace {

struct CostedLayer {
  NamedLayer layer;
  sdk::Cost cost;
};

// Costs every layer; rows with a dw_mode get a model whose depthwise_mapping
// key is set to it.
std::vector<CostedLayer> cost_layers(const po::variables_map& values,
                                     const std::vector<NamedLayer>& layers) {
  CostSession base = open_cost_session(values, {});
  const PluginInfo& info = base.registry->find(PluginKind::hardware, base.plugin);
  std::map<std::string, std::unique_ptr<CostOracle>> oracles;
  std::vector<CostSession> sessions;

  std::vector<CostedLayer> costed;
  for (const auto& layer : layers) {
    const std::string& mode = layer.dw_mode;
    if (!mode.empty() && !declares_key(info, "depthwise_mapping")) {
      throw sdk::Error("layer " + layer.name + " asks for dw_mode " + mode +
                       ", but hardware plugin '" + base.plugin +
                       "' has no depthwise_mapping key");
    }
    auto& oracle = oracles[mode];
    if (!oracle) {
      std::vector<std::string> extra;
      if (!mode.empty()) extra.push_back("hardware." + base.plugin + ".depthwise_mapping=" + mode);
      sessions.push_back(open_cost_session(values, extra));
      oracle = std::make_unique<CostOracle>(sessions.back().factory->hardware_model(base.plugin),
                                            base.plugin);
    }
    try {
      costed.push_back({layer, oracle->layer_cost(layer.spec)});
    } catch (const sdk::Error& error) {
      throw sdk::Error("layer '" + layer.name + "' (" + describe(layer.spec) + "): " + error.what());
    }
  }
  return costed;
}

sdk::Cost total_of(const std::vector<CostedLayer>& costed) {
  sdk::Cost total;
  for (const auto& entry : costed) total += entry.cost;
  return total;
}

std::string number(double value, int precision) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", precision, value);
  return text;
}

void print_table(const std::vector<CostedLayer>& costed, const std::string& plugin) {
  std::cout << "hardware: " << plugin << "\n";
  std::cout << std::left << std::setw(16) << "layer" << std::setw(8) << "kind" << std::right
            << std::setw(14) << "MACs" << std::setw(12) << "cycles" << std::setw(11) << "ms"
            << std::setw(12) << "mJ" << std::setw(11) << "core mJ" << std::setw(11) << "SRAM mJ"
            << std::setw(12) << "DRAM mJ" << std::setw(15) << "DRAM bits" << "\n";
  auto row = [](const std::string& name, const std::string& kind, const sdk::Cost& cost) {
    std::cout << std::left << std::setw(16) << name << std::setw(8) << kind << std::right
              << std::setw(14) << cost.macs << std::setw(12) << cost.cycles << std::setw(11)
              << number(cost.latency_ms, 4) << std::setw(12) << number(cost.energy_mj, 5)
              << std::setw(11) << number(cost.core_energy_mj, 5) << std::setw(11)
              << number(cost.sram_energy_mj, 5) << std::setw(12) << number(cost.dram_energy_mj, 5)
              << std::setw(15) << cost.dram_read_bits + cost.dram_write_bits
              << (cost.estimated ? "  (estimated)" : "") << "\n";
  };
  for (const auto& entry : costed) {
    row(entry.layer.name, sdk::to_string(entry.layer.spec.kind), entry.cost);
  }
  row("total", "", total_of(costed));
}

void print_csv(const std::vector<CostedLayer>& costed) {
  std::cout << "name,kind,macs,cycles,compute_cycles,stall_cycles,latency_ms,energy_mj,"
               "core_energy_mj,sram_energy_mj,dram_energy_mj,dram_read_bits,dram_write_bits,"
               "bitops,weight_memory_bits,estimated\n";
  auto row = [](const std::string& name, const std::string& kind, const sdk::Cost& cost) {
    char energy[64];
    std::snprintf(energy, sizeof energy, "%.17g", cost.energy_mj);
    std::cout << name << ',' << kind << ',' << cost.macs << ',' << cost.cycles << ','
              << cost.compute_cycles << ',' << cost.stall_cycles << ','
              << number(cost.latency_ms, 6) << ',' << energy << ','
              << number(cost.core_energy_mj, 9) << ',' << number(cost.sram_energy_mj, 9) << ','
              << number(cost.dram_energy_mj, 9) << ',' << cost.dram_read_bits << ','
              << cost.dram_write_bits << ',' << cost.bitops << ',' << cost.weight_memory_bits
              << ',' << (cost.estimated ? 1 : 0) << "\n";
  };
  for (const auto& entry : costed) {
    row(entry.layer.name, sdk::to_string(entry.layer.spec.kind), entry.cost);
  }
  row("total", "", total_of(costed));
}

nlohmann::json cost_json(const sdk::Cost& cost) {
  return {{"energy_mj", cost.energy_mj},
          {"core_energy_mj", cost.core_energy_mj},
          {"sram_energy_mj", cost.sram_energy_mj},
          {"dram_energy_mj", cost.dram_energy_mj},
          {"latency_ms", cost.latency_ms},
          {"cycles", cost.cycles},
          {"compute_cycles", cost.compute_cycles},
          {"stall_cycles", cost.stall_cycles},
          {"dram_read_bits", cost.dram_read_bits},
          {"dram_write_bits", cost.dram_write_bits},
          {"macs", cost.macs},
          {"bitops", cost.bitops},
          {"model_size_bytes", static_cast<double>(cost.weight_memory_bits) / 8.0},
          {"estimated", cost.estimated}};
}

void print_json(const std::vector<CostedLayer>& costed, const std::string& plugin) {
  nlohmann::json document = {{"hardware", plugin}, {"layers", nlohmann::json::array()}};
  for (const auto& entry : costed) {
    nlohmann::json layer = cost_json(entry.cost);
    layer["name"] = entry.layer.name;
    layer["kind"] = sdk::to_string(entry.layer.spec.kind);
    layer["spec"] = describe(entry.layer.spec);
    document["layers"].push_back(layer);
  }
  document["total"] = cost_json(total_of(costed));
  std::cout << std::setprecision(17) << document.dump(2) << "\n";
}

}  // namespace

int run_cost(const std::vector<std::string>& arguments) {
  po::options_description options = common_options();
  options.add(stack_options());
  options.add_options()
      ("stack", po::value<std::string>(), "optional TOML stack (its [hardware] section is used)")
      ("network", po::value<std::string>(), "reference network: mobilenetv2, resnet50 or vgg16")
      ("input", po::value<std::int64_t>()->default_value(224), "input side of --network, pixels")
      ("wbits", po::value<int>()->default_value(8), "weight bits of every --network layer")
      ("abits", po::value<int>()->default_value(8), "activation bits of every --network layer")
      ("batch", po::value<std::int64_t>(), "inference batch (default: [hardware] batch)")
      ("layers", po::value<std::string>(), "CSV layer file (name,kind,n,h,w,c,oc,k,s,p,groups,wbits,abits[,dw_mode,im2col,obits])")
      ("arch", po::value<std::string>(), "architecture file (arch.json) of the stack's search space")
      ("sensitivity", po::bool_switch(), "print how each block's energy and latency change with b1 and b2")
      ("preset", po::value<std::string>(), "search space preset for --sensitivity: fashion-mnist, cifar or imagenet")
      ("hardware", po::value<std::string>(), "hardware plugin (overrides [hardware] plugin)")
      ("format", po::value<std::string>()->default_value("table"), "output: table, csv or json");
  po::variables_map values;
  const std::string usage =
      "nasq cost [STACK.toml] (--network NAME [--input 224] [--wbits B --abits B] [--batch N] | "
      "--layers FILE.csv | --arch arch.json) [--hardware NAME] [--set K=V]... "
      "[--format table|csv|json]\n"
      "       nasq cost [STACK.toml] --sensitivity [--network mobilenetv2 [--input 224] | "
      "--preset NAME] [--batch N] [--hardware NAME] [--set K=V]... [--format table|csv|json]";
  if (!parse_arguments(arguments, usage, options, {"stack"}, values, true)) return 0;

  const std::string format = values["format"].as<std::string>();
  if (format != "table" && format != "csv" && format != "json") {
    throw UsageError("invalid --format '" + format + "'; use table, csv or json");
  }
  if (values["sensitivity"].as<bool>()) {
    if (values.count("layers") || values.count("arch") ||
        values.count("network") + values.count("preset") > 1) {
      throw UsageError("--sensitivity takes at most one of --network mobilenetv2 and --preset, "
                       "and neither --layers nor --arch\nusage: " + usage);
    }
    if (!values["wbits"].defaulted() || !values["abits"].defaulted()) {
      throw UsageError("--sensitivity sets bits itself; leave out --wbits and --abits\nusage: " +
                       usage);
    }
    if (!values.count("network") && !values["input"].defaulted()) {
      throw UsageError("--input applies to --network mobilenetv2 only; a preset or stack sets its "
                       "own input size\nusage: " + usage);
    }
    print_sensitivity(values, format);
    return 0;
  }
  if (values.count("preset")) throw UsageError("--preset is an option of --sensitivity\nusage: " + usage);
  const int sources = static_cast<int>(values.count("network") + values.count("layers") +
                                       values.count("arch"));
  if (sources != 1) {
    throw UsageError("give exactly one of --network, --layers and --arch\nusage: " + usage);
  }

  std::vector<NamedLayer> layers;
  if (values.count("layers")) {
    layers = read_layer_file(values["layers"].as<std::string>());
  } else {
    CostSession session = open_cost_session(values, {});
    const std::int64_t batch = values.count("batch") ? values["batch"].as<std::int64_t>()
                                                     : session.stack->get_int("hardware.batch");
    layers = values.count("network")
                 ? network_layers(values["network"].as<std::string>(),
                                  values["input"].as<std::int64_t>(), batch,
                                  values["wbits"].as<int>(), values["abits"].as<int>())
                 : architecture_layers(*session.stack, values["arch"].as<std::string>(), batch);
  }

  const std::vector<CostedLayer> costed = cost_layers(values, layers);
  const std::string plugin = open_cost_session(values, {}).plugin;
  if (format == "json") {
    print_json(costed, plugin);
  } else if (format == "csv") {
    print_csv(costed);
  } else {
    print_table(costed, plugin);
  }
  return 0;
}

}  // namespace nasq::cli
