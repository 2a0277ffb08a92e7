// The ops of core/model/fused_ops.hpp and layers.hpp against LibTorch's own:
// depthwise convs (shared and per-image weights, with this library's weight
// gradient), per-image 1x1 convs, the weighted sum and batch norm fused with
// ReLU6; range batch norm against its definition.
#include "tests/support/torch_doctest.hpp"

#include <cmath>
#include <vector>

#include "core/model/fused_ops.hpp"
#include "core/model/layers.hpp"
#include "tests/model/model_fixture.hpp"

using nasq::test::max_difference;

namespace {

struct ConvResult {
  torch::Tensor output, input_grad, weight_grad;
};

// Output and gradients of conv(input, weight) for the loss sum(output * probe).
template <typename Conv>
ConvResult run_conv(const torch::Tensor& input, const torch::Tensor& weight,
                    const torch::Tensor& probe, Conv conv) {
  const torch::Tensor x = input.clone().requires_grad_(true);
  const torch::Tensor w = weight.clone().requires_grad_(true);
  const torch::Tensor output = conv(x, w);
  (output * probe).sum().backward();
  return {output.detach(), x.grad(), w.grad()};
}

// LibTorch's depthwise convolution, one image at a time for per-image weights.
torch::Tensor reference_depthwise(const torch::Tensor& x, const torch::Tensor& w,
                                  std::int64_t stride) {
  const std::int64_t channels = x.size(1);
  const std::int64_t padding = w.size(-1) / 2;
  if (w.dim() == 4) return at::conv2d(x, w, {}, stride, padding, 1, channels);
  std::vector<torch::Tensor> outputs;
  for (std::int64_t n = 0; n < x.size(0); ++n) {
    outputs.push_back(at::conv2d(x.narrow(0, n, 1), w[n], {}, stride, padding, 1, channels));
  }
  return torch::cat(outputs);
}

}  // namespace

TEST_CASE("depthwise conv matches LibTorch in double") {
  torch::manual_seed(5);
  for (const bool per_image : {false, true}) {
    for (const std::int64_t stride : {1, 2}) {
      for (const std::int64_t kernel : {3, 5, 7}) {
        CAPTURE(per_image);
        CAPTURE(stride);
        CAPTURE(kernel);
        const auto options = torch::TensorOptions().dtype(torch::kDouble);
        const torch::Tensor input = torch::randn({3, 5, 9, 9}, options);
        const torch::Tensor weight = per_image ? torch::randn({3, 5, 1, kernel, kernel}, options)
                                               : torch::randn({5, 1, kernel, kernel}, options);
        const std::int64_t out_size = (9 - 1) / stride + 1;
        const torch::Tensor probe = torch::randn({3, 5, out_size, out_size}, options);

        const ConvResult ours = run_conv(input, weight, probe, [&](auto& x, auto& w) {
          return nasq::model::depthwise_conv2d(x, w, stride);
        });
        const ConvResult reference = run_conv(input, weight, probe, [&](auto& x, auto& w) {
          return reference_depthwise(x, w, stride);
        });
        CHECK(max_difference(ours.output, reference.output) <= 1e-12);
        CHECK(max_difference(ours.input_grad, reference.input_grad) <= 1e-12);
        CHECK(max_difference(ours.weight_grad, reference.weight_grad) <= 1e-12);
      }
    }
  }
}

TEST_CASE("depthwise conv weight gradient in float") {
  // 24 channels run the vectorized loop; with more than one LibTorch thread
  // the rows also split into per-thread partial sums.
  torch::manual_seed(6);
  for (const std::int64_t stride : {1, 2}) {
    CAPTURE(stride);
    const torch::Tensor input = torch::randn({8, 24, 14, 14});
    const torch::Tensor weight = torch::randn({24, 1, 7, 7});
    const std::int64_t out_size = (14 - 1) / stride + 1;
    const torch::Tensor probe = torch::randn({8, 24, out_size, out_size});

    const ConvResult ours = run_conv(input, weight, probe, [&](auto& x, auto& w) {
      return nasq::model::depthwise_conv2d(x, w, stride);
    });
    const ConvResult reference = run_conv(input.to(torch::kDouble), weight.to(torch::kDouble),
                                          probe.to(torch::kDouble), [&](auto& x, auto& w) {
                                            return reference_depthwise(x, w, stride);
                                          });
    const double scale = reference.weight_grad.abs().max().item<double>();
    CHECK(max_difference(ours.weight_grad.to(torch::kDouble), reference.weight_grad) <=
          1e-5 * scale);
    CHECK(max_difference(ours.output.to(torch::kDouble), reference.output) <= 1e-4);
  }
}

TEST_CASE("pointwise conv with per-image weights matches a loop") {
  torch::manual_seed(7);
  const auto options = torch::TensorOptions().dtype(torch::kDouble);
  const torch::Tensor input = torch::randn({3, 4, 5, 5}, options);
  const torch::Tensor weight = torch::randn({3, 6, 4, 1, 1}, options);
  const torch::Tensor probe = torch::randn({3, 6, 5, 5}, options);

  const ConvResult ours = run_conv(input, weight, probe, [](auto& x, auto& w) {
    return nasq::model::pointwise_conv2d(x, w);
  });
  const ConvResult reference = run_conv(input, weight, probe, [](auto& x, auto& w) {
    std::vector<torch::Tensor> outputs;
    for (std::int64_t n = 0; n < x.size(0); ++n) {
      outputs.push_back(at::conv2d(x.narrow(0, n, 1), w[n]));
    }
    return torch::cat(outputs);
  });
  CHECK(max_difference(ours.output, reference.output) <= 1e-12);
  CHECK(max_difference(ours.input_grad, reference.input_grad) <= 1e-12);
  CHECK(max_difference(ours.weight_grad, reference.weight_grad) <= 1e-12);
}

TEST_CASE("weighted sum matches LibTorch ops") {
  torch::manual_seed(8);
  const auto options = torch::TensorOptions().dtype(torch::kDouble);
  for (const bool per_image : {false, true}) {
    CAPTURE(per_image);
    // Three terms of 5 channels; the inputs are NCHW-contiguous, the kernel
    // works channels-last.
    std::vector<torch::Tensor> leaves;
    for (int b = 0; b < 3; ++b) {
      leaves.push_back(torch::randn({3, 5, 4, 4}, options).requires_grad_(true));
    }
    const std::vector<torch::Tensor> terms = leaves;
    const torch::Tensor coefficients =
        (per_image ? torch::randn({3, 3}, options) : torch::randn({3}, options)).requires_grad_(true);
    leaves.push_back(coefficients);
    const torch::Tensor probe = torch::randn({3, 5, 4, 4}, options);

    const torch::Tensor output = nasq::model::weighted_sum(terms, coefficients);
    (output * probe).sum().backward();
    const std::vector<torch::Tensor> ours = nasq::test::gradients(leaves);
    nasq::test::clear_gradients(leaves);

    torch::Tensor reference = torch::zeros({}, options);
    for (std::int64_t b = 0; b < 3; ++b) {
      const torch::Tensor c = coefficients.select(-1, b);
      reference = reference + terms[static_cast<std::size_t>(b)] *
                                  (per_image ? c.view({-1, 1, 1, 1}) : c);
    }
    (reference * probe).sum().backward();
    const std::vector<torch::Tensor> expected = nasq::test::gradients(leaves);

    CHECK(max_difference(output, reference) <= 1e-12);
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      CAPTURE(i);
      CHECK(max_difference(ours[i], expected[i]) <= 1e-12);
    }
  }
}

namespace {

// Compares batch_norm_relu6() with LibTorch's batch norm and clamp: output,
// gradients of the input and the affine parameters, running statistics.
void check_batch_norm_relu6(torch::ScalarType dtype, bool relu6, bool channels_last) {
  CAPTURE(dtype);
  CAPTURE(relu6);
  CAPTURE(channels_last);
  const double momentum = nasq::model::kBatchNormMomentum;
  const double eps = nasq::model::kBatchNormEps;
  const auto options = torch::TensorOptions().dtype(dtype);
  // Weights of 2 to 4 make ReLU6 clip at both ends; 7 channels leave a
  // remainder after any vector width.
  torch::Tensor input = torch::randn({6, 7, 5, 5}, options) * 2.5 + 1.5;
  if (channels_last) input = input.contiguous(at::MemoryFormat::ChannelsLast);
  const torch::Tensor weight = torch::rand({7}, options) * 2.0 + 2.0;
  const torch::Tensor bias = torch::randn({7}, options);
  const torch::Tensor probe = torch::randn({6, 7, 5, 5}, options);

  auto run = [&](bool fused, torch::Tensor& running_mean, torch::Tensor& running_var) {
    const torch::Tensor x = input.clone().requires_grad_(true);
    const torch::Tensor w = weight.clone().requires_grad_(true);
    const torch::Tensor b = bias.clone().requires_grad_(true);
    torch::Tensor y;
    if (fused) {
      y = nasq::model::batch_norm_relu6(x, w, b, running_mean, running_var, momentum, eps, relu6);
    } else {
      y = torch::batch_norm(x, w, b, running_mean, running_var, true, momentum, eps, false);
      if (relu6) y = torch::clamp(y, 0.0, 6.0);
    }
    (y * probe).sum().backward();
    return std::vector<torch::Tensor>{y.detach(), x.grad(), w.grad(), b.grad()};
  };
  torch::Tensor ours_mean = torch::randn({7}, options), ours_var = torch::rand({7}, options) + 1;
  torch::Tensor lib_mean = ours_mean.clone(), lib_var = ours_var.clone();
  const std::vector<torch::Tensor> ours = run(true, ours_mean, ours_var);
  const std::vector<torch::Tensor> expected = run(false, lib_mean, lib_var);

  // Double agrees to rounding. Float results differ by more, because this op
  // accumulates its sums in double.
  const double tolerance = dtype == torch::kDouble ? 1e-12 : 1e-4;
  CHECK(ours[0].is_contiguous(at::MemoryFormat::ChannelsLast));
  if (relu6) {
    CHECK(ours[0].min().item<double>() == 0.0);
    CHECK(ours[0].max().item<double>() == 6.0);
  }
  const char* names[] = {"output", "input gradient", "weight gradient", "bias gradient"};
  for (std::size_t i = 0; i < ours.size(); ++i) {
    CAPTURE(names[i]);
    CHECK(max_difference(ours[i], expected[i]) <= tolerance);
  }
  CHECK(max_difference(ours_mean, lib_mean) <= tolerance);
  CHECK(max_difference(ours_var, lib_var) <= tolerance);
}

}  // namespace

TEST_CASE("fused batch norm matches LibTorch") {
  torch::manual_seed(9);
  for (const torch::ScalarType dtype : {torch::kDouble, torch::kFloat}) {
    for (const bool relu6 : {true, false}) check_batch_norm_relu6(dtype, relu6, true);
  }
  // An NCHW input, and two threads, which sum partial per-thread sums.
  check_batch_norm_relu6(torch::kDouble, true, false);
  const int threads = torch::get_num_threads();
  torch::set_num_threads(2);
  check_batch_norm_relu6(torch::kDouble, true, true);
  torch::set_num_threads(threads);

  const torch::Tensor one_value = torch::randn({1, 3, 1, 1});
  const torch::Tensor ones = torch::ones({3});
  CHECK_THROWS_WITH(nasq::model::batch_norm_relu6(one_value, ones, ones, torch::zeros({3}),
                                                  torch::ones({3}), 0.1, 1e-5, true),
                    doctest::Contains("more than one value per channel"));
}

TEST_CASE("range batch norm follows its definition") {
  torch::manual_seed(3);
  torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(4).eps(nasq::model::kBatchNormEps)
                                .momentum(nasq::model::kBatchNormMomentum));
  {
    torch::NoGradGuard no_grad;
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.uniform_(-1.0, 1.0);
  }
  const torch::Tensor input = torch::randn({8, 4, 5, 5}, torch::kDouble) * 3.0 + 1.0;
  bn->to(torch::kDouble);
  const torch::Tensor output = nasq::model::range_batch_norm(input, *bn);

  // Undoing the affine part leaves, per channel, zero mean and a range of
  // 1 / C(n) = sqrt(2 ln n) over the n = 8 * 5 * 5 values.
  const torch::Tensor normalized =
      (output - bn->bias.view({1, 4, 1, 1})) / bn->weight.view({1, 4, 1, 1});
  const double expected_range = std::sqrt(2.0 * std::log(200.0));
  const torch::Tensor means = normalized.mean({0, 2, 3});
  const torch::Tensor ranges = normalized.amax({0, 2, 3}) - normalized.amin({0, 2, 3});
  for (std::int64_t c = 0; c < 4; ++c) {
    CAPTURE(c);
    CHECK(std::abs(means[c].item<double>()) <= 1e-12);
    // eps = 1e-5 inside the square root shrinks the range by a relative
    // amount below eps / (2 sigma^2).
    CHECK(ranges[c].item<double>() == doctest::Approx(expected_range).epsilon(1e-5));
  }

  // Running statistics move by the momentum towards the batch mean and the
  // range-based sigma^2.
  const torch::Tensor batch_mean = input.mean({0, 2, 3});
  const torch::Tensor centered = input - batch_mean.view({1, 4, 1, 1});
  const torch::Tensor sigma = (centered.amax({0, 2, 3}) - centered.amin({0, 2, 3})) / expected_range;
  const double momentum = nasq::model::kBatchNormMomentum;
  CHECK(max_difference(bn->running_mean, batch_mean * momentum) <= 1e-12);
  CHECK(max_difference(bn->running_var, (1.0 - momentum) + sigma.square() * momentum) <= 1e-12);
  CHECK(bn->num_batches_tracked.item<std::int64_t>() == 1);

  // Gradients reach the input and the affine parameters.
  const torch::Tensor x = input.clone().requires_grad_(true);
  nasq::model::range_batch_norm(x, *bn).square().sum().backward();
  CHECK(x.grad().defined());
  CHECK(torch::isfinite(x.grad()).all().item<bool>());
  CHECK(bn->weight.grad().abs().sum().item<double>() > 0.0);
}
