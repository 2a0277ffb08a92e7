// Tests of QuantizerOp::forward_mixed(): every quantizer's result, gradients
// and running statistics equal the weighted loop over forward(), on random and
// degenerate inputs, with one weight per bit-width or one row per sample.
#include "tests/support/torch_doctest.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/quantizers/quantizer_fixture.hpp"

using nasq::test::activation_site;
using nasq::test::QuantizerFixture;
using nasq::test::weight_site;

namespace {

struct Configuration {
  std::string name;        // plugin
  std::string stack_text;  // its table
};

const std::vector<Configuration> kConfigurations = {
    {"linear", ""},
    {"linear", "[quantizer.linear]\nper_channel_weights = true\n"},
    {"linear", "[quantizer.linear]\nsigned_activations = true\n"},
    {"pact", ""},
    {"lsq", ""},
};

const std::vector<int> kBits = {2, 4, 8};

struct Input {
  std::string label;
  torch::Tensor values;  // [N, C, H, W]
};

std::vector<Input> inputs() {
  torch::manual_seed(23);
  const torch::Tensor random = torch::randn({3, 4, 5, 5});
  const torch::Tensor tiny = random / random.abs().max() * 1e-30;
  torch::Tensor zero_channel = torch::randn({3, 4, 5, 5});
  zero_channel.select(1, 2).zero_();
  return {
      {"random", random},
      {"random channels-last", random.contiguous(at::MemoryFormat::ChannelsLast)},
      {"random non-contiguous", torch::randn({5, 4, 5, 3}).permute({3, 1, 2, 0})},
      {"random non-negative", random.abs()},
      {"a zero channel", zero_channel},
      {"all zero", torch::zeros({3, 4, 5, 5})},
      {"constant positive", torch::full({3, 4, 5, 5}, 0.7)},
      {"constant negative", torch::full({3, 4, 5, 5}, -0.7)},
      {"max |x| 1e-30", tiny},
      {"max |x| 1e-30 non-negative", tiny.abs()},
  };
}

// max |actual - expected| <= 1e-5 * scale, where scale is the largest
// magnitude among `references` (at least the smallest normal float).
void check_close(const torch::Tensor& actual, const torch::Tensor& expected,
                 const std::vector<torch::Tensor>& references) {
  REQUIRE(actual.defined());
  REQUIRE(expected.defined());
  REQUIRE(actual.sizes() == expected.sizes());
  CHECK(torch::isfinite(actual).all().item<bool>());
  double scale = std::numeric_limits<float>::min();
  for (const torch::Tensor& reference : references) {
    scale = std::max(scale, reference.detach().abs().max().item<double>());
  }
  const double difference = (actual.detach() - expected.detach()).abs().max().item<double>();
  INFO("max difference " << difference << ", scale " << scale);
  CHECK(difference <= 1e-5 * scale);
}

// One forward and backward pass through `op`, either with forward_mixed() or
// with the weighted loop over forward().
struct Pass {
  torch::Tensor output;
  torch::Tensor input_grad;
  torch::Tensor weight_grad;
};

Pass run_pass(nasq::sdk::QuantizerOp& op, const torch::Tensor& input,
              const torch::Tensor& mixing_weights, const torch::Tensor& upstream, bool mixed) {
  op.zero_grad();
  const torch::Tensor x = input.detach().clone().requires_grad_(true);
  const torch::Tensor w = mixing_weights.detach().clone().requires_grad_(true);
  Pass pass;
  if (mixed) {
    pass.output = op.forward_mixed(x, kBits, w);
  } else {
    for (std::size_t i = 0; i < kBits.size(); ++i) {
      torch::Tensor weight = w.select(-1, static_cast<std::int64_t>(i));
      if (w.dim() == 2) weight = weight.view({-1, 1, 1, 1});
      const torch::Tensor term = op.forward(x, kBits[i]) * weight;
      pass.output = pass.output.defined() ? pass.output + term : term;
    }
  }
  (pass.output * upstream).sum().backward();
  pass.input_grad = x.grad();
  pass.weight_grad = w.grad();
  return pass;
}

void compare_modules(const nasq::sdk::QuantizerOp& mixed_op, const nasq::sdk::QuantizerOp& loop_op) {
  const auto mixed_buffers = mixed_op.named_buffers();
  const auto loop_buffers = loop_op.named_buffers();
  REQUIRE(mixed_buffers.size() == loop_buffers.size());
  for (const auto& buffer : loop_buffers) {
    INFO("buffer " << buffer.key());
    CHECK(torch::equal(mixed_buffers[buffer.key()], buffer.value()));
  }
  const auto mixed_parameters = mixed_op.named_parameters();
  for (const auto& parameter : loop_op.named_parameters()) {
    INFO("parameter " << parameter.key());
    const torch::Tensor& mixed_grad = mixed_parameters[parameter.key()].grad();
    CHECK(mixed_grad.defined() == parameter.value().grad().defined());
    if (mixed_grad.defined()) {
      check_close(mixed_grad, parameter.value().grad(), {parameter.value().grad()});
    }
  }
}

enum class Mode { training, evaluation_after_training };

}  // namespace

TEST_CASE("forward_mixed equals the loop over forward") {
  const std::vector<Input> cases = inputs();
  for (const auto& configuration : kConfigurations) {
    QuantizerFixture fixture(configuration.name, configuration.stack_text);
    const std::vector<nasq::sdk::QuantizerSite> sites = {
        weight_site(kBits, 3), activation_site(kBits, false), activation_site(kBits, true)};
    for (const auto& site : sites) {
      for (const Mode mode : {Mode::training, Mode::evaluation_after_training}) {
        for (const bool per_sample : {false, true}) {
          for (const auto& input : cases) {
            const bool is_weight = site.role == nasq::sdk::TensorRole::weight;
            INFO(configuration.name << " " << configuration.stack_text << "site role "
                                    << (is_weight ? "weight" : "activation")
                                    << (site.non_negative ? " non-negative" : "") << ", "
                                    << (mode == Mode::training ? "training" : "evaluation")
                                    << ", " << (per_sample ? "[N, B]" : "[B]") << " weights, "
                                    << input.label);
            const auto mixed_op = fixture.op(site);
            const auto loop_op = fixture.op(site);
            if (mode == Mode::evaluation_after_training) {
              // One training batch at half scale, so evaluation clips the input.
              for (const auto& op : {mixed_op, loop_op}) {
                op->train();
                op->forward(input.values * 0.5, kBits.front());
                op->eval();
              }
            }

            const std::vector<std::int64_t> weight_shape =
                per_sample ? std::vector<std::int64_t>{input.values.size(0), 3}
                           : std::vector<std::int64_t>{3};
            const torch::Tensor mixing_weights = torch::softmax(torch::randn(weight_shape), -1);
            const torch::Tensor upstream = torch::randn(input.values.sizes());
            const Pass mixed = run_pass(*mixed_op, input.values, mixing_weights, upstream, true);
            const Pass loop = run_pass(*loop_op, input.values, mixing_weights, upstream, false);

            check_close(mixed.output, loop.output, {loop.output});
            check_close(mixed.input_grad, loop.input_grad, {loop.input_grad, upstream});
            // The weights' gradient sums upstream * q_b(x) over the whole tensor.
            const torch::Tensor terms = (upstream * input.values).abs().sum();
            check_close(mixed.weight_grad, loop.weight_grad, {terms});
            CHECK(mixed.output.masked_select(input.values == 0).eq(0).all().item<bool>());
            compare_modules(*mixed_op, *loop_op);
          }
        }
      }
    }
  }
}

TEST_CASE("linear forward_mixed of one bit-width equals forward") {
  QuantizerFixture fixture("linear");
  const auto op = fixture.op(activation_site({4}, false));
  op->train();
  const torch::Tensor x = torch::randn({2, 3, 4, 4});
  const torch::Tensor unit_weight = torch::ones({1});
  CHECK(torch::equal(op->forward_mixed(x, {4}, unit_weight), op->forward(x, 4)));
}

TEST_CASE("forward_mixed keeps half precision inputs") {
  for (const auto& name : nasq::test::kQuantizerNames) {
    INFO("quantizer " << name);
    QuantizerFixture fixture(name);
    const auto op = fixture.op(activation_site({2, 4}, true));
    const torch::Tensor x = torch::rand({2, 8}).to(torch::kHalf);
    const torch::Tensor mixed = op->forward_mixed(x, {2, 4}, torch::tensor({0.25f, 0.75f}));
    CHECK((mixed.scalar_type() == torch::kHalf));
    CHECK(torch::isfinite(mixed).all().item<bool>());
  }
}

TEST_CASE("forward_mixed rejects mismatched arguments") {
  for (const auto& name : nasq::test::kQuantizerNames) {
    INFO("quantizer " << name);
    QuantizerFixture fixture(name);
    const auto op = fixture.op(activation_site({2, 4}, false));
    const torch::Tensor x = torch::randn({3, 4, 2, 2});
    // Three weights for two bit-widths, rows for a batch of 2 instead of 3,
    // and a bit-width the site did not list.
    CHECK_THROWS_AS(op->forward_mixed(x, {2, 4}, torch::ones({3})), std::logic_error);
    CHECK_THROWS_AS(op->forward_mixed(x, {2, 4}, torch::ones({2, 2})), std::logic_error);
    CHECK_THROWS_AS(op->forward_mixed(x, {2, 8}, torch::ones({2})), std::logic_error);
  }
}
