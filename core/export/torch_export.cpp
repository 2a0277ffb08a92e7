// Pickled export of a trained network's tensors, architecture and bits.
#include "core/export/torch_export.hpp"

#include <torch/torch.h>

#include <fstream>

#include "core/space/network_graph.hpp"
#include "core/util/atomic_file.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::exporting {

std::filesystem::path export_pickle(const TrainedNetwork& trained,
                                    const std::filesystem::path& run_directory) {
  const model::DiscreteNetwork& network = trained.network;
  const space::Architecture& architecture = trained.architecture;

  c10::Dict<std::string, at::Tensor> state;
  for (const auto& item : network->named_parameters()) state.insert(item.key(), item.value().detach().cpu());
  for (const auto& item : network->named_buffers()) state.insert(item.key(), item.value().cpu());
  c10::List<std::string> labels;
  for (const auto& block : architecture.blocks) labels.push_back(space::block_label(block));
  c10::Dict<std::string, int64_t> bits;
  const space::NetworkGraph graph = space::build_network(trained.space, architecture);
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
  if (trained.normalization) {
    document.insert("input_mean", c10::List<double>(std::vector<double>(
                                      trained.normalization->mean.begin(),
                                      trained.normalization->mean.end())));
    document.insert("input_std", c10::List<double>(std::vector<double>(
                                     trained.normalization->std.begin(),
                                     trained.normalization->std.end())));
  }

  const std::vector<char> bytes = torch::pickle_save(c10::IValue(document));
  const std::filesystem::path target = run_directory / "export.pt";
  write_file_atomically(target, std::string_view(bytes.data(), bytes.size()));
  return target;
}

}  // namespace nasq::exporting
