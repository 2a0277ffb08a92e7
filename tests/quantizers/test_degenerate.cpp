// Degenerate inputs for every quantizer: all zero, constant, max |x| near
// 1e-30 and a depthwise weight with an all-zero channel, forward and backward,
// in training and evaluation mode.
#include "tests/support/torch_doctest.hpp"

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
    {"pact", "[quantizer.pact]\nper_channel_weights = true\n"},
    {"lsq", ""},
};

struct DegenerateInput {
  std::string label;
  torch::Tensor values;
};

std::vector<DegenerateInput> degenerate_inputs() {
  torch::manual_seed(17);
  torch::Tensor depthwise = torch::randn({4, 1, 3, 3});
  depthwise[2].zero_();
  torch::Tensor tiny = torch::randn({2, 3, 4, 4});
  tiny = tiny / tiny.abs().max() * 1e-30;
  return {
      {"all zero", torch::zeros({2, 3, 4, 4})},
      {"constant positive", torch::full({2, 3, 4, 4}, 0.7)},
      {"constant negative", torch::full({2, 3, 4, 4}, -0.7)},
      {"max |x| 1e-30", tiny},
      {"max |x| 1e-30 non-negative", tiny.abs()},
      {"depthwise weight with a zero channel", depthwise},
  };
}

enum class Mode { training, evaluation_only, evaluation_after_training };

const char* to_string(Mode mode) {
  switch (mode) {
    case Mode::training: return "training";
    case Mode::evaluation_only: return "evaluation before any training batch";
    case Mode::evaluation_after_training: return "evaluation after a training batch";
  }
  return "?";
}

bool all_finite(const torch::Tensor& tensor) {
  return torch::isfinite(tensor).all().item<bool>();
}

// Runs one forward and backward pass and checks finiteness and zeros.
void check_degenerate(nasq::sdk::QuantizerOp& op, const torch::Tensor& input, int bits, Mode mode) {
  op.zero_grad();
  if (mode == Mode::evaluation_after_training) {
    op.train();
    op.forward(input, bits);
  }
  if (mode == Mode::training) {
    op.train();
  } else {
    op.eval();
  }

  const torch::Tensor x = input.clone().requires_grad_(true);
  const torch::Tensor quantized = op.forward(x, bits);
  CHECK(quantized.sizes() == x.sizes());
  CHECK(all_finite(quantized));
  const torch::Tensor zeros = input == 0;
  CHECK(quantized.masked_select(zeros).eq(0).all().item<bool>());

  quantized.sum().backward();
  REQUIRE(x.grad().defined());
  CHECK(all_finite(x.grad()));
  for (const auto& parameter : op.named_parameters()) {
    INFO("parameter " << parameter.key());
    if (parameter.value().grad().defined()) CHECK(all_finite(parameter.value().grad()));
    CHECK(all_finite(parameter.value()));
  }
  for (const auto& buffer : op.named_buffers()) {
    INFO("buffer " << buffer.key());
    CHECK(all_finite(buffer.value()));
  }
}

}  // namespace

TEST_CASE("degenerate inputs give finite results") {
  const std::vector<int> bit_widths = {2, 8, 16};
  const std::vector<DegenerateInput> inputs = degenerate_inputs();
  for (const auto& configuration : kConfigurations) {
    QuantizerFixture fixture(configuration.name, configuration.stack_text);
    const std::vector<nasq::sdk::QuantizerSite> sites = {
        weight_site(bit_widths, 4), activation_site(bit_widths, false),
        activation_site(bit_widths, true)};
    for (const auto& site : sites) {
      for (const Mode mode :
           {Mode::training, Mode::evaluation_only, Mode::evaluation_after_training}) {
        for (const auto& input : inputs) {
          for (const int bits : bit_widths) {
            // A fresh op per case, so no state from an earlier case leaks in.
            const auto op = fixture.op(site);
            const bool is_weight = site.role == nasq::sdk::TensorRole::weight;
            INFO(configuration.name << " " << configuration.stack_text << "site role "
                                    << (is_weight ? "weight" : "activation")
                                    << (site.non_negative ? " non-negative" : "") << ", "
                                    << to_string(mode) << ", " << input.label << ", " << bits
                                    << " bits");
            check_degenerate(*op, input.values, bits, mode);
          }
        }
      }
    }
  }
}

TEST_CASE("depthwise zero channel stays zero") {
  torch::Tensor depthwise = torch::randn({4, 1, 3, 3});
  depthwise[1].zero_();
  for (const std::string name : {"linear", "pact"}) {
    INFO("quantizer " << name);
    QuantizerFixture fixture(name, "[quantizer." + name + "]\nper_channel_weights = true\n");
    const auto op = fixture.op(weight_site({4}, 4));
    const torch::Tensor quantized = op->forward(depthwise, 4);
    CHECK(torch::equal(quantized[1], torch::zeros({1, 3, 3})));
    // The other channels keep their own max |w|.
    CHECK(torch::allclose(quantized.abs().flatten(1).amax(1), depthwise.abs().flatten(1).amax(1)));
  }
}

TEST_CASE("linear constant tensors stay unchanged") {
  QuantizerFixture fixture("linear");
  const auto weights = fixture.op(weight_site({2, 8}));
  const auto activations = fixture.op(activation_site({2, 8}, true));
  activations->train();
  for (const int bits : {2, 8}) {
    INFO("bits " << bits);
    // c = |value|, which lies on every grid.
    const torch::Tensor positive = torch::full({3, 3}, 0.7);
    const torch::Tensor negative = torch::full({3, 3}, -0.7);
    CHECK(torch::allclose(weights->forward(positive, bits), positive));
    CHECK(torch::allclose(weights->forward(negative, bits), negative));
    CHECK(torch::allclose(activations->forward(positive, bits), positive));
  }
}

TEST_CASE("quantizers keep half precision inputs") {
  for (const auto& name : nasq::test::kQuantizerNames) {
    INFO("quantizer " << name);
    QuantizerFixture fixture(name);
    const auto op = fixture.op(activation_site({4}, true));
    const torch::Tensor x = torch::rand({8}).to(torch::kHalf);
    const torch::Tensor quantized = op->forward(x, 4);
    CHECK((quantized.scalar_type() == torch::kHalf));
    CHECK(all_finite(quantized));
  }
}
