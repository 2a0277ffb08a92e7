// `nasq space show`: prints a stack's search space (blocks, choice sets, size).
#include <iostream>

#include "core/cli/command.hpp"
#include "core/cost/oracle.hpp"
#include "core/search/block_costs.hpp"
#include "core/space/space_config.hpp"
#include "core/space/space_report.hpp"

namespace po = boost::program_options;

namespace nasq::cli {
namespace {

// Prints the lowest and highest hardware cost of the space's networks for
// every metric the stack's hardware model reports: exact per-block extremes
// for an additive model, sampled estimates otherwise.
void print_cost_range(const po::variables_map& values, const space::SearchSpace& space,
                      std::ostream& out) {
  std::unique_ptr<Stack> stack = open_stack(values);
  PluginRegistry registry;
  registry.scan(search_path(values, stack.get()));
  PluginFactory factory(*stack, registry);
  const std::string plugin = stack->selected_plugin("hardware");
  CostOracle oracle(factory.hardware_model(plugin), plugin);
  const std::int64_t batch = stack->get_int("hardware.batch");
  std::unique_ptr<search::BlockCostTable> table;
  if (oracle.capabilities().additive) {
    table = std::make_unique<search::BlockCostTable>(space, oracle, batch);
  }
  out << "\ncost range on hardware '" << plugin << "' at batch " << batch
      << (table ? " (exact)" : " (estimated from 64 sampled networks)") << ":\n";
  for (const auto& metric : oracle.capabilities().metrics) {
    const search::CostBounds bounds =
        table ? table->bounds(metric) : search::sampled_bounds(space, oracle, batch, metric, 64, 1);
    out << "  " << metric << ": " << bounds.min << " .. " << bounds.max << "\n";
  }
}

}  // namespace

int run_space(const std::vector<std::string>& arguments) {
  po::options_description options = common_options();
  options.add(stack_options());
  options.add_options()
      ("action", po::value<std::string>(), "show")
      ("stack", po::value<std::string>(), "the TOML stack");
  po::variables_map values;
  const std::string usage = "nasq space show STACK.toml [--set KEY=VALUE]...";
  if (!parse_arguments(arguments, usage, options, {"action", "stack"}, values)) return 0;
  if (values["action"].as<std::string>() != "show") {
    throw UsageError("unknown space action '" + values["action"].as<std::string>() +
                     "'\nusage: " + usage);
  }

  const std::unique_ptr<Stack> stack = open_stack(values);
  const space::SearchSpace space = space::load_search_space(*stack);
  std::cout << space::format_space(space);
  print_cost_range(values, space, std::cout);
  return 0;
}

}  // namespace nasq::cli
