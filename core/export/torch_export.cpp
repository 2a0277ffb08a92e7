// Pickled export of a trained network's tensors, architecture and bits.
#include "core/export/torch_export.hpp"

#include <torch/torch.h>

#include <fstream>

#include "core/model/supernet.hpp"
#include "core/plugin/torch_plugins.hpp"
#include "core/space/network_graph.hpp"
#include "core/space/space_config.hpp"
#include "core/util/atomic_file.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::exporting {

std::filesystem::path export_pickle(PluginFactory& factory, const std::filesystem::path& run_directory) {
  Stack& stack = factory.stack();
  const space::SearchSpace space = space::load_search_space(stack);
  const space::Architecture architecture = space::load_architecture(space, run_directory / "arch.json");
  const auto quantizer = create_quantizer(factory, stack.get_string("quantizer.plugin"));
  model::DiscreteNetwork network(space, architecture, *quantizer);
  const std::filesystem::path model_file = run_directory / "model.pt";
  if (!std::filesystem::exists(model_file)) {
    throw sdk::Error("cannot export " + run_directory.string() + ": " + model_file.string() +
                     " not found; run the train stage first");
  }
  torch::serialize::InputArchive archive;
  archive.load_from(model_file.string());
  network->load(archive);

  c10::Dict<std::string, at::Tensor> state;
  for (const auto& item : network->named_parameters()) state.insert(item.key(), item.value().detach().cpu());
  for (const auto& item : network->named_buffers()) state.insert(item.key(), item.value().cpu());
  c10::List<std::string> labels;
  for (const auto& block : architecture.blocks) labels.push_back(space::block_label(block));
  c10::Dict<std::string, int64_t> bits;
  const space::NetworkGraph graph = space::build_network(space, architecture);
  for (const auto vertex : graph.layers_in_order()) {
    const space::LayerNode& node = graph.layer(vertex);
    if (node.kind == space::NodeKind::conv || node.kind == space::NodeKind::depthwise_conv ||
        node.kind == space::NodeKind::fully_connected) {
      bits.insert(node.name, node.weight_bits);
    }
  }
  c10::impl::GenericDict document(c10::StringType::get(), c10::AnyType::get());
  document.insert("state_dict", state);
  document.insert("architecture", labels);
  document.insert("bits", bits);
  document.insert("nasq_version", std::string(NASQ_VERSION));

  const std::vector<char> bytes = torch::pickle_save(c10::IValue(document));
  const std::filesystem::path target = run_directory / "export.pt";
  replace_file_atomically(target, [&](const std::filesystem::path& path) {
    std::ofstream stream(path, std::ios::binary);
    stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!stream) throw sdk::Error("failed to write " + path.string());
  });
  return target;
}

}  // namespace nasq::exporting
