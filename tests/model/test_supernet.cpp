// The supernet against a reference that enumerates candidates with plain
// LibTorch ops, against the discrete network under one-hot weights, and its
// per-image and fast bit-mixing modes. Double precision throughout.
#include "tests/support/torch_doctest.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "core/model/layers.hpp"
#include "core/model/mixed_block.hpp"
#include "core/model/supernet.hpp"
#include "core/space/architecture.hpp"
#include "nasq/sdk/error.hpp"
#include "tests/model/model_fixture.hpp"

using nasq::model::BlockWeights;
using nasq::model::MixedBlockImpl;
using nasq::test::clear_gradients;
using nasq::test::gradients;
using nasq::test::max_difference;
using nasq::test::QuantizerLoader;
namespace model = nasq::model;
namespace space = nasq::space;

namespace {

const auto kDouble = torch::TensorOptions().dtype(torch::kDouble);
constexpr std::int64_t kBatch = 4;

torch::Tensor clamp_to_relu6(const torch::Tensor& x) { return torch::clamp(x, 0.0, 6.0); }

torch::Tensor train_batch_norm(const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias) {
  return torch::batch_norm(x, weight, bias, {}, {}, true, model::kBatchNormMomentum,
                           model::kBatchNormEps, false);
}

// The mixed block's output computed the long way, in training mode. Every
// path m runs on its own. Every layer sums one plain conv per combination of
// the choices acting on it (its own k x k kernel, no padding, no mixed
// weights), each on separately quantized tensors and weighted by the product
// of the choices' weights. Batch norm runs per path and layer on slices of the
// shared parameters, and the paths and the skip mix at the end.
torch::Tensor reference_block(MixedBlockImpl& block, const torch::Tensor& x,
                              const BlockWeights& w) {
  const space::BlockSlot& slot = block.slot();
  torch::Tensor residual_branch = torch::zeros({}, kDouble);

  for (std::size_t p = 0; p < block.paths().size(); ++p) {
    const model::ExpansionPath& path = block.paths()[p];
    const std::int64_t hidden = path.hidden_channels;

    torch::Tensor dw_input = x;
    if (path.expands) {
      torch::Tensor sum = torch::zeros({}, kDouble);
      for (std::size_t i = 0; i < slot.bottleneck_bits.size(); ++i) {
        const int bits = slot.bottleneck_bits[i];
        const torch::Tensor weight = block.expand_weight.narrow(0, path.expand_offset, hidden);
        sum = sum + w.bottleneck_bits[i] *
                        at::conv2d(block.expand_input_quantizer->forward(x, bits),
                                   path.expand_weight_quantizer->forward(weight, bits));
      }
      dw_input = clamp_to_relu6(train_batch_norm(sum, block.expand_bn_weight.narrow(0, path.expand_offset, hidden),
                                        block.expand_bn_bias.narrow(0, path.expand_offset, hidden)));
    }

    torch::Tensor dw_sum = torch::zeros({}, kDouble);
    for (std::size_t j = 0; j < slot.depthwise_bits.size(); ++j) {
      const int bits = slot.depthwise_bits[j];
      for (std::size_t k = 0; k < slot.kernel_choices.size(); ++k) {
        const std::int64_t kernel = slot.kernel_choices[k];
        const torch::Tensor weight = block.dw_weights[k].narrow(0, path.hidden_offset, hidden);
        const torch::Tensor conv =
            at::conv2d(path.dw_input_quantizer->forward(dw_input, bits),
                       path.dw_weight_quantizer->forward(weight, bits), {}, slot.stride,
                       kernel / 2, 1, hidden);
        dw_sum = dw_sum + w.depthwise_bits[j] * w.kernel[k] * conv;
      }
    }
    const torch::Tensor dw_output =
        clamp_to_relu6(train_batch_norm(dw_sum, block.dw_bn_weight.narrow(0, path.hidden_offset, hidden),
                               block.dw_bn_bias.narrow(0, path.hidden_offset, hidden)));

    torch::Tensor project_sum = torch::zeros({}, kDouble);
    for (std::size_t i = 0; i < slot.bottleneck_bits.size(); ++i) {
      const int bits = slot.bottleneck_bits[i];
      const torch::Tensor weight = block.project_weight.narrow(1, path.hidden_offset, hidden);
      project_sum = project_sum + w.bottleneck_bits[i] *
                                      at::conv2d(path.project_input_quantizer->forward(dw_output, bits),
                                                 path.project_weight_quantizer->forward(weight, bits));
    }
    const std::int64_t out = slot.output_channels;
    const torch::Tensor projected =
        train_batch_norm(project_sum, block.project_bn_weight.narrow(0, path.project_offset, out),
                         block.project_bn_bias.narrow(0, path.project_offset, out));
    residual_branch = residual_branch + w.expansion[p] * projected;
  }

  const torch::Tensor block_output = slot.residual ? x + residual_branch : residual_branch;
  torch::Tensor output = torch::zeros({}, kDouble);
  for (std::size_t s = 0; s < slot.skip_choices.size(); ++s) {
    output = output + w.skip[s] * (slot.skip_choices[s] == 1 ? x : block_output);
  }
  return output;
}

// sum_i w[i] * quantizer.forward(t, bits[i]): the reference for the mixed
// tensors of fast bit mixing.
torch::Tensor loop_mix(nasq::sdk::QuantizerOp& quantizer, const torch::Tensor& t,
                       const std::vector<int>& bits, const torch::Tensor& w) {
  torch::Tensor sum = torch::zeros({}, kDouble);
  for (std::size_t i = 0; i < bits.size(); ++i) {
    sum = sum + w[static_cast<std::int64_t>(i)] * quantizer.forward(t, bits[i]);
  }
  return sum;
}

// The mixed block's output in fast bit mixing computed the long way, in
// training mode. Each conv reads its input and its weight mixed over the bits
// by loops over forward(), and the depthwise weight pads each kernel's mixture
// to the largest kernel before mixing over the kernels. With `masked`, every
// expansion weight must be non-zero. The widest expanding path then stands
// for all expanding paths. Column c of its projection weight is scaled by the
// sum of the weights of the expanding paths with more than c hidden
// channels, divided by the sum W of their weights, and its output is weighted
// by W.
torch::Tensor reference_fast_block(MixedBlockImpl& block, const torch::Tensor& x,
                                   const BlockWeights& w, bool masked) {
  const space::BlockSlot& slot = block.slot();
  std::int64_t widest = 0;
  for (const model::ExpansionPath& path : block.paths()) {
    if (path.expands) widest = std::max(widest, path.hidden_channels);
  }
  const std::vector<int>& b1 = slot.bottleneck_bits;
  const std::vector<int>& b2 = slot.depthwise_bits;
  std::int64_t max_kernel = 0;
  for (const int kernel : slot.kernel_choices) max_kernel = std::max<std::int64_t>(max_kernel, kernel);
  torch::Tensor residual_branch = torch::zeros({}, kDouble);

  for (std::size_t p = 0; p < block.paths().size(); ++p) {
    const model::ExpansionPath& path = block.paths()[p];
    const std::int64_t hidden = path.hidden_channels;
    const bool stands_for_all = masked && path.expands;
    if (stands_for_all && hidden != widest) continue;

    torch::Tensor dw_input = x;
    if (path.expands) {
      const torch::Tensor weight = block.expand_weight.narrow(0, path.expand_offset, hidden);
      const torch::Tensor conv =
          at::conv2d(loop_mix(*block.expand_input_quantizer, x, b1, w.bottleneck_bits),
                     loop_mix(*path.expand_weight_quantizer, weight, b1, w.bottleneck_bits));
      dw_input = clamp_to_relu6(train_batch_norm(
          conv, block.expand_bn_weight.narrow(0, path.expand_offset, hidden),
          block.expand_bn_bias.narrow(0, path.expand_offset, hidden)));
    }

    torch::Tensor dw_weight = torch::zeros({}, kDouble);
    for (std::size_t k = 0; k < slot.kernel_choices.size(); ++k) {
      const torch::Tensor weight = block.dw_weights[k].narrow(0, path.hidden_offset, hidden);
      const std::int64_t pad = (max_kernel - slot.kernel_choices[k]) / 2;
      const torch::Tensor mixed = loop_mix(*path.dw_weight_quantizer, weight, b2, w.depthwise_bits);
      dw_weight = dw_weight + w.kernel[static_cast<std::int64_t>(k)] *
                                  torch::constant_pad_nd(mixed, {pad, pad, pad, pad});
    }
    const torch::Tensor dw_conv =
        at::conv2d(loop_mix(*path.dw_input_quantizer, dw_input, b2, w.depthwise_bits), dw_weight,
                   {}, slot.stride, max_kernel / 2, 1, hidden);
    const torch::Tensor dw_output = clamp_to_relu6(
        train_batch_norm(dw_conv, block.dw_bn_weight.narrow(0, path.hidden_offset, hidden),
                         block.dw_bn_bias.narrow(0, path.hidden_offset, hidden)));

    const torch::Tensor project_weight = block.project_weight.narrow(1, path.hidden_offset, hidden);
    torch::Tensor mixed_project_weight =
        loop_mix(*path.project_weight_quantizer, project_weight, b1, w.bottleneck_bits);
    torch::Tensor path_weight = w.expansion[static_cast<std::int64_t>(p)];
    if (stands_for_all) {
      const torch::Tensor channel = torch::arange(hidden, kDouble);
      torch::Tensor mask = torch::zeros({hidden}, kDouble);
      path_weight = torch::zeros({}, kDouble);
      for (std::size_t q = 0; q < block.paths().size(); ++q) {
        const model::ExpansionPath& other = block.paths()[q];
        if (!other.expands) continue;
        const torch::Tensor weight = w.expansion[static_cast<std::int64_t>(q)];
        mask = mask + weight * channel.lt(static_cast<double>(other.hidden_channels)).to(kDouble);
        path_weight = path_weight + weight;
      }
      mixed_project_weight = mixed_project_weight * (mask / path_weight).view({1, hidden, 1, 1});
    }
    const torch::Tensor project_conv = at::conv2d(
        loop_mix(*path.project_input_quantizer, dw_output, b1, w.bottleneck_bits),
        mixed_project_weight);
    const std::int64_t out = slot.output_channels;
    const torch::Tensor projected =
        train_batch_norm(project_conv, block.project_bn_weight.narrow(0, path.project_offset, out),
                         block.project_bn_bias.narrow(0, path.project_offset, out));
    residual_branch = residual_branch + path_weight * projected;
  }

  const torch::Tensor block_output = slot.residual ? x + residual_branch : residual_branch;
  torch::Tensor output = torch::zeros({}, kDouble);
  for (std::size_t s = 0; s < slot.skip_choices.size(); ++s) {
    output = output + w.skip[static_cast<std::int64_t>(s)] *
                          (slot.skip_choices[s] == 1 ? x : block_output);
  }
  return output;
}

// Random logits with gradients, one tensor per decision.
std::vector<torch::Tensor> random_logits(const std::vector<std::int64_t>& sizes) {
  std::vector<torch::Tensor> logits;
  for (const std::int64_t size : sizes) {
    logits.push_back(torch::randn({size}, kDouble).requires_grad_(true));
  }
  return logits;
}

std::vector<torch::Tensor> softmax_all(const std::vector<torch::Tensor>& logits) {
  std::vector<torch::Tensor> weights;
  for (const torch::Tensor& l : logits) weights.push_back(torch::softmax(l, 0));
  return weights;
}

std::vector<std::int64_t> choice_counts(const space::SearchSpace& space) {
  std::vector<std::int64_t> counts;
  for (const space::Decision& d : space.decisions()) {
    counts.push_back(static_cast<std::int64_t>(d.choices.size()));
  }
  return counts;
}

std::vector<torch::Tensor> parameters_of(const torch::nn::Module& module) {
  return module.parameters();
}

// The output of run() and the gradients of `tensors` for loss = sum(output * probe).
struct Run {
  torch::Tensor output;
  std::vector<torch::Tensor> grads;
};

Run run_and_backward(const std::function<torch::Tensor()>& run, const torch::Tensor& probe,
                     const std::vector<torch::Tensor>& tensors) {
  clear_gradients(tensors);
  const torch::Tensor output = run();
  (output * probe).sum().backward();
  Run result{output.detach(), gradients(tensors)};
  clear_gradients(tensors);
  return result;
}

// Largest difference over two gradient lists. A missing gradient counts as
// zero: the supernet leaves parameters of skipped candidates without one.
double max_gradient_difference(const std::vector<torch::Tensor>& a,
                               const std::vector<torch::Tensor>& b) {
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].defined() && !b[i].defined()) continue;
    const torch::Tensor left = a[i].defined() ? a[i] : torch::zeros_like(b[i]);
    const torch::Tensor right = b[i].defined() ? b[i] : torch::zeros_like(a[i]);
    worst = std::max(worst, max_difference(left, right));
  }
  return worst;
}

// Differences between a mixed block and a reference computation of it with
// soft weights on all five decisions, for loss = sum(output * probe).
struct BlockComparison {
  double output_difference = 0.0;
  double gradient_difference = 0.0;
  double largest_logit_gradient = 0.0;  // of the last decision (b2)
};

using BlockReference =
    std::function<torch::Tensor(MixedBlockImpl&, const torch::Tensor&, const BlockWeights&)>;

// Runs `block` (in double, batch norm randomized) and `reference` on the same
// random input, weights and probe; block 0 reads the stem's ReLU6 output.
BlockComparison compare_block(model::MixedBlock& block, const space::BlockSlot& slot,
                              const BlockReference& reference) {
  block->to(torch::kDouble);
  nasq::test::randomize_batch_norm(*block);

  torch::Tensor input =
      torch::randn({kBatch, slot.input_channels, slot.input_size, slot.input_size}, kDouble);
  if (slot.index == 0) input = clamp_to_relu6(input);
  const torch::Tensor x = input.requires_grad_(true);
  const std::vector<torch::Tensor> logits = random_logits(
      {static_cast<std::int64_t>(slot.skip_choices.size()),
       static_cast<std::int64_t>(slot.expansion_choices.size()),
       static_cast<std::int64_t>(slot.kernel_choices.size()),
       static_cast<std::int64_t>(slot.bottleneck_bits.size()),
       static_cast<std::int64_t>(slot.depthwise_bits.size())});
  auto block_weights = [&] {
    const std::vector<torch::Tensor> w = softmax_all(logits);
    return BlockWeights{w[0], w[1], w[2], w[3], w[4]};
  };
  const torch::Tensor probe = torch::randn(
      {kBatch, slot.output_channels, slot.output_size, slot.output_size}, kDouble);

  std::vector<torch::Tensor> tracked = parameters_of(*block);
  tracked.insert(tracked.end(), logits.begin(), logits.end());
  tracked.push_back(x);

  const Run efficient =
      run_and_backward([&] { return block->forward(x, block_weights()); }, probe, tracked);
  const Run expected =
      run_and_backward([&] { return reference(*block, x, block_weights()); }, probe, tracked);
  return {max_difference(efficient.output, expected.output),
          max_gradient_difference(efficient.grads, expected.grads),
          efficient.grads[efficient.grads.size() - 2].abs().max().item<double>()};
}

space::Architecture random_architecture(const space::SearchSpace& space) {
  std::vector<int> indices;
  for (const std::int64_t count : choice_counts(space)) {
    indices.push_back(static_cast<int>(torch::randint(count, {1}).item<std::int64_t>()));
  }
  return space::architecture_from_indices(space, indices);
}

torch::Tensor random_images() { return torch::randn({kBatch, 2, 8, 8}, kDouble); }

model::Supernet make_supernet(const space::SearchSpace& space, const nasq::sdk::Quantizer& quantizer,
                              const std::string& sharing, const std::string& mixing) {
  model::Supernet supernet(space, quantizer, model::SupernetOptions{sharing, mixing});
  supernet->to(torch::kDouble);
  nasq::test::randomize_batch_norm(*supernet);
  return supernet;
}

// Copies every parameter and buffer of `from` into `to`, which has the same names.
void copy_state(const torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto source = from.named_parameters();
  for (auto& item : to.named_parameters()) item.value().copy_(source[item.key()]);
  auto buffers = from.named_buffers();
  for (auto& item : to.named_buffers()) item.value().copy_(buffers[item.key()]);
}

// Two supernets with the same parameters and buffers, built with the
// (weight_sharing, bit_mixing) options `first` and `second`.
std::pair<model::Supernet, model::Supernet> twin_supernets(
    const space::SearchSpace& space, const nasq::sdk::Quantizer& quantizer,
    const std::pair<std::string, std::string>& first,
    const std::pair<std::string, std::string>& second) {
  model::Supernet a = make_supernet(space, quantizer, first.first, first.second);
  model::Supernet b = make_supernet(space, quantizer, second.first, second.second);
  copy_state(*a, *b);
  return {a, b};
}

}  // namespace

TEST_CASE("mixed block equals the per-candidate reference") {
  QuantizerLoader loader("linear");
  const space::SearchSpace space = nasq::test::tiny_space();
  torch::manual_seed(11);

  for (const bool shared : {true, false}) {
    for (const int index : {0, 1}) {  // residual block, strided block
      CAPTURE(shared);
      CAPTURE(index);
      const space::BlockSlot& slot = space.blocks()[static_cast<std::size_t>(index)];
      model::MixedBlock block(slot, *loader.quantizer,
                              model::MixedBlockOptions{shared, /*exact_bit_mixing=*/true});
      const BlockComparison comparison = compare_block(block, slot, reference_block);
      MESSAGE("block " << index << std::string(shared ? " shared" : " separate")
                       << ": max |output difference| " << comparison.output_difference
                       << ", max |gradient difference| " << comparison.gradient_difference);
      CHECK(comparison.output_difference <= 1e-5);
      CHECK(comparison.gradient_difference <= 1e-5);
      // The logits' gradients must be non-trivial for the check to mean anything.
      CHECK(comparison.largest_logit_gradient > 1e-6);
    }
  }
}

TEST_CASE("fast mixed block equals the loop reference") {
  const space::SearchSpace space = nasq::test::tiny_space();
  torch::manual_seed(13);

  // Per-channel weight scales take the default forward_mixed() loop of the
  // linear plugin, per-tensor scales its one-pass kernel. Masked expansion
  // needs shared weights.
  for (const bool per_channel : {false, true}) {
    QuantizerLoader loader("linear", per_channel
                                         ? "[quantizer.linear]\nper_channel_weights = true\n"
                                         : "");
    for (const auto& [shared, masked] : {std::pair{false, false}, std::pair{true, true}}) {
      for (const int index : {0, 1}) {  // residual block, strided block
        CAPTURE(per_channel);
        CAPTURE(masked);
        CAPTURE(index);
        const space::BlockSlot& slot = space.blocks()[static_cast<std::size_t>(index)];
        model::MixedBlock block(slot, *loader.quantizer,
                                model::MixedBlockOptions{shared, /*exact_bit_mixing=*/false,
                                                         /*masked_expansion=*/masked});
        const BlockComparison comparison = compare_block(
            block, slot, [masked = masked](MixedBlockImpl& b, const torch::Tensor& x,
                                           const BlockWeights& w) {
              return reference_fast_block(b, x, w, masked);
            });
        CHECK(comparison.output_difference <= 1e-10);
        CHECK(comparison.gradient_difference <= 1e-10);
        CHECK(comparison.largest_logit_gradient > 1e-6);
      }
    }
  }
}

TEST_CASE("masked expansion against per-ratio paths") {
  QuantizerLoader loader("linear");
  const space::SearchSpace space = nasq::test::tiny_space();
  torch::manual_seed(17);
  auto [masked, paths] =
      twin_supernets(space, *loader.quantizer, {"masked", "fast"}, {"shared", "fast"});
  const torch::Tensor images = random_images();
  const torch::Tensor probe = torch::randn({kBatch, 3}, kDouble);

  // Soft weights that need a gradient, with expansion weights `expansion`
  // in every block.
  const std::vector<int>& ratios = space.options().expansion_choices;
  REQUIRE(ratios == std::vector<int>{1, 3, 6});
  auto weights_with = [&](const std::vector<double>& expansion) {
    std::vector<torch::Tensor> weights = softmax_all(random_logits(choice_counts(space)));
    for (std::size_t d = 0; d < weights.size(); ++d) {
      if (space.decisions()[d].kind == "m") weights[d] = torch::tensor(expansion, kDouble);
      weights[d] = weights[d].detach().requires_grad_(true);
    }
    return weights;
  };
  auto compare = [&](const std::vector<torch::Tensor>& weights) {
    std::vector<torch::Tensor> tracked = parameters_of(*masked);
    tracked.insert(tracked.end(), weights.begin(), weights.end());
    const Run a = run_and_backward([&] { return masked->forward(images, weights); }, probe, tracked);
    std::vector<torch::Tensor> tracked_paths = parameters_of(*paths);
    tracked_paths.insert(tracked_paths.end(), weights.begin(), weights.end());
    const Run b = run_and_backward([&] { return paths->forward(images, weights); }, probe,
                                   tracked_paths);
    return std::pair{max_difference(a.output, b.output), max_gradient_difference(a.grads, b.grads)};
  };

  // One non-zero expanding weight (ratio 3): the wider ratio 6 runs as its
  // own path for its weight's gradient, and both modes compute the same.
  const auto [one_output, one_gradient] = compare(weights_with({0.4, 0.6, 0.0}));
  CHECK(one_output <= 1e-12);
  CHECK(one_gradient <= 1e-12);
  // One non-zero expanding weight (ratio 6) and a zero one (ratio 3): the
  // mask is uniform, so the output and the parameters' gradients are the
  // paths' ones. Only ratio 3's weight gets its gradient through the mask.
  {
    const std::vector<torch::Tensor> weights = weights_with({0.4, 0.0, 0.6});
    const std::vector<torch::Tensor> parameters = parameters_of(*masked);
    const Run a = run_and_backward([&] { return masked->forward(images, weights); }, probe,
                                   parameters);
    const Run b = run_and_backward([&] { return paths->forward(images, weights); }, probe,
                                   parameters_of(*paths));
    CHECK(max_difference(a.output, b.output) <= 1e-12);
    CHECK(max_gradient_difference(a.grads, b.grads) <= 1e-12);
  }
  // Two non-zero expanding weights: the mask replaces the paths.
  const auto [two_output, two_gradient] = compare(weights_with({0.2, 0.3, 0.5}));
  MESSAGE("masked against paths with soft expansion weights: max |output difference| "
          << two_output << ", max |gradient difference| " << two_gradient);
  CHECK(two_output > 1e-6);
}

TEST_CASE("one-hot supernet equals the discrete network") {
  const space::SearchSpace space = nasq::test::tiny_space();
  for (const std::string quantizer_name : {"linear", "pact", "lsq"}) {
    QuantizerLoader loader(quantizer_name);
    for (const std::string sharing : {"masked", "shared", "separate"}) {
      for (const std::string mixing : {"fast", "exact"}) {
        CAPTURE(quantizer_name);
        CAPTURE(sharing);
        CAPTURE(mixing);
        torch::manual_seed(21);
        model::Supernet supernet = make_supernet(space, *loader.quantizer, sharing, mixing);
        // Training batches with soft weights set the running statistics.
        for (int step = 0; step < 2; ++step) {
          supernet->forward(random_images(), softmax_all(random_logits(choice_counts(space))));
        }

        std::vector<space::Architecture> architectures = {space::smallest_architecture(space),
                                                          space::largest_architecture(space)};
        for (int i = 0; i < 4; ++i) architectures.push_back(random_architecture(space));

        double worst_output = 0.0, worst_gradient = 0.0;
        for (const space::Architecture& architecture : architectures) {
          for (const auto& [training, attached] : {std::pair{true, false}, std::pair{false, false},
                                                   std::pair{true, true}}) {
            // Constant one-hot weights let the supernet skip every other
            // candidate; weights that need a gradient make it compute all.
            CAPTURE(training);
            CAPTURE(attached);
            model::DiscreteNetwork network(space, architecture, *loader.quantizer);
            network->to(torch::kDouble);
            model::copy_supernet_weights(supernet, architecture, network);
            supernet->train(training);
            network->train(training);

            const std::vector<model::TensorMatch> matches =
                model::match_supernet_tensors(supernet, architecture, network);
            std::vector<model::TensorMatch> trained;
            std::vector<torch::Tensor> targets, sources;
            for (const model::TensorMatch& match : matches) {
              if (!match.target.requires_grad()) continue;
              trained.push_back(match);
              targets.push_back(match.target);
              sources.push_back(match.source);
            }

            const torch::Tensor images = random_images();
            const torch::Tensor probe = torch::randn({kBatch, 3}, kDouble);
            std::vector<torch::Tensor> weights = model::one_hot_weights(space, architecture, kDouble);
            if (attached) {
              for (torch::Tensor& w : weights) w.requires_grad_(true);
            }
            const Run mixed = run_and_backward(
                [&] { return supernet->forward(images, weights); }, probe, sources);
            const Run discrete =
                run_and_backward([&] { return network->forward(images); }, probe, targets);

            // The supernet's gradients, narrowed to the parts the network uses.
            std::vector<torch::Tensor> narrowed;
            for (std::size_t i = 0; i < trained.size(); ++i) {
              const torch::Tensor& grad = mixed.grads[i];
              narrowed.push_back(grad.defined() ? trained[i].narrow(grad) : torch::Tensor());
            }

            const double output_difference = max_difference(mixed.output, discrete.output);
            const double gradient_difference = max_gradient_difference(narrowed, discrete.grads);
            worst_output = std::max(worst_output, output_difference);
            worst_gradient = std::max(worst_gradient, gradient_difference);
            CHECK(output_difference <= 1e-10);
            CHECK(gradient_difference <= 1e-10);
          }
        }
        MESSAGE(quantizer_name << ", " << sharing << ", " << mixing
                               << ": max |output difference| " << worst_output
                               << ", max |gradient difference| " << worst_gradient);
      }
    }
  }
}

TEST_CASE("expansion-free space equals discrete network") {
  // Only expansion 1 (no expansion conv at all), one kernel and two bit-widths.
  space::SpaceOptions options = nasq::test::tiny_space().options();
  options.expansion_choices = {1};
  options.kernel_choices = {5};
  options.bottleneck_bits = {4, 8};
  options.depthwise_bits = {2, 6};
  const space::SearchSpace space(options);
  QuantizerLoader loader("linear");
  torch::manual_seed(25);
  model::Supernet supernet = make_supernet(space, *loader.quantizer, "separate", "fast");
  CHECK_FALSE(supernet->block(0).expand_weight.defined());

  const space::Architecture architecture = random_architecture(space);
  model::DiscreteNetwork network(space, architecture, *loader.quantizer);
  network->to(torch::kDouble);
  model::copy_supernet_weights(supernet, architecture, network);
  const torch::Tensor images = random_images();
  const torch::Tensor mixed =
      supernet->forward(images, model::one_hot_weights(space, architecture, kDouble));
  CHECK(max_difference(mixed, network->forward(images)) <= 1e-10);
}

TEST_CASE("per-image weights with identical rows equal per-batch weights") {
  QuantizerLoader loader("linear");
  const space::SearchSpace space = nasq::test::tiny_space();
  for (const auto& [sharing, mixing] : {std::pair{"masked", "fast"}, std::pair{"shared", "fast"},
                                         std::pair{"shared", "exact"}}) {
    CAPTURE(sharing);
    CAPTURE(mixing);
    torch::manual_seed(31);
    model::Supernet supernet = make_supernet(space, *loader.quantizer, sharing, mixing);
    const std::vector<torch::Tensor> logits = random_logits(choice_counts(space));
    const torch::Tensor images = random_images();
    const torch::Tensor probe = torch::randn({kBatch, 3}, kDouble);
    std::vector<torch::Tensor> tracked = parameters_of(*supernet);
    tracked.insert(tracked.end(), logits.begin(), logits.end());

    const Run per_batch = run_and_backward(
        [&] { return supernet->forward(images, softmax_all(logits)); }, probe, tracked);
    const Run per_image = run_and_backward(
        [&] {
          std::vector<torch::Tensor> rows;
          for (const torch::Tensor& w : softmax_all(logits)) {
            rows.push_back(w.unsqueeze(0).expand({kBatch, w.size(0)}));
          }
          return supernet->forward(images, rows);
        },
        probe, tracked);

    CHECK(max_difference(per_batch.output, per_image.output) <= 1e-10);
    CHECK(max_gradient_difference(per_batch.grads, per_image.grads) <= 1e-10);
  }
}

TEST_CASE("per-image weights mix each image separately") {
  QuantizerLoader loader("linear");
  const space::SearchSpace space = nasq::test::tiny_space();
  for (const std::string sharing : {"masked", "shared"}) {
    CAPTURE(sharing);
    torch::manual_seed(33);
    model::Supernet supernet = make_supernet(space, *loader.quantizer, sharing, "fast");
    // One training batch sets the running statistics; evaluation mode then
    // keeps batch statistics from coupling the images.
    supernet->forward(random_images(), softmax_all(random_logits(choice_counts(space))));
    supernet->eval();
    const torch::Tensor images = random_images();
    std::vector<std::vector<torch::Tensor>> per_image_weights;
    for (std::int64_t n = 0; n < kBatch; ++n) {
      per_image_weights.push_back(softmax_all(random_logits(choice_counts(space))));
    }
    std::vector<torch::Tensor> stacked;
    for (std::size_t d = 0; d < space.decisions().size(); ++d) {
      std::vector<torch::Tensor> rows;
      for (std::int64_t n = 0; n < kBatch; ++n) rows.push_back(per_image_weights[n][d]);
      stacked.push_back(torch::stack(rows));
    }

    torch::NoGradGuard no_grad;
    const torch::Tensor together = supernet->forward(images, stacked);
    for (std::int64_t n = 0; n < kBatch; ++n) {
      CAPTURE(n);
      const torch::Tensor alone = supernet->forward(images.narrow(0, n, 1), per_image_weights[n]);
      // Activation quantizers in evaluation mode use running statistics, so an
      // image's output does not depend on the rest of the batch.
      CHECK(max_difference(together.narrow(0, n, 1), alone) <= 1e-10);
    }
  }
}

TEST_CASE("zero weights without gradient skip candidates exactly") {
  QuantizerLoader loader("linear");
  const space::SearchSpace space = nasq::test::tiny_space();
  for (const std::string sharing : {"masked", "shared"}) {
    CAPTURE(sharing);
    torch::manual_seed(37);
    model::Supernet supernet = make_supernet(space, *loader.quantizer, sharing, "fast");
    const torch::Tensor images = random_images();
    const torch::Tensor probe = torch::randn({kBatch, 3}, kDouble);

    // Soft weights with the first choice of every decision set to zero.
    std::vector<torch::Tensor> weights;
    for (const torch::Tensor& w : softmax_all(random_logits(choice_counts(space)))) {
      torch::Tensor sparse = w.detach().clone();
      if (sparse.size(0) > 1) sparse[0] = 0.0;
      weights.push_back(sparse / sparse.sum());
    }
    std::vector<torch::Tensor> attached;
    for (const torch::Tensor& w : weights) attached.push_back(w.clone().requires_grad_(true));

    const std::vector<torch::Tensor> parameters = parameters_of(*supernet);
    const Run skipping = run_and_backward([&] { return supernet->forward(images, weights); },
                                          probe, parameters);
    const Run computing = run_and_backward([&] { return supernet->forward(images, attached); },
                                           probe, parameters);
    CHECK(max_difference(skipping.output, computing.output) <= 1e-12);
    CHECK(max_gradient_difference(skipping.grads, computing.grads) <= 1e-12);
  }
}

TEST_CASE("fast bit mixing equals exact mode only for one-hot bit weights") {
  QuantizerLoader loader("linear");
  const space::SearchSpace space = nasq::test::tiny_space();
  torch::manual_seed(41);
  auto [fast, exact] =
      twin_supernets(space, *loader.quantizer, {"shared", "fast"}, {"shared", "exact"});
  const torch::Tensor images = random_images();

  // Soft weights everywhere, then one-hot on the chosen bit decisions.
  auto weights_with_one_hot = [&](const std::vector<std::string>& one_hot_kinds) {
    std::vector<torch::Tensor> weights = softmax_all(random_logits(choice_counts(space)));
    for (std::size_t d = 0; d < weights.size(); ++d) {
      const std::string& kind = space.decisions()[d].kind;
      for (const std::string& one_hot : one_hot_kinds) {
        if (kind != one_hot) continue;
        const std::int64_t choices = weights[d].size(0);
        const std::int64_t chosen = torch::randint(choices, {1}).item<std::int64_t>();
        weights[d] = torch::zeros({choices}, kDouble);
        weights[d][chosen] = 1.0;
      }
    }
    return weights;
  };

  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> one_hot_bits = weights_with_one_hot({"b1", "b2"});
  CHECK(max_difference(fast->forward(images, one_hot_bits), exact->forward(images, one_hot_bits)) <=
        1e-10);

  for (const std::string soft : {"b1", "b2"}) {
    CAPTURE(soft);
    const std::vector<torch::Tensor> weights = weights_with_one_hot({soft == "b1" ? "b2" : "b1"});
    CHECK(max_difference(fast->forward(images, weights), exact->forward(images, weights)) > 1e-6);
  }
}

TEST_CASE("supernet rejects invalid weights and options") {
  QuantizerLoader loader("linear");
  const space::SearchSpace space = nasq::test::tiny_space();
  model::Supernet supernet(space, *loader.quantizer);
  const torch::Tensor images = torch::randn({kBatch, 2, 8, 8});
  auto message_of = [&](const std::function<void()>& action) -> std::string {
    try {
      action();
    } catch (const nasq::sdk::Error& error) {
      return error.what();
    }
    return "";
  };

  std::vector<torch::Tensor> weights = model::one_hot_weights(space, space::largest_architecture(space));
  const std::vector<torch::Tensor> too_few(weights.begin(), weights.end() - 1);
  CHECK(message_of([&] { supernet->forward(images, too_few); }).find("expected one per decision") !=
        std::string::npos);

  weights[2] = torch::ones({4});  // block0.k has 3 choices
  const std::string wrong_size = message_of([&] { supernet->forward(images, weights); });
  CHECK(wrong_size.find("block0.k") != std::string::npos);
  CHECK(wrong_size.find("[3] or [N, 3]") != std::string::npos);

  weights[2] = torch::ones({kBatch + 1, 3});
  CHECK(message_of([&] { supernet->forward(images, weights); }).find("N = 4") != std::string::npos);

  CHECK(message_of([&] { model::Supernet(space, *loader.quantizer, model::SupernetOptions{"tied", "fast"}); })
            .find("weight_sharing 'tied'") != std::string::npos);
  CHECK(message_of([&] { model::Supernet(space, *loader.quantizer, model::SupernetOptions{"shared", "approximate"}); })
            .find("valid values: fast, exact") != std::string::npos);
}

TEST_CASE("copy rejects a network of another architecture") {
  QuantizerLoader loader("linear");
  const space::SearchSpace space = nasq::test::tiny_space();
  model::Supernet supernet(space, *loader.quantizer);
  model::DiscreteNetwork network(space, space::largest_architecture(space), *loader.quantizer);
  bool thrown = false;
  try {
    model::copy_supernet_weights(supernet, space::smallest_architecture(space), network);
  } catch (const nasq::sdk::Error& error) {
    thrown = std::string(error.what()).find("another architecture") != std::string::npos;
  }
  CHECK(thrown);
}
