// A discrete network as a DAG of layers on Boost.Graph: shapes, MACs, weights,
// bit-widths, and the LayerSpec list that hardware models cost.
//
// Bit-width rule: a conv or FC layer quantizes its weights to weight_bits and
// its input activations to activation_bits, and stores its output at its own
// activation_bits (outputs are re-quantized by the next layer). Adds and pools
// take the output bits of their most recently added input (in an MB block,
// the projection) and report them as activation, output and weight bits,
// although they have no weights. Every layer's bits then depend only on its
// own block's choices, so a network's cost is a sum of per-block terms.
#pragma once

#include <boost/graph/adjacency_list.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/space/architecture.hpp"
#include "core/space/search_space.hpp"
#include "nasq/sdk/hardware_model.hpp"

namespace nasq::space {

enum class NodeKind {
  conv,             // dense convolution
  depthwise_conv,   // groups == input channels == output channels
  fully_connected,  // reads its input flattened
  add,              // element-wise sum of two inputs of the same shape
  global_pool,      // global average pooling to 1x1
  max_pool,         // windowed max pooling (ResNet-50, VGG-16)
};

const char* to_string(NodeKind kind) noexcept;

enum class Activation { none, relu, relu6 };

// One layer: a vertex of the graph. Sizes are per image (batch 1).
struct LayerNode {
  std::string name;   // "block3.dw"
  std::string group;  // what the layer belongs to: "stem", "block3", "head", "pool", "fc"
  NodeKind kind = NodeKind::conv;
  std::int64_t input_h = 0, input_w = 0, input_c = 0;
  std::int64_t output_h = 0, output_w = 0, output_c = 0;
  std::int64_t kernel = 1;
  std::int64_t stride = 1;
  std::int64_t padding = 0;  // zero padding on each side, pixels
  std::int64_t groups = 1;
  int weight_bits = kFixedLayerBits;
  int activation_bits = kFixedLayerBits;  // input activations
  int output_bits = kFixedLayerBits;      // set by NetworkGraph::finish()
  bool first_layer = false;               // the network's first conv
  Activation activation = Activation::none;  // applied to the output
  std::int64_t weights = 0;  // kernel elements, stored at weight_bits
  std::int64_t biases = 0;   // one per output channel (batch norm folded in)
  std::int64_t macs = 0;

  std::int64_t output_elements() const { return output_h * output_w * output_c; }
};

using LayerGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, LayerNode>;
using Vertex = LayerGraph::vertex_descriptor;

// A feature map flowing between layers: its producer (null_vertex() for the
// network input) and its shape.
struct Tensor {
  Vertex producer;
  std::int64_t h = 0, w = 0, c = 0;
};

// Totals over a set of layers, per image.
struct LayerTotals {
  std::int64_t macs = 0;
  std::int64_t weights = 0;
  std::int64_t biases = 0;
  std::int64_t weight_storage_bits = 0;  // sum of weights x weight_bits
  std::int64_t activation_elements = 0;  // sum of output elements
  std::int64_t peak_activation_bits = 0;  // largest output tensor x its output_bits

  std::int64_t parameters() const { return weights + biases; }
  // Weights at their bit-widths plus 32-bit biases, rounded up to bytes.
  std::int64_t model_size_bytes() const;
};

class NetworkGraph {
 public:
  // Input feature map of the network.
  Tensor input(std::int64_t h, std::int64_t w, std::int64_t c);

  // Adds a conv or depthwise conv. From `node` it uses name, group, kind,
  // output_c, kernel, stride, padding, groups, the bits, first_layer and
  // activation, and fills in the shapes, weights, biases and MACs.
  Tensor add_conv(const Tensor& input, LayerNode node);
  // Adds an FC layer that reads `input` flattened to h * w * c values.
  Tensor add_fully_connected(const Tensor& input, std::string name, std::string group,
                             std::int64_t outputs, int weight_bits, int activation_bits);
  Tensor add_residual(const Tensor& a, const Tensor& b, std::string name, std::string group,
                      Activation activation = Activation::none);
  Tensor add_global_pool(const Tensor& input, std::string name, std::string group);
  Tensor add_max_pool(const Tensor& input, std::string name, std::string group,
                      std::int64_t kernel, std::int64_t stride, std::int64_t padding);

  // Sets output_bits, and the bits of adds and pools, by the rule at the top
  // of this file. Call once after the last layer is added.
  void finish();

  const LayerGraph& graph() const { return graph_; }
  std::size_t layer_count() const { return boost::num_vertices(graph_); }
  const LayerNode& layer(Vertex v) const { return graph_[v]; }
  // Vertices in topological order (the order they were added).
  std::vector<Vertex> layers_in_order() const;

  // One LayerSpec per layer except max pools, which LayerKind cannot
  // describe; pools get kernel = input side so that output_h() is 1.
  std::vector<sdk::LayerSpec> layer_specs(std::int64_t batch) const;

  LayerTotals totals() const;
  // Totals per LayerNode::group, in the order the groups first appear.
  std::vector<std::pair<std::string, LayerTotals>> totals_by_group() const;

 private:
  Vertex add_vertex(LayerNode node, const std::vector<Tensor>& inputs);

  LayerGraph graph_;
  bool finished_ = false;
};

// One inverted-residual block: optional 1x1 expansion (when expansion > 1),
// k x k depthwise conv with the stride, linear 1x1 projection, and a residual
// add when stride is 1 and the channels do not change.
struct InvertedResidualSpec {
  int expansion = 6;
  int kernel = 3;
  std::int64_t output_c = 16;
  std::int64_t stride = 1;
  int bottleneck_bits = 8;  // expansion and projection
  int depthwise_bits = 8;
  int activation_bits_1x1 = 0;  // input bits of the 1x1 convs (0: bottleneck_bits)
  int activation_bits_dw = 0;   // input bits of the depthwise conv (0: depthwise_bits)
};

// Adds the block's layers, named "<group>.expand", ".dw", ".project", ".add".
Tensor add_inverted_residual(NetworkGraph& graph, const Tensor& input,
                             const InvertedResidualSpec& spec, const std::string& group);

// Builds the discrete network of `architecture` in `space` after validating
// it: stem, the kept blocks (groups "block<i>"), head, pool and FC. Skipped
// blocks add no layers.
NetworkGraph build_network(const SearchSpace& space, const Architecture& architecture);

}  // namespace nasq::space
