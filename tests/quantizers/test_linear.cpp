// Tests of the linear quantizer plugin: formula, straight-through gradient,
// grid levels, running max, per-channel scales, bit checks and its keys.
#include "tests/support/torch_doctest.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "nasq/sdk/error.hpp"
#include "tests/quantizers/quantizer_fixture.hpp"
#include "tests/support/process.hpp"

using nasq::test::activation_site;
using nasq::test::buffer_named;
using nasq::test::distinct_values;
using nasq::test::leaf_of;
using nasq::test::QuantizerFixture;
using nasq::test::tensor_of;
using nasq::test::values_of;
using nasq::test::weight_site;

namespace {

// Checks `actual` element by element against `expected`.
void check_values(const torch::Tensor& actual, const std::vector<float>& expected) {
  const std::vector<float> values = values_of(actual);
  REQUIRE(values.size() == expected.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    INFO("element " << i);
    CHECK(values[i] == doctest::Approx(expected[i]).epsilon(1e-6));
  }
}

const std::vector<float> kHandInput = {-1.0f, -0.5f, 0.1f, 0.26f, 1.0f};

}  // namespace

TEST_CASE("linear signed formula on hand values") {
  QuantizerFixture fixture("linear");
  const auto op = fixture.op(weight_site({2, 3}));

  // c = 1. At 2 bits s = 1, and -0.5 rounds half to even, to 0.
  check_values(op->forward(tensor_of(kHandInput), 2), {-1.0f, 0.0f, 0.0f, 0.0f, 1.0f});
  // At 3 bits s = 1/3 and x / s = [-3, -1.5, 0.3, 0.78, 3], where -1.5 rounds to -2.
  check_values(op->forward(tensor_of(kHandInput), 3),
               {-1.0f, -2.0f / 3.0f, 0.0f, 1.0f / 3.0f, 1.0f});

  const auto activation = fixture.op(activation_site({2, 3}, false));
  activation->train();
  check_values(activation->forward(tensor_of(kHandInput), 3),
               {-1.0f, -2.0f / 3.0f, 0.0f, 1.0f / 3.0f, 1.0f});
}

TEST_CASE("linear unsigned formula on hand values") {
  QuantizerFixture fixture("linear");
  const auto op = fixture.op(activation_site({2, 3}, true));
  op->train();

  // Clamp to [0, 1]. At 2 bits s = 1/3 and x / s = [0, 0, 0.3, 0.78, 3].
  check_values(op->forward(tensor_of(kHandInput), 2), {0.0f, 0.0f, 0.0f, 1.0f / 3.0f, 1.0f});
  // At 3 bits s = 1/7 and x / s = [0, 0, 0.7, 1.82, 7].
  check_values(op->forward(tensor_of(kHandInput), 3),
               {0.0f, 0.0f, 1.0f / 7.0f, 2.0f / 7.0f, 1.0f});
}

TEST_CASE("linear signed_activations keeps signed grid") {
  QuantizerFixture fixture("linear", "[quantizer.linear]\nsigned_activations = true\n");
  const auto op = fixture.op(activation_site({2}, true));
  op->train();

  // The signed 2-bit grid of a non-negative input has only 0 and c.
  check_values(op->forward(tensor_of({0.0f, 0.2f, 0.49f, 0.51f, 1.0f}), 2),
               {0.0f, 0.0f, 0.0f, 1.0f, 1.0f});
  CHECK(distinct_values(op->forward(torch::linspace(0.0, 1.0, 101), 2)) == 2);
}

TEST_CASE("linear STE gradient equals upstream gradient") {
  torch::manual_seed(7);
  QuantizerFixture fixture("linear");
  const auto weights = fixture.op(weight_site({4}));
  const auto activations = fixture.op(activation_site({4}, false));
  activations->train();

  for (const auto& op : {weights, activations}) {
    const torch::Tensor x = torch::randn({8, 3, 5, 5}).requires_grad_(true);
    const torch::Tensor upstream = torch::randn({8, 3, 5, 5});
    (op->forward(x, 4) * upstream).sum().backward();
    // Exact equality, also at the element that sets c = max |x|: c is
    // detached, so max |x| adds nothing to that element's gradient.
    CHECK(torch::equal(x.grad(), upstream));
  }
}

TEST_CASE("linear unsigned grid blocks negative gradients") {
  QuantizerFixture fixture("linear");
  const auto op = fixture.op(activation_site({4}, true));
  op->train();
  const torch::Tensor x = leaf_of({-0.5f, 0.0f, 0.3f, 1.0f});
  op->forward(x, 4).sum().backward();
  check_values(x.grad(), {0.0f, 1.0f, 1.0f, 1.0f});
}

TEST_CASE("linear output levels fit the grid") {
  torch::manual_seed(11);
  QuantizerFixture fixture("linear");
  const std::vector<int> bit_widths = {2, 3, 4, 8, 16};
  const auto weights = fixture.op(weight_site(bit_widths));
  const auto unsigned_activations = fixture.op(activation_site(bit_widths, true));
  unsigned_activations->train();

  for (const int bits : bit_widths) {
    INFO("bits " << bits);
    const std::int64_t grid_size = std::int64_t{1} << bits;
    const std::int64_t ramp_points = 2 * grid_size + 1;

    CHECK(distinct_values(weights->forward(torch::randn({4096}), bits)) <= grid_size);
    CHECK(distinct_values(unsigned_activations->forward(torch::rand({4096}), bits)) <= grid_size);

    // The symmetric signed grid has 2^b - 1 levels, the unsigned one 2^b.
    const torch::Tensor signed_ramp = torch::linspace(-1.0, 1.0, ramp_points);
    CHECK(distinct_values(weights->forward(signed_ramp, bits)) == grid_size - 1);
    const torch::Tensor unsigned_ramp = torch::linspace(0.0, 1.0, ramp_points);
    CHECK(distinct_values(unsigned_activations->forward(unsigned_ramp, bits)) == grid_size);

    // Every output is an integer multiple k of s = c / (2^(b-1) - 1), up to
    // the float32 rounding of k * s (about k * 6e-8).
    const double step = 1.0 / static_cast<double>((grid_size / 2) - 1);
    const torch::Tensor multiples = weights->forward(signed_ramp, bits).to(torch::kDouble) / step;
    const double tolerance = std::max(1e-5, std::ldexp(1.0, bits - 21));
    CHECK((multiples - multiples.round()).abs().max().item<double>() < tolerance);
  }
}

TEST_CASE("linear running max follows batches") {
  QuantizerFixture fixture("linear", "[quantizer.linear]\nmomentum = 0.5\n");
  const auto op = fixture.op(activation_site({2, 3}, false));
  const torch::Tensor running_max = buffer_named(*op, "running_max");
  const torch::Tensor tracked = buffer_named(*op, "num_batches_tracked");
  REQUIRE(running_max.defined());
  REQUIRE(tracked.defined());

  op->train();
  op->forward(tensor_of({0.5f, -1.0f}), 3);
  CHECK(running_max.item<float>() == doctest::Approx(1.0));  // the first batch sets it
  op->forward(tensor_of({3.0f, 0.0f}), 3);
  CHECK(running_max.item<float>() == doctest::Approx(2.0));  // 0.5 * 1 + 0.5 * 3
  CHECK(tracked.item<std::int64_t>() == 2);

  // Evaluation clips at c = 2 (s = 2/3 at 3 bits). Clipped values get no gradient.
  op->eval();
  const torch::Tensor x = leaf_of({-4.0f, -0.5f, 0.5f, 1.9f, 4.0f});
  const torch::Tensor quantized = op->forward(x, 3);
  check_values(quantized, {-2.0f, -2.0f / 3.0f, 2.0f / 3.0f, 2.0f, 2.0f});
  quantized.sum().backward();
  check_values(x.grad(), {0.0f, 1.0f, 1.0f, 1.0f, 0.0f});
  CHECK(running_max.item<float>() == doctest::Approx(2.0));
  CHECK(tracked.item<std::int64_t>() == 2);
}

TEST_CASE("linear running max updates once per input") {
  QuantizerFixture fixture("linear", "[quantizer.linear]\nmomentum = 0.5\n");
  const auto op = fixture.op(activation_site({2, 3}, false));
  const torch::Tensor running_max = buffer_named(*op, "running_max");
  const torch::Tensor tracked = buffer_named(*op, "num_batches_tracked");
  op->train();

  const torch::Tensor first = tensor_of({1.0f});
  op->forward(first, 2);
  op->forward(first, 3);
  CHECK(tracked.item<std::int64_t>() == 1);

  const torch::Tensor second = tensor_of({3.0f});
  op->forward(second, 2);
  op->forward(second, 3);
  CHECK(tracked.item<std::int64_t>() == 2);
  CHECK(running_max.item<float>() == doctest::Approx(2.0));

  // An in-place change makes the same tensor a new input.
  second.mul_(2.0);
  op->forward(second, 2);
  CHECK(tracked.item<std::int64_t>() == 3);
  CHECK(running_max.item<float>() == doctest::Approx(4.0));  // 0.5 * 2 + 0.5 * 6
}

TEST_CASE("linear untrained evaluation uses batch max") {
  QuantizerFixture fixture("linear");
  const auto op = fixture.op(activation_site({4}, false));
  op->eval();
  const torch::Tensor quantized = op->forward(tensor_of({-5.0f, 1.0f, 5.0f}), 4);
  CHECK(quantized.abs().max().item<float>() == doctest::Approx(5.0));
  CHECK(buffer_named(*op, "num_batches_tracked").item<std::int64_t>() == 0);
}

TEST_CASE("linear per-channel weight scales") {
  // Row 1 is row 0 times 10.
  const torch::Tensor weights = tensor_of({-1.0f, 0.4f, 0.1f, -10.0f, 4.0f, 1.0f}).view({2, 3});

  QuantizerFixture per_channel("linear", "[quantizer.linear]\nper_channel_weights = true\n");
  const auto op = per_channel.op(weight_site({3}, 2));
  // c = 1 and c = 10 at 3 bits: rows [-1, 1/3, 0] and [-10, 10/3, 0].
  check_values(op->forward(weights, 3), {-1.0f, 1.0f / 3.0f, 0.0f, -10.0f, 10.0f / 3.0f, 0.0f});

  QuantizerFixture per_tensor("linear");
  const auto tensor_op = per_tensor.op(weight_site({3}, 2));
  // One c = 10 for both rows: row 0 falls below half a step of 10/3.
  check_values(tensor_op->forward(weights, 3), {0.0f, 0.0f, 0.0f, -10.0f, 10.0f / 3.0f, 0.0f});

  // A conv weight [C, 1, k, k] keeps each channel's max |w| as its clipping level.
  torch::manual_seed(3);
  const torch::Tensor channel_scales = tensor_of({0.01f, 0.1f, 1.0f, 10.0f}).view({4, 1, 1, 1});
  const torch::Tensor conv = torch::randn({4, 1, 3, 3}) * channel_scales;
  const torch::Tensor quantized = op->forward(conv, 3);
  const torch::Tensor expected_max = conv.abs().flatten(1).amax(1);
  const torch::Tensor actual_max = quantized.abs().flatten(1).amax(1);
  CHECK(torch::allclose(actual_max, expected_max, 1e-6, 0.0));
}

TEST_CASE("quantizers reject unsupported bits") {
  for (const auto& name : nasq::test::kQuantizerNames) {
    INFO("quantizer " << name);
    QuantizerFixture fixture(name);
    const std::vector<int> supported = fixture.quantizer->supported_bits();
    REQUIRE(!supported.empty());
    CHECK(supported.front() == 2);
    CHECK(supported.back() == 16);

    for (const int bits : {1, 0, 17, 32}) {
      INFO("bits " << bits);
      std::string message;
      try {
        fixture.op(weight_site({4, bits}));
      } catch (const nasq::sdk::Error& error) {
        message = error.what();
      }
      CHECK(message.find("quantizer '" + name + "'") != std::string::npos);
      CHECK(message.find("stage1.block0.expand.weight") != std::string::npos);
      CHECK(message.find("unsupported bit-width " + std::to_string(bits)) != std::string::npos);
      CHECK(message.find("2..16") != std::string::npos);
    }
    CHECK_THROWS_AS(fixture.op(activation_site({}, true)), nasq::sdk::Error);

    // forward() with bits outside the site's choices is a caller bug.
    const auto op = fixture.op(weight_site({2, 4}));
    CHECK_THROWS_AS(op->forward(torch::ones({3}), 3), std::logic_error);
  }
}

TEST_CASE("quantizer keys appear in nasq plugins") {
  const std::string command = nasq::test::nasq_command() + " plugins --plugin-path '" +
                              nasq::test::kQuantizerPluginDir.string() + "' --keys ";
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"linear", {"per_channel_weights", "signed_activations", "momentum"}},
      {"pact", {"alpha_init", "per_channel_weights", "signed_activations"}},
      {"lsq", {"signed_activations", "scale_step_gradient"}},
  };
  for (const auto& [name, keys] : expected) {
    INFO("quantizer " << name);
    const auto result = nasq::test::run_command(command + name);
    INFO("standard error: " << result.err);
    CHECK(result.exit_code == 0);
    CHECK(result.out.find("[quantizer." + name + "]") != std::string::npos);
    for (const auto& key : keys) {
      INFO("key " << key);
      CHECK(result.out.find(key) != std::string::npos);
    }
  }
}
