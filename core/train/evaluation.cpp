// Evaluation of a trained network: test errors, size, MACs, BitOPs, hardware
// cost per layer, and results.json with the run's provenance.
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/cost/oracle.hpp"
#include "core/data/batch_loader.hpp"
#include "core/data/dataset.hpp"
#include "core/data/stack_options.hpp"
#include "core/export/trained_network.hpp"
#include "core/model/supernet.hpp"
#include "core/plugin/torch_plugins.hpp"
#include "core/report/formatting.hpp"
#include "core/space/network_graph.hpp"
#include "core/space/space_config.hpp"
#include "core/train/trainer.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/log.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::train {
namespace {

struct TestScores {
  double top1_error = 0.0;
  double top5_error = 0.0;
  std::int64_t images = 0;
};

TestScores test_scores(model::DiscreteNetwork& network, data::BatchLoader& loader,
                       const torch::Device& device) {
  network->eval();
  const torch::NoGradGuard no_grad;
  double top1 = 0.0;
  double top5 = 0.0;
  std::int64_t images = 0;
  while (std::optional<data::Batch> next = loader.next()) {
    const data::Batch batch = data::to_device(*next, device);
    const torch::Tensor logits = network->forward(batch.images);
    const std::int64_t k = std::min<std::int64_t>(5, logits.size(1));
    const torch::Tensor top = std::get<1>(logits.topk(k, 1));
    const torch::Tensor hits = top.eq(batch.labels.unsqueeze(1));
    top1 += hits.select(1, 0).sum().item<double>();
    top5 += hits.any(1).sum().item<double>();
    images += batch.labels.size(0);
  }
  const double count = static_cast<double>(std::max<std::int64_t>(images, 1));
  return {1.0 - top1 / count, 1.0 - top5 / count, images};
}

// FNV-1a over the names, sizes and contents of the files under `path`.
std::string dataset_hash(const std::filesystem::path& path) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  auto mix = [&](const char* data, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      hash ^= static_cast<unsigned char>(data[i]);
      hash *= 0x100000001b3ULL;
    }
  };
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(path)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  } else if (std::filesystem::is_regular_file(path)) {
    files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  std::vector<char> buffer(1 << 16);
  for (const auto& file : files) {
    const std::string name = std::filesystem::relative(file, path).string();
    mix(name.data(), name.size());
    std::ifstream stream(file, std::ios::binary);
    while (stream.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || stream.gcount() > 0) {
      mix(buffer.data(), static_cast<std::size_t>(stream.gcount()));
    }
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

std::string precision_label(const space::Architecture& architecture) {
  int low = 99;
  int high = 0;
  for (const auto& block : architecture.blocks) {
    if (block.skip) continue;
    low = std::min({low, block.bottleneck_bits, block.depthwise_bits});
    high = std::max({high, block.bottleneck_bits, block.depthwise_bits});
  }
  if (high == 0) return "uniform 8 bit";
  return low == high ? "uniform " + std::to_string(low) + " bit"
                     : "mixed " + std::to_string(low) + "-" + std::to_string(high) + " bit";
}

nlohmann::json hardware_json(PluginFactory& factory, const space::NetworkGraph& graph) {
  Stack& stack = factory.stack();
  const std::string plugin = stack.selected_plugin("hardware");
  CostOracle oracle(factory.hardware_model(plugin), plugin);
  const std::int64_t batch = stack.get_int("hardware.batch");
  const std::vector<sdk::LayerSpec> specs = graph.layer_specs(batch);
  const std::vector<sdk::Cost> costs = oracle.layer_costs(specs);
  nlohmann::json layers = nlohmann::json::array();
  sdk::Cost total;
  std::size_t index = 0;
  for (const auto vertex : graph.layers_in_order()) {
    const space::LayerNode& node = graph.layer(vertex);
    if (node.kind == space::NodeKind::max_pool) continue;
    const sdk::Cost& cost = costs[index++];
    total += cost;
    layers.push_back({{"name", node.name},
                      {"kind", space::to_string(node.kind)},
                      {"energy_mj", cost.energy_mj},
                      {"latency_ms", cost.latency_ms},
                      {"cycles", cost.cycles},
                      {"macs", cost.macs}});
  }
  return {{"plugin", plugin},
          {"version", factory.registry().find(PluginKind::hardware, plugin).version},
          {"batch", batch},
          {"energy_mj", total.energy_mj},
          {"latency_ms", total.latency_ms},
          {"cycles", total.cycles},
          {"core_energy_mj", total.core_energy_mj},
          {"sram_energy_mj", total.sram_energy_mj},
          {"dram_energy_mj", total.dram_energy_mj},
          {"layers", layers}};
}

nlohmann::json provenance_json(PluginFactory& factory) {
  Stack& stack = factory.stack();
  nlohmann::json plugins = nlohmann::json::array();
  for (const auto& [section, kind] :
       {std::pair<std::string, PluginKind>{"hardware", PluginKind::hardware},
        {"quantizer", PluginKind::quantizer},
        {"search", PluginKind::strategy}}) {
    const PluginInfo& info = factory.registry().find(kind, stack.selected_plugin(section));
    plugins.push_back({{"kind", to_string(kind)},
                       {"name", info.name},
                       {"version", info.version},
                       {"path", info.path.string()}});
  }
  const data::DataOptions data_options = data::data_options_from_stack(stack, 1);
  return {{"config", stack.to_toml()},
          {"plugins", plugins},
          {"dataset", {{"kind", data_options.kind},
                       {"path", data_options.path},
                       {"fnv1a64", dataset_hash(data_options.path)}}},
          {"seed", stack.get_int("run.seed")},
          {"nasq_version", NASQ_VERSION}};
}

}  // namespace

std::string run_evaluation(PluginFactory& factory, const std::filesystem::path& run_directory,
                           const std::filesystem::path& architecture_file) {
  Stack& stack = factory.stack();
  const auto start = std::chrono::steady_clock::now();
  const space::SearchSpace space = space::load_search_space(stack);
  const space::Architecture architecture = space::load_architecture(space, architecture_file);
  const std::shared_ptr<sdk::Quantizer> quantizer =
      create_quantizer(factory, stack.get_string("quantizer.plugin"));
  model::DiscreteNetwork network(space, architecture, *quantizer);
  const std::filesystem::path model_file = run_directory / "model.pt";
  if (!std::filesystem::exists(model_file)) {
    throw sdk::Error("cannot evaluate " + run_directory.string() + ": " + model_file.string() +
                     " not found; run the train stage first");
  }
  exporting::load_model_file(*network, model_file, architecture_file);
  const torch::Device device = data::parse_device(stack.get_string("run.device"));
  network->to(device);

  const data::DataOptions data_options = data::data_options_from_stack(stack, 256);
  auto full = std::make_shared<const data::ImageSet>(data::load_full_train(data_options));
  auto test = std::make_shared<const data::ImageSet>(data::load_test(data_options));
  data::BatchLoader loader(test, data::resolve_normalization(data_options, *full),
                           data::loader_options(data_options, false));
  const TestScores scores = test_scores(network, loader, device);

  const space::NetworkGraph graph = space::build_network(space, architecture);
  const space::LayerTotals totals = graph.totals();
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& block : architecture.blocks) blocks.push_back(space::block_label(block));
  const std::string strategy = stack.selected_plugin("search");
  nlohmann::json results = {
      {"nasq_version", NASQ_VERSION},
      {"model", strategy + " \xCE\xBB=" + report::format_number(stack.get_double("search.energy_lambda")) +
                    " seed " + std::to_string(stack.get_int("run.seed"))},
      {"strategy", strategy},
      {"lambda", stack.get_double("search.energy_lambda")},
      {"seed", stack.get_int("run.seed")},
      {"precision", precision_label(architecture)},
      {"architecture", {{"blocks", blocks}}},
      {"test", {{"top1_error", scores.top1_error},
                {"top5_error", scores.top5_error},
                {"images", scores.images}}},
      {"model_size_bytes", (totals.weight_storage_bits + 7) / 8},
      {"parameters", totals.parameters()},
      {"macs", totals.macs},
      {"bitops", 0},
      {"hardware", hardware_json(factory, graph)},
      {"provenance", provenance_json(factory)}};
  std::int64_t bitops = 0;
  for (const auto vertex : graph.layers_in_order()) {
    const space::LayerNode& node = graph.layer(vertex);
    bitops += node.macs * node.weight_bits * node.activation_bits;
  }
  results["bitops"] = bitops;
  results["provenance"]["wall_s"]["evaluate"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const std::string text = results.dump(2) + "\n";
  write_text_atomically(run_directory / "results.json", text);
  log_info("test top-1 error " + std::to_string(scores.top1_error * 100.0) + " %, energy " +
           std::to_string(results["hardware"]["energy_mj"].get<double>()) + " mJ, latency " +
           std::to_string(results["hardware"]["latency_ms"].get<double>()) + " ms, size " +
           std::to_string(results["model_size_bytes"].get<std::int64_t>()) + " bytes");
  return text;
}

}  // namespace nasq::train
