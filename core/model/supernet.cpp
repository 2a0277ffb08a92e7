// The supernet, the discrete network, and the copy of supernet weights into a
// discrete network.
#include "core/model/supernet.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <utility>

#include "core/model/layers.hpp"
#include "core/model/mixed_block.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::model {
namespace {

QuantizedConvOptions stem_options(const space::SpaceOptions& options) {
  QuantizedConvOptions stem;
  stem.name = "stem";
  stem.in_channels = options.input_channels;
  stem.out_channels = options.stem_channels;
  stem.kernel = 3;
  stem.stride = options.stem_stride;
  return stem;
}

QuantizedConvOptions head_options(const space::SearchSpace& space) {
  QuantizedConvOptions head;
  head.name = "head";
  head.in_channels = space.head_input_channels();
  head.out_channels = space.options().head_channels;
  return head;
}

// Pooled features [N, head channels] of the head's output.
torch::Tensor global_average_pool(const torch::Tensor& x) { return x.mean({2, 3}); }

MixedBlockOptions block_options(const SupernetOptions& options) {
  if (options.weight_sharing != "masked" && options.weight_sharing != "shared" &&
      options.weight_sharing != "separate") {
    throw sdk::Error("invalid supernet weight_sharing '" + options.weight_sharing +
                     "'; valid values: masked, shared, separate");
  }
  if (options.bit_mixing != "fast" && options.bit_mixing != "exact") {
    throw sdk::Error("invalid supernet bit_mixing '" + options.bit_mixing +
                     "'; valid values: fast, exact");
  }
  MixedBlockOptions block;
  block.shared_weights = options.weight_sharing != "separate";
  block.masked_expansion = options.weight_sharing == "masked";
  block.exact_bit_mixing = options.bit_mixing == "exact";
  return block;
}

// Collects TensorMatch entries with the discrete network's names.
class Matcher {
 public:
  explicit Matcher(std::vector<TensorMatch>& matches) : matches_(matches) {}

  void add(const std::string& name, const torch::Tensor& target, const torch::Tensor& source,
           std::int64_t dim = -1, std::int64_t start = 0, std::int64_t length = 0) {
    TensorMatch match{name, target, source, dim, start, length};
    const torch::Tensor view = match.narrow(source);
    if (view.sizes() != target.sizes()) {
      std::ostringstream message;
      message << "cannot copy supernet weights into '" << name << "': the supernet part has shape "
              << view.sizes() << " but the discrete network's tensor has shape " << target.sizes()
              << "; build both networks from the same search space";
      throw sdk::Error(message.str());
    }
    matches_.push_back(std::move(match));
  }

  // Every parameter and buffer of `target` with the tensor of the same name in
  // `source`. A supernet quantizer op serves all bit choices, so it may have
  // more tensors than the network's op.
  void add_by_name(const std::string& prefix, const torch::nn::Module& target,
                   const torch::nn::Module& source) {
    std::map<std::string, torch::Tensor> sources;
    for (const auto& item : source.named_parameters()) sources[item.key()] = item.value();
    for (const auto& item : source.named_buffers()) sources[item.key()] = item.value();
    auto add_named = [&](const std::string& name, const torch::Tensor& tensor) {
      const auto found = sources.find(name);
      if (found == sources.end()) {
        throw sdk::Error("cannot copy supernet weights into '" + prefix + name +
                         "': the supernet has no tensor '" + name + "' there; build both "
                         "networks from the same search space and quantizer");
      }
      add(prefix + name, tensor, found->second);
    };
    for (const auto& item : target.named_parameters()) add_named(item.key(), item.value());
    for (const auto& item : target.named_buffers()) add_named(item.key(), item.value());
  }

  // A conv layer of a discrete block and its rows in the mixed block.
  struct ConvSource {
    torch::Tensor weight;
    std::int64_t weight_dim, weight_start;
    torch::Tensor bn_weight, bn_bias;
    std::int64_t affine_start;
    torch::Tensor running_mean, running_var;
    std::int64_t segment_start;
    const sdk::QuantizerOp* input_quantizer;
    const sdk::QuantizerOp* weight_quantizer;
  };

  void add_conv(const std::string& prefix, QuantizedConvImpl& target, const ConvSource& source) {
    const std::int64_t channels = target.options().out_channels;
    const std::int64_t weight_length = source.weight_dim == 0 ? channels
                                                             : target.options().in_channels;
    add(prefix + "weight", target.weight, source.weight, source.weight_dim, source.weight_start,
        weight_length);
    add(prefix + "bn.weight", target.bn->weight, source.bn_weight, 0, source.affine_start,
        channels);
    add(prefix + "bn.bias", target.bn->bias, source.bn_bias, 0, source.affine_start, channels);
    add(prefix + "bn.running_mean", target.bn->running_mean, source.running_mean, 0,
        source.segment_start, channels);
    add(prefix + "bn.running_var", target.bn->running_var, source.running_var, 0,
        source.segment_start, channels);
    add_by_name(prefix + "input_quantizer.", *target.input_quantizer, *source.input_quantizer);
    add_by_name(prefix + "weight_quantizer.", *target.weight_quantizer, *source.weight_quantizer);
  }

 private:
  std::vector<TensorMatch>& matches_;
};

int index_of(const std::vector<int>& values, int value) {
  const auto found = std::find(values.begin(), values.end(), value);
  return static_cast<int>(found - values.begin());
}

void match_block(Matcher& matcher, MixedBlockImpl& mixed, DiscreteBlockImpl& discrete,
                 const space::BlockChoice& choice) {
  const space::BlockSlot& slot = mixed.slot();
  const std::string prefix = "block" + std::to_string(slot.index) + ".";
  const ExpansionPath& path = mixed.paths()[index_of(slot.expansion_choices, choice.expansion)];
  const torch::Tensor& kernel = mixed.dw_weights[index_of(slot.kernel_choices, choice.kernel)];

  if (path.expands) {
    matcher.add_conv(prefix + "expand.", *discrete.expand,
                     {mixed.expand_weight, 0, path.expand_offset, mixed.expand_bn_weight,
                      mixed.expand_bn_bias, path.expand_offset, mixed.expand_running_mean,
                      mixed.expand_running_var, path.expand_segment,
                      mixed.expand_input_quantizer.get(), path.expand_weight_quantizer.get()});
  }
  matcher.add_conv(prefix + "dw.", *discrete.dw,
                   {kernel, 0, path.hidden_offset, mixed.dw_bn_weight, mixed.dw_bn_bias,
                    path.hidden_offset, mixed.dw_running_mean, mixed.dw_running_var,
                    path.hidden_segment, path.dw_input_quantizer.get(),
                    path.dw_weight_quantizer.get()});
  matcher.add_conv(prefix + "project.", *discrete.project,
                   {mixed.project_weight, 1, path.hidden_offset, mixed.project_bn_weight,
                    mixed.project_bn_bias, path.project_offset, mixed.project_running_mean,
                    mixed.project_running_var, path.project_segment,
                    path.project_input_quantizer.get(), path.project_weight_quantizer.get()});
}

}  // namespace

struct SupernetImpl::State {
  State(space::SearchSpace space_, SupernetOptions options_)
      : space(std::move(space_)), options(std::move(options_)) {}

  space::SearchSpace space;
  SupernetOptions options;
  QuantizedConv stem{nullptr};
  std::vector<MixedBlock> blocks;
  QuantizedConv head{nullptr};
  QuantizedLinear fc{nullptr};
};

SupernetImpl::SupernetImpl(const space::SearchSpace& space, const sdk::Quantizer& quantizer,
                           SupernetOptions options)
    : state_(std::make_shared<State>(space, std::move(options))) {
  const MixedBlockOptions mixed = block_options(state_->options);
  state_->stem = register_module("stem", QuantizedConv(quantizer, stem_options(space.options())));
  for (const space::BlockSlot& slot : space.blocks()) {
    state_->blocks.push_back(register_module("block" + std::to_string(slot.index),
                                             MixedBlock(slot, quantizer, mixed)));
  }
  state_->head = register_module("head", QuantizedConv(quantizer, head_options(space)));
  state_->fc = register_module("fc", QuantizedLinear(quantizer, "fc",
                                                     space.options().head_channels,
                                                     space.options().num_classes));
}

torch::Tensor SupernetImpl::forward(const torch::Tensor& images,
                                    const std::vector<torch::Tensor>& weights) {
  const std::size_t expected = state_->space.decisions().size();
  if (weights.size() != expected) {
    throw sdk::Error("the supernet received " + std::to_string(weights.size()) +
                     " weight tensors; expected one per decision of the search space (" +
                     std::to_string(expected) + ")");
  }

  torch::Tensor x = state_->stem->forward(images.contiguous(at::MemoryFormat::ChannelsLast));
  for (std::size_t b = 0; b < state_->blocks.size(); ++b) {
    const std::size_t first = b * space::kDecisionsPerBlock;
    const BlockWeights block_weights{weights[first], weights[first + 1], weights[first + 2],
                                     weights[first + 3], weights[first + 4]};
    x = state_->blocks[b]->forward(x, block_weights);
  }
  x = state_->head->forward(x);
  return state_->fc->forward(global_average_pool(x));
}

const space::SearchSpace& SupernetImpl::space() const { return state_->space; }
const SupernetOptions& SupernetImpl::options() const { return state_->options; }
QuantizedConvImpl& SupernetImpl::stem() const { return *state_->stem; }
MixedBlockImpl& SupernetImpl::block(int index) const {
  return *state_->blocks.at(static_cast<std::size_t>(index));
}
QuantizedConvImpl& SupernetImpl::head() const { return *state_->head; }
QuantizedLinearImpl& SupernetImpl::fc() const { return *state_->fc; }

struct DiscreteNetworkImpl::State {
  State(space::SearchSpace space_, space::Architecture architecture_)
      : space(std::move(space_)), architecture(std::move(architecture_)) {}

  space::SearchSpace space;
  space::Architecture architecture;
  QuantizedConv stem{nullptr};
  std::vector<DiscreteBlock> blocks;  // one per space block; empty holder when skipped
  QuantizedConv head{nullptr};
  QuantizedLinear fc{nullptr};
};

DiscreteNetworkImpl::DiscreteNetworkImpl(const space::SearchSpace& space,
                                         const space::Architecture& architecture,
                                         const sdk::Quantizer& quantizer)
    : state_(std::make_shared<State>(space, architecture)) {
  space::validate_architecture(space, architecture);
  state_->stem = register_module("stem", QuantizedConv(quantizer, stem_options(space.options())));
  for (const space::BlockSlot& slot : space.blocks()) {
    const space::BlockChoice& choice = architecture.blocks[static_cast<std::size_t>(slot.index)];
    if (choice.skip) {
      state_->blocks.emplace_back(nullptr);
      continue;
    }
    state_->blocks.push_back(register_module("block" + std::to_string(slot.index),
                                             DiscreteBlock(slot, choice, quantizer)));
  }
  state_->head = register_module("head", QuantizedConv(quantizer, head_options(space)));
  state_->fc = register_module("fc", QuantizedLinear(quantizer, "fc",
                                                     space.options().head_channels,
                                                     space.options().num_classes));
}

torch::Tensor DiscreteNetworkImpl::forward(const torch::Tensor& images) {
  torch::Tensor x = state_->stem->forward(images.contiguous(at::MemoryFormat::ChannelsLast));
  for (DiscreteBlock& block : state_->blocks) {
    if (block) x = block->forward(x);
  }
  x = state_->head->forward(x);
  return state_->fc->forward(global_average_pool(x));
}

void DiscreteNetworkImpl::set_batch_norm_mode(BatchNormMode mode) {
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = dynamic_cast<QuantizedConvImpl*>(module.get())) conv->set_batch_norm_mode(mode);
  }
}

const space::SearchSpace& DiscreteNetworkImpl::space() const { return state_->space; }
const space::Architecture& DiscreteNetworkImpl::architecture() const {
  return state_->architecture;
}
QuantizedConvImpl& DiscreteNetworkImpl::stem() const { return *state_->stem; }
DiscreteBlockImpl* DiscreteNetworkImpl::block(int index) const {
  const DiscreteBlock& block = state_->blocks.at(static_cast<std::size_t>(index));
  return block.is_empty() ? nullptr : block.ptr().get();
}
QuantizedConvImpl& DiscreteNetworkImpl::head() const { return *state_->head; }
QuantizedLinearImpl& DiscreteNetworkImpl::fc() const { return *state_->fc; }

std::vector<torch::Tensor> one_hot_weights(const space::SearchSpace& space,
                                           const space::Architecture& architecture,
                                           const torch::TensorOptions& options) {
  const std::vector<int> indices = space::architecture_indices(space, architecture);
  std::vector<torch::Tensor> weights;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const auto choices = static_cast<std::int64_t>(space.decisions()[i].choices.size());
    torch::Tensor one_hot = torch::zeros({choices}, options);
    one_hot[indices[i]] = 1.0;
    weights.push_back(one_hot);
  }
  return weights;
}

torch::Tensor TensorMatch::narrow(const torch::Tensor& t) const {
  return dim < 0 ? t : t.narrow(dim, start, length);
}

std::vector<TensorMatch> match_supernet_tensors(const Supernet& supernet,
                                                const space::Architecture& architecture,
                                                const DiscreteNetwork& network) {
  if (supernet->space().fingerprint() != network->space().fingerprint() ||
      supernet->space().decisions().size() != network->space().decisions().size()) {
    throw sdk::Error("cannot copy supernet weights: the discrete network was built for another "
                     "search space (" + network->space().description() + ") than the supernet (" +
                     supernet->space().description() + ")");
  }
  if (!(network->architecture() == architecture)) {
    throw sdk::Error("cannot copy supernet weights: the discrete network was built for another "
                     "architecture than the one given");
  }

  std::vector<TensorMatch> matches;
  Matcher matcher(matches);
  matcher.add_by_name("stem.", network->stem(), supernet->stem());
  for (const space::BlockSlot& slot : supernet->space().blocks()) {
    DiscreteBlockImpl* block = network->block(slot.index);
    if (block == nullptr) continue;
    match_block(matcher, supernet->block(slot.index), *block,
                architecture.blocks[static_cast<std::size_t>(slot.index)]);
  }
  matcher.add_by_name("head.", network->head(), supernet->head());
  matcher.add_by_name("fc.", network->fc(), supernet->fc());
  return matches;
}

void copy_supernet_weights(const Supernet& supernet, const space::Architecture& architecture,
                           DiscreteNetwork& network) {
  const std::vector<TensorMatch> matches = match_supernet_tensors(supernet, architecture, network);
  torch::NoGradGuard no_grad;
  for (const TensorMatch& match : matches) match.target.copy_(match.narrow(match.source));
}

}  // namespace nasq::model
