// NetworkGraph: adding layers with their shapes and sizes, bit-widths, totals, LayerSpecs.
#include "core/space/network_graph.hpp"

#include <algorithm>
#include <map>

#include "nasq/sdk/error.hpp"

namespace nasq::space {
namespace {

constexpr int kBiasBits = 32;

bool is_weighted(NodeKind kind) {
  return kind == NodeKind::conv || kind == NodeKind::depthwise_conv ||
         kind == NodeKind::fully_connected;
}

std::int64_t pooled_size(std::int64_t input, std::int64_t kernel, std::int64_t stride,
                         std::int64_t padding) {
  return (input + 2 * padding - kernel) / stride + 1;
}

sdk::LayerKind layer_kind(NodeKind kind) {
  switch (kind) {
    case NodeKind::conv: return sdk::LayerKind::conv;
    case NodeKind::depthwise_conv: return sdk::LayerKind::depthwise_conv;
    case NodeKind::fully_connected: return sdk::LayerKind::fully_connected;
    case NodeKind::add: return sdk::LayerKind::add;
    case NodeKind::global_pool: return sdk::LayerKind::pool;
    case NodeKind::max_pool: break;
  }
  throw sdk::Error("internal error: max pooling has no LayerKind");
}

void accumulate(LayerTotals& totals, const LayerNode& node) {
  totals.macs += node.macs;
  totals.weights += node.weights;
  totals.biases += node.biases;
  totals.weight_storage_bits += node.weights * node.weight_bits;
  totals.activation_elements += node.output_elements();
  totals.peak_activation_bits =
      std::max(totals.peak_activation_bits, node.output_elements() * node.output_bits);
}

}  // namespace

const char* to_string(NodeKind kind) noexcept {
  switch (kind) {
    case NodeKind::conv: return "conv";
    case NodeKind::depthwise_conv: return "depthwise_conv";
    case NodeKind::fully_connected: return "fully_connected";
    case NodeKind::add: return "add";
    case NodeKind::global_pool: return "global_pool";
    case NodeKind::max_pool: return "max_pool";
  }
  return "?";
}

std::int64_t LayerTotals::model_size_bytes() const {
  return (weight_storage_bits + biases * kBiasBits + 7) / 8;
}

Tensor NetworkGraph::input(std::int64_t h, std::int64_t w, std::int64_t c) {
  return {boost::graph_traits<LayerGraph>::null_vertex(), h, w, c};
}

Vertex NetworkGraph::add_vertex(LayerNode node, const std::vector<Tensor>& inputs) {
  if (finished_) throw sdk::Error("internal error: layer added after NetworkGraph::finish()");
  const Vertex vertex = boost::add_vertex(std::move(node), graph_);
  for (const Tensor& input : inputs) {
    if (input.producer != boost::graph_traits<LayerGraph>::null_vertex()) {
      boost::add_edge(input.producer, vertex, graph_);
    }
  }
  return vertex;
}

Tensor NetworkGraph::add_conv(const Tensor& input, LayerNode node) {
  if (node.kind == NodeKind::depthwise_conv) {
    node.groups = input.c;
    node.output_c = input.c;
  }
  if (input.c % node.groups != 0 || node.output_c % node.groups != 0) {
    throw sdk::Error("internal error: groups of layer " + node.name + " do not divide channels");
  }
  node.input_h = input.h;
  node.input_w = input.w;
  node.input_c = input.c;
  node.output_h = pooled_size(input.h, node.kernel, node.stride, node.padding);
  node.output_w = pooled_size(input.w, node.kernel, node.stride, node.padding);
  node.weights = node.kernel * node.kernel * (input.c / node.groups) * node.output_c;
  node.biases = node.output_c;
  node.macs = node.output_h * node.output_w * node.weights;
  const std::int64_t h = node.output_h;
  const std::int64_t w = node.output_w;
  const std::int64_t c = node.output_c;
  return {add_vertex(std::move(node), {input}), h, w, c};
}

Tensor NetworkGraph::add_fully_connected(const Tensor& input, std::string name, std::string group,
                                         std::int64_t outputs, int weight_bits,
                                         int activation_bits) {
  LayerNode node;
  node.name = std::move(name);
  node.group = std::move(group);
  node.kind = NodeKind::fully_connected;
  node.input_h = 1;
  node.input_w = 1;
  node.input_c = input.h * input.w * input.c;
  node.output_h = 1;
  node.output_w = 1;
  node.output_c = outputs;
  node.weight_bits = weight_bits;
  node.activation_bits = activation_bits;
  node.weights = node.input_c * outputs;
  node.biases = outputs;
  node.macs = node.weights;
  return {add_vertex(std::move(node), {input}), 1, 1, outputs};
}

Tensor NetworkGraph::add_residual(const Tensor& a, const Tensor& b, std::string name,
                                  std::string group, Activation activation) {
  if (a.h != b.h || a.w != b.w || a.c != b.c) {
    throw sdk::Error("internal error: residual add " + name + " joins different shapes");
  }
  LayerNode node;
  node.name = std::move(name);
  node.group = std::move(group);
  node.kind = NodeKind::add;
  node.input_h = node.output_h = a.h;
  node.input_w = node.output_w = a.w;
  node.input_c = node.output_c = a.c;
  node.activation = activation;
  return {add_vertex(std::move(node), {a, b}), a.h, a.w, a.c};
}

Tensor NetworkGraph::add_global_pool(const Tensor& input, std::string name, std::string group) {
  LayerNode node;
  node.name = std::move(name);
  node.group = std::move(group);
  node.kind = NodeKind::global_pool;
  node.input_h = input.h;
  node.input_w = input.w;
  node.input_c = node.output_c = input.c;
  node.output_h = node.output_w = 1;
  node.kernel = input.h;
  return {add_vertex(std::move(node), {input}), 1, 1, input.c};
}

Tensor NetworkGraph::add_max_pool(const Tensor& input, std::string name, std::string group,
                                  std::int64_t kernel, std::int64_t stride,
                                  std::int64_t padding) {
  LayerNode node;
  node.name = std::move(name);
  node.group = std::move(group);
  node.kind = NodeKind::max_pool;
  node.input_h = input.h;
  node.input_w = input.w;
  node.input_c = node.output_c = input.c;
  node.kernel = kernel;
  node.stride = stride;
  node.padding = padding;
  node.output_h = pooled_size(input.h, kernel, stride, padding);
  node.output_w = pooled_size(input.w, kernel, stride, padding);
  const std::int64_t h = node.output_h;
  const std::int64_t w = node.output_w;
  return {add_vertex(std::move(node), {input}), h, w, input.c};
}

void NetworkGraph::finish() {
  // Vertices were added in topological order, so one forward walk sees every
  // producer before its readers.
  const std::size_t count = boost::num_vertices(graph_);
  for (std::size_t v = 0; v < count; ++v) {
    LayerNode& node = graph_[v];
    if (!is_weighted(node.kind)) {
      Vertex latest = boost::graph_traits<LayerGraph>::null_vertex();
      for (const auto edge : boost::make_iterator_range(boost::in_edges(v, graph_))) {
        const Vertex source = boost::source(edge, graph_);
        if (latest == boost::graph_traits<LayerGraph>::null_vertex() || source > latest) {
          latest = source;
        }
      }
      node.activation_bits = latest == boost::graph_traits<LayerGraph>::null_vertex()
                                 ? kFixedLayerBits
                                 : graph_[latest].output_bits;
      node.weight_bits = node.activation_bits;
    }
    node.output_bits = node.activation_bits;
  }
  finished_ = true;
}

std::vector<Vertex> NetworkGraph::layers_in_order() const {
  std::vector<Vertex> order;
  for (const Vertex v : boost::make_iterator_range(boost::vertices(graph_))) order.push_back(v);
  return order;
}

std::vector<sdk::LayerSpec> NetworkGraph::layer_specs(std::int64_t batch) const {
  if (!finished_) throw sdk::Error("internal error: layer_specs() before NetworkGraph::finish()");
  std::vector<sdk::LayerSpec> specs;
  for (const Vertex v : layers_in_order()) {
    const LayerNode& node = graph_[v];
    if (node.kind == NodeKind::max_pool) continue;
    sdk::LayerSpec spec;
    spec.kind = layer_kind(node.kind);
    spec.batch = batch;
    spec.input_h = node.input_h;
    spec.input_w = node.input_w;
    spec.input_c = node.input_c;
    spec.output_c = node.output_c;
    spec.kernel = node.kernel;
    spec.stride = node.stride;
    spec.padding = node.padding;
    spec.groups = node.groups;
    spec.weight_bits = node.weight_bits;
    spec.activation_bits = node.activation_bits;
    spec.output_bits = node.output_bits;
    spec.first_layer = node.first_layer;
    specs.push_back(spec);
  }
  return specs;
}

LayerTotals NetworkGraph::totals() const {
  LayerTotals totals;
  for (const Vertex v : layers_in_order()) accumulate(totals, graph_[v]);
  return totals;
}

std::vector<std::pair<std::string, LayerTotals>> NetworkGraph::totals_by_group() const {
  std::vector<std::pair<std::string, LayerTotals>> groups;
  std::map<std::string, std::size_t> position;
  for (const Vertex v : layers_in_order()) {
    const LayerNode& node = graph_[v];
    const auto [found, inserted] = position.emplace(node.group, groups.size());
    if (inserted) groups.emplace_back(node.group, LayerTotals{});
    accumulate(groups[found->second].second, node);
  }
  return groups;
}

}  // namespace nasq::space
