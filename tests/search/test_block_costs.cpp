// Per-block cost tables against whole-network costs, bounds, and the exact
// expected cost against enumeration, through the real hardware plugins.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <cmath>
#include <random>

#include "core/config/stack.hpp"
#include "core/cost/oracle.hpp"
#include "core/plugin/host.hpp"
#include "core/search/block_costs.hpp"
#include "core/search/expected_cost.hpp"
#include "core/space/network_graph.hpp"
#include "core/space/space_config.hpp"

namespace {

const std::string kPlugins = NASQ_BINARY_DIR "/lib/nasq/plugins";

struct Fixture {
  explicit Fixture(const std::string& text) : stack(nasq::Stack::parse(text, "test.toml")) {
    stack.validate_core();
    registry.scan({kPlugins});
    factory = std::make_unique<nasq::PluginFactory>(stack, registry);
    space = std::make_unique<nasq::space::SearchSpace>(nasq::space::load_search_space(stack));
  }
  std::unique_ptr<nasq::CostOracle> oracle() {
    const std::string plugin = stack.selected_plugin("hardware");
    return std::make_unique<nasq::CostOracle>(factory->hardware_model(plugin), plugin);
  }
  nasq::Stack stack;
  nasq::PluginRegistry registry;
  std::unique_ptr<nasq::PluginFactory> factory;
  std::unique_ptr<nasq::space::SearchSpace> space;
};

std::vector<int> random_choices(const nasq::space::SearchSpace& space, std::mt19937_64& generator) {
  std::vector<int> choices;
  for (const auto& decision : space.decisions()) {
    std::uniform_int_distribution<int> pick(0, static_cast<int>(decision.choices.size()) - 1);
    choices.push_back(pick(generator));
  }
  return choices;
}

double relative_error(double value, double reference) {
  return std::abs(value - reference) / std::max(std::abs(reference), 1e-300);
}

const char* kTinySpace = R"([search_space]
preset = "fashion-mnist"
[[search_space.stages]]
channels = 16
repeats = 1
stride = 1
[[search_space.stages]]
channels = 24
repeats = 1
stride = 2
)";

}  // namespace

TEST_CASE("block tables sum to the network cost") {
  for (const std::string hardware :
       {"[hardware]\nplugin = \"bitfusion\"\n",
        "[hardware.bitfusion]\noutput_precision = \"activation\"\n",
        "[hardware]\nplugin = \"analytical\"\n"}) {
    Fixture fixture(hardware);
    auto oracle = fixture.oracle();
    const nasq::search::BlockCostTable table(*fixture.space, *oracle, 16);
    std::mt19937_64 generator(3);
    for (int sample = 0; sample < 20; ++sample) {
      const std::vector<int> choices = random_choices(*fixture.space, generator);
      const auto architecture = nasq::space::architecture_from_indices(*fixture.space, choices);
      const auto layers = nasq::space::build_network(*fixture.space, architecture).layer_specs(16);
      const nasq::sdk::Cost network = oracle->total(layers);
      const nasq::sdk::Cost summed = table.architecture_cost(choices);
      INFO(hardware << " sample " << sample);
      for (const auto& metric : oracle->capabilities().metrics) {
        CHECK(relative_error(nasq::sdk::metric_value(summed, metric),
                             nasq::sdk::metric_value(network, metric)) <= 1e-12);
      }
    }
  }
}

TEST_CASE("bounds enclose sampled networks and are reached") {
  Fixture fixture("");
  auto oracle = fixture.oracle();
  const nasq::search::BlockCostTable table(*fixture.space, *oracle, 16);
  const auto bounds = table.bounds("energy_mj");
  CHECK(bounds.exact);
  CHECK(bounds.min < bounds.max);
  std::mt19937_64 generator(5);
  for (int sample = 0; sample < 50; ++sample) {
    const double energy = table.architecture_metric(random_choices(*fixture.space, generator), "energy_mj");
    CHECK(energy >= bounds.min * (1 - 1e-12));
    CHECK(energy <= bounds.max * (1 + 1e-12));
  }
}

TEST_CASE("expected cost equals enumeration") {
  Fixture fixture(kTinySpace);
  auto oracle = fixture.oracle();
  const nasq::search::BlockCostTable table(*fixture.space, *oracle, 16);
  const nasq::search::ExpectedCost expected(table, "energy_mj");

  torch::manual_seed(0);
  std::vector<torch::Tensor> logits;
  std::vector<torch::Tensor> probabilities;
  for (const auto& decision : fixture.space->decisions()) {
    logits.push_back(torch::randn({static_cast<std::int64_t>(decision.choices.size())},
                                  torch::dtype(torch::kFloat64).requires_grad(true)));
    probabilities.push_back(torch::softmax(logits.back(), 0));
  }
  const torch::Tensor value = expected(probabilities);

  // Enumerate every architecture of the tiny space.
  std::vector<std::int64_t> counts;
  for (const auto& decision : fixture.space->decisions()) counts.push_back(static_cast<std::int64_t>(decision.choices.size()));
  std::vector<int> choices(counts.size(), 0);
  double total = 0.0;
  double probability_mass = 0.0;
  while (true) {
    double probability = 1.0;
    for (std::size_t d = 0; d < choices.size(); ++d) probability *= probabilities[d][choices[d]].item<double>();
    total += probability * table.architecture_metric(choices, "energy_mj");
    probability_mass += probability;
    std::size_t position = choices.size();
    while (position > 0 && ++choices[position - 1] == counts[position - 1]) choices[--position] = 0;
    if (position == 0) break;
  }
  CHECK(probability_mass == doctest::Approx(1.0));
  CHECK(relative_error(value.item<double>(), total) <= 1e-12);

  value.backward();
  for (const auto& logit : logits) {
    REQUIRE(logit.grad().defined());
    CHECK(torch::isfinite(logit.grad()).all().item<bool>());
  }
}
