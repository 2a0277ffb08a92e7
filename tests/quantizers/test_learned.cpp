// Tests of the pact and lsq quantizer plugins: learned clipping levels and
// step sizes, their gradients, initialisation and optimizer steps.
#include "tests/support/torch_doctest.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "tests/quantizers/quantizer_fixture.hpp"

using nasq::test::activation_site;
using nasq::test::buffer_named;
using nasq::test::distinct_values;
using nasq::test::leaf_of;
using nasq::test::parameter_named;
using nasq::test::QuantizerFixture;
using nasq::test::tensor_of;
using nasq::test::values_of;
using nasq::test::weight_site;

namespace {

void check_values(const torch::Tensor& actual, const std::vector<float>& expected) {
  const std::vector<float> values = values_of(actual);
  REQUIRE(values.size() == expected.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    INFO("element " << i);
    CHECK(values[i] == doctest::Approx(expected[i]).epsilon(1e-6));
  }
}

// Gradients that LSQ defines for q = round(clamp(x / s, -qn, qp)) * s, with
// upstream gradient `upstream` and gradient scale g.
struct LsqExpected {
  std::vector<float> grad_x;
  double grad_step = 0.0;
};

LsqExpected lsq_expected(const std::vector<float>& x, const std::vector<float>& upstream,
                         double step, double qn, double qp, double gradient_scale) {
  LsqExpected expected;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double scaled = static_cast<double>(x[i]) / step;
    double term = std::nearbyint(scaled) - scaled;
    bool inside = true;
    if (scaled < -qn) {
      term = -qn;
      inside = false;
    } else if (scaled > qp) {
      term = qp;
      inside = false;
    }
    expected.grad_x.push_back(inside ? upstream[i] : 0.0f);
    expected.grad_step += upstream[i] * term;
  }
  expected.grad_step *= gradient_scale;
  return expected;
}

// Sets a learned step or clipping level without recording a gradient.
void set_value(const torch::Tensor& parameter, double value) {
  torch::NoGradGuard no_grad;
  parameter.fill_(value);
}

// Sets the LSQ step of `bits` and marks it initialised, so that the next
// forward() keeps it.
void set_lsq_step(const torch::nn::Module& op, int bits, double value) {
  const std::string suffix = std::to_string(bits) + "bit";
  set_value(parameter_named(op, "step_" + suffix), value);
  buffer_named(op, "initialized_" + suffix).fill_(true);
}

}  // namespace

TEST_CASE("pact alpha per bit choice") {
  QuantizerFixture fixture("pact");
  const auto op = fixture.op(activation_site({2, 4, 4}, true));
  CHECK(op->parameters().size() == 2);
  const torch::Tensor alpha_2 = parameter_named(*op, "alpha_2bit");
  const torch::Tensor alpha_4 = parameter_named(*op, "alpha_4bit");
  REQUIRE(alpha_2.defined());
  REQUIRE(alpha_4.defined());
  CHECK(alpha_2.requires_grad());
  CHECK(alpha_2.item<float>() == doctest::Approx(6.0));

  const auto weights = fixture.op(weight_site({2, 4}));
  CHECK(weights->parameters().empty());
}

TEST_CASE("pact unsigned forward and gradients") {
  QuantizerFixture fixture("pact", "[quantizer.pact]\nalpha_init = 1.0\n");
  const auto op = fixture.op(activation_site({2, 4}, true));
  op->train();
  const torch::Tensor alpha_2 = parameter_named(*op, "alpha_2bit");
  const torch::Tensor alpha_4 = parameter_named(*op, "alpha_4bit");

  // Clip to [0, 1]. At 2 bits s = 1/3 and y / s = [0, 0.6, 1.5, 3, 3].
  const torch::Tensor x = leaf_of({-0.5f, 0.2f, 0.5f, 1.0f, 1.5f});
  const torch::Tensor quantized = op->forward(x, 2);
  check_values(quantized, {0.0f, 1.0f / 3.0f, 2.0f / 3.0f, 1.0f, 1.0f});

  quantized.sum().backward();
  check_values(x.grad(), {0.0f, 1.0f, 1.0f, 0.0f, 0.0f});
  REQUIRE(alpha_2.grad().defined());
  CHECK(alpha_2.grad().item<float>() == doctest::Approx(2.0));  // two inputs at or above alpha
  CHECK((!alpha_4.grad().defined() || alpha_4.grad().item<float>() == 0.0f));

  torch::optim::SGD optimizer(op->parameters(), torch::optim::SGDOptions(0.1));
  optimizer.step();
  CHECK(alpha_2.item<float>() == doctest::Approx(0.8));
  CHECK(alpha_4.item<float>() == doctest::Approx(1.0));
}

TEST_CASE("pact signed forward and gradients") {
  QuantizerFixture fixture("pact", "[quantizer.pact]\nalpha_init = 1.0\n");
  const auto op = fixture.op(activation_site({2}, false));
  const torch::Tensor alpha = parameter_named(*op, "alpha_2bit");

  // Clip to [-1, 1]. The signed 2-bit grid has s = 1.
  const torch::Tensor x = leaf_of({-1.5f, -0.2f, 0.2f, 1.5f});
  const torch::Tensor quantized = op->forward(x, 2);
  check_values(quantized, {-1.0f, 0.0f, 0.0f, 1.0f});

  (quantized * tensor_of({1.0f, 1.0f, 1.0f, 2.0f})).sum().backward();
  check_values(x.grad(), {0.0f, 1.0f, 1.0f, 0.0f});
  // -1 from the input at or below -alpha, +2 from the one at or above alpha.
  CHECK(alpha.grad().item<float>() == doctest::Approx(1.0));
}

TEST_CASE("pact signed_activations clips both sides") {
  QuantizerFixture fixture("pact",
                           "[quantizer.pact]\nalpha_init = 1.0\nsigned_activations = true\n");
  const auto op = fixture.op(activation_site({2}, true));
  check_values(op->forward(tensor_of({-1.5f, 0.2f, 0.7f, 1.5f}), 2), {-1.0f, 0.0f, 1.0f, 1.0f});
}

TEST_CASE("pact output levels fit the grid") {
  QuantizerFixture fixture("pact", "[quantizer.pact]\nalpha_init = 1.0\n");
  const std::vector<int> bit_widths = {2, 3, 4, 8};
  const auto unsigned_op = fixture.op(activation_site(bit_widths, true));
  const auto signed_op = fixture.op(activation_site(bit_widths, false));
  for (const int bits : bit_widths) {
    INFO("bits " << bits);
    const std::int64_t grid_size = std::int64_t{1} << bits;
    const torch::Tensor ramp = torch::linspace(-1.5, 1.5, 8 * grid_size + 1);
    CHECK(distinct_values(unsigned_op->forward(ramp, bits)) == grid_size);
    CHECK(distinct_values(signed_op->forward(ramp, bits)) == grid_size - 1);
    CHECK(distinct_values(unsigned_op->forward(torch::randn({4096}), bits)) <= grid_size);
  }
}

TEST_CASE("pact weights match linear weights") {
  torch::manual_seed(5);
  QuantizerFixture pact("pact");
  QuantizerFixture linear("linear");
  const auto pact_op = pact.op(weight_site({2, 4, 8}));
  const auto linear_op = linear.op(weight_site({2, 4, 8}));
  const torch::Tensor weights = torch::randn({16, 8, 3, 3});
  for (const int bits : {2, 4, 8}) {
    INFO("bits " << bits);
    CHECK(torch::equal(pact_op->forward(weights, bits), linear_op->forward(weights, bits)));
  }
}

TEST_CASE("lsq step initialised from first batch") {
  QuantizerFixture fixture("lsq");
  const auto op = fixture.op(weight_site({2, 4}));
  CHECK(op->parameters().size() == 2);
  const torch::Tensor step_2 = parameter_named(*op, "step_2bit");
  const torch::Tensor step_4 = parameter_named(*op, "step_4bit");
  REQUIRE(step_2.defined());
  REQUIRE(step_4.defined());
  CHECK(step_4.requires_grad());
  CHECK(buffer_named(*op, "initialized_4bit").item<bool>() == false);

  // mean |x| = 0.9, and the signed 4-bit grid has Qp = 7, so s0 = 2 * 0.9 / sqrt(7).
  op->forward(tensor_of({-1.0f, -0.5f, 0.25f, 0.75f, 2.0f}), 4);
  CHECK(step_4.item<float>() == doctest::Approx(1.8 / std::sqrt(7.0)));
  CHECK(buffer_named(*op, "initialized_4bit").item<bool>() == true);
  CHECK(step_2.item<float>() == doctest::Approx(1.0));  // untouched placeholder
  CHECK(buffer_named(*op, "initialized_2bit").item<bool>() == false);

  // Later batches do not re-initialise.
  op->forward(tensor_of({-10.0f, 10.0f}), 4);
  CHECK(step_4.item<float>() == doctest::Approx(1.8 / std::sqrt(7.0)));
}

TEST_CASE("lsq all-zero batches skip initialisation") {
  QuantizerFixture fixture("lsq");
  const auto op = fixture.op(activation_site({3}, true));
  const torch::Tensor step = parameter_named(*op, "step_3bit");
  op->train();
  op->forward(torch::zeros({2, 4}), 3);
  CHECK(buffer_named(*op, "initialized_3bit").item<bool>() == false);
  CHECK(step.item<float>() == doctest::Approx(1.0));

  // mean |x| = 0.7, and the unsigned 3-bit grid has Qp = 7.
  op->forward(torch::full({2, 4}, 0.7), 3);
  CHECK(buffer_named(*op, "initialized_3bit").item<bool>() == true);
  CHECK(step.item<float>() == doctest::Approx(1.4 / std::sqrt(7.0)));
}

TEST_CASE("lsq weight gradients match formulas") {
  QuantizerFixture fixture("lsq");
  const auto op = fixture.op(weight_site({3}));
  const torch::Tensor step = parameter_named(*op, "step_3bit");
  const std::vector<float> values = {-3.0f, -1.1f, -0.2f, 0.3f, 0.74f, 1.6f, 2.5f};
  const std::vector<float> upstream = {0.5f, -1.0f, 2.0f, 1.5f, -0.5f, 1.0f, 3.0f};

  op->forward(tensor_of(values), 3);  // initialises the step
  set_value(step, 0.5);

  // The signed 3-bit grid has Qn = 4 and Qp = 3. x / s = [-6, -2.2, -0.4, 0.6, 1.48, 3.2, 5].
  const torch::Tensor x = leaf_of(values);
  const torch::Tensor quantized = op->forward(x, 3);
  check_values(quantized, {-2.0f, -1.0f, 0.0f, 0.5f, 0.5f, 1.5f, 1.5f});

  (quantized * tensor_of(upstream)).sum().backward();
  const double gradient_scale = 1.0 / std::sqrt(7.0 * 3.0);  // N = 7 weights
  const LsqExpected expected = lsq_expected(values, upstream, 0.5, 4.0, 3.0, gradient_scale);
  check_values(x.grad(), expected.grad_x);
  CHECK(step.grad().item<float>() == doctest::Approx(expected.grad_step).epsilon(1e-5));

  torch::optim::SGD optimizer(op->parameters(), torch::optim::SGDOptions(0.01));
  optimizer.step();
  CHECK(step.item<float>() == doctest::Approx(0.5 - 0.01 * expected.grad_step).epsilon(1e-5));
  CHECK(step.item<float>() != doctest::Approx(0.5));
}

TEST_CASE("lsq activation scale counts features") {
  torch::manual_seed(13);
  QuantizerFixture fixture("lsq");
  const auto op = fixture.op(activation_site({4}, true));
  op->train();
  const torch::Tensor step = parameter_named(*op, "step_4bit");
  const torch::Tensor input = torch::rand({4, 3, 2, 2}) * 2.0;
  const torch::Tensor upstream = torch::randn({4, 3, 2, 2});

  op->forward(input, 4);
  set_value(step, 0.1);
  const torch::Tensor x = input.clone().requires_grad_(true);
  (op->forward(x, 4) * upstream).sum().backward();

  // The unsigned 4-bit grid has Qn = 0 and Qp = 15. N = 3 * 2 * 2 features per example.
  const double gradient_scale = 1.0 / std::sqrt(12.0 * 15.0);
  const LsqExpected expected =
      lsq_expected(values_of(input), values_of(upstream), static_cast<double>(0.1f), 0.0, 15.0,
                   gradient_scale);
  check_values(x.grad(), expected.grad_x);
  CHECK(step.grad().item<float>() == doctest::Approx(expected.grad_step).epsilon(1e-4));
}

TEST_CASE("lsq scale_step_gradient false uses g = 1") {
  QuantizerFixture fixture("lsq", "[quantizer.lsq]\nscale_step_gradient = false\n");
  const auto op = fixture.op(weight_site({3}));
  const torch::Tensor step = parameter_named(*op, "step_3bit");
  const std::vector<float> values = {-3.0f, -1.1f, -0.2f, 0.3f, 0.74f, 1.6f, 2.5f};
  op->forward(tensor_of(values), 3);
  set_value(step, 0.5);

  op->forward(leaf_of(values), 3).sum().backward();
  const LsqExpected expected =
      lsq_expected(values, std::vector<float>(values.size(), 1.0f), 0.5, 4.0, 3.0, 1.0);
  CHECK(step.grad().item<float>() == doctest::Approx(expected.grad_step).epsilon(1e-5));
}

TEST_CASE("lsq output levels fit the grid") {
  QuantizerFixture fixture("lsq");
  const std::vector<int> bit_widths = {2, 3, 4, 8};
  const auto weights = fixture.op(weight_site(bit_widths));
  const auto unsigned_activations = fixture.op(activation_site(bit_widths, true));
  for (const int bits : bit_widths) {
    INFO("bits " << bits);
    const std::int64_t grid_size = std::int64_t{1} << bits;
    set_lsq_step(*weights, bits, 0.1);
    set_lsq_step(*unsigned_activations, bits, 0.1);
    const double ramp_end = 1.5 * static_cast<double>(grid_size);
    const torch::Tensor ramp = 0.1 * torch::linspace(-ramp_end, ramp_end, 8 * grid_size + 1);

    // The LSQ signed grid {-2^(b-1), ..., 2^(b-1) - 1} has 2^b levels.
    CHECK(distinct_values(weights->forward(ramp, bits)) == grid_size);
    CHECK(distinct_values(unsigned_activations->forward(ramp, bits)) == grid_size);
    CHECK(distinct_values(weights->forward(torch::randn({4096}), bits)) <= grid_size);
  }
}

TEST_CASE("lsq tiny step stays finite") {
  QuantizerFixture fixture("lsq");
  const auto op = fixture.op(weight_site({4}));
  const torch::Tensor step = parameter_named(*op, "step_4bit");
  set_lsq_step(*op, 4, 1e-38);

  // x / s overflows to infinity in float32, so every non-zero input is clipped.
  const torch::Tensor x = leaf_of({-1000.0f, 0.0f, 1000.0f});
  const torch::Tensor quantized = op->forward(x, 4);
  CHECK(torch::isfinite(quantized).all().item<bool>());
  CHECK(quantized[1].item<float>() == 0.0f);

  quantized.sum().backward();
  check_values(x.grad(), {0.0f, 1.0f, 0.0f});
  REQUIRE(step.grad().defined());
  CHECK(std::isfinite(step.grad().item<float>()));
}
