// Tests of QuantizerOp::export_grid() in the linear, pact and lsq plugins:
// the stated grid reproduces forward() in evaluation mode, its integer range
// follows each quantizer's formula, and ops without a fixed grid raise.
#include "tests/support/torch_doctest.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "nasq/sdk/error.hpp"
#include "tests/quantizers/quantizer_fixture.hpp"

using nasq::test::activation_site;
using nasq::test::QuantizerFixture;
using nasq::test::weight_site;

namespace {

// clamp(round(x / scale), min, max) * scale, with a 1-D scale applied per
// slice of dim 0.
torch::Tensor apply_grid(const torch::Tensor& x, const nasq::sdk::QuantizationGrid& grid) {
  torch::Tensor scale = grid.scale;
  if (scale.dim() == 1) {
    std::vector<std::int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
    shape[0] = scale.size(0);
    scale = scale.reshape(shape);
  }
  return torch::round(x / scale).clamp(grid.min_level, grid.max_level) * scale;
}

std::int64_t half_range(int bits) { return std::int64_t{1} << (bits - 1); }

struct GridCase {
  std::string quantizer;
  std::string stack;
};

const std::vector<GridCase> kCases = {
    {"linear", ""},
    {"linear", "[quantizer.linear]\nper_channel_weights = true\n"},
    {"pact", ""},
    {"pact", "[quantizer.pact]\nper_channel_weights = true\n"},
    {"lsq", ""},
};

}  // namespace

TEST_CASE("weight export grid reproduces forward") {
  for (const GridCase& grid_case : kCases) {
    for (const int bits : {2, 4, 8}) {
      CAPTURE(grid_case.quantizer);
      CAPTURE(grid_case.stack);
      CAPTURE(bits);
      torch::manual_seed(3);
      const QuantizerFixture fixture(grid_case.quantizer, grid_case.stack);
      const auto op = fixture.op(weight_site({bits}, 6));
      const torch::Tensor weight = torch::randn({6, 4, 3, 3});
      op->train();
      op->forward(weight, bits);  // initialises lsq's step
      op->eval();

      const nasq::sdk::QuantizationGrid grid = op->export_grid(weight, bits);
      const bool per_channel = grid_case.stack.find("per_channel_weights") != std::string::npos;
      CHECK(grid.scale.dim() == (per_channel ? 1 : 0));
      const bool lsq = grid_case.quantizer == "lsq";
      CHECK(grid.min_level == (lsq ? -half_range(bits) : -(half_range(bits) - 1)));
      CHECK(grid.max_level == half_range(bits) - 1);
      CHECK(torch::equal(apply_grid(weight, grid), op->forward(weight, bits)));
    }
  }
}

TEST_CASE("activation export grid reproduces forward") {
  for (const GridCase& grid_case : kCases) {
    for (const bool non_negative : {false, true}) {
      for (const int bits : {2, 4, 8}) {
        CAPTURE(grid_case.quantizer);
        CAPTURE(non_negative);
        CAPTURE(bits);
        torch::manual_seed(4);
        const QuantizerFixture fixture(grid_case.quantizer, grid_case.stack);
        const auto op = fixture.op(activation_site({bits}, non_negative));
        op->train();
        op->forward(torch::randn({8, 4, 5, 5}), bits);
        op->eval();

        const nasq::sdk::QuantizationGrid grid = op->export_grid(torch::Tensor(), bits);
        CHECK(grid.scale.dim() == 0);
        if (non_negative) {
          CHECK(grid.min_level == 0);
          CHECK(grid.max_level == 2 * half_range(bits) - 1);
        } else {
          const bool lsq = grid_case.quantizer == "lsq";
          CHECK(grid.min_level == (lsq ? -half_range(bits) : -(half_range(bits) - 1)));
          CHECK(grid.max_level == half_range(bits) - 1);
        }
        // Wider than the training batch, so that evaluation clips.
        const torch::Tensor x = 3.0 * torch::randn({8, 4, 5, 5});
        CHECK(torch::equal(apply_grid(x, grid), op->forward(x, bits)));
      }
    }
  }
}

TEST_CASE("linear export needs a training batch") {
  const QuantizerFixture fixture("linear");
  const auto op = fixture.op(activation_site({4}, true));
  op->eval();
  CHECK_THROWS_WITH_AS(op->export_grid(torch::Tensor(), 4),
                       doctest::Contains("has seen no training batch"), nasq::sdk::Error);
}

TEST_CASE("lsq export needs an initialised step") {
  const QuantizerFixture fixture("lsq");
  const auto op = fixture.op(activation_site({4}, false));
  CHECK_THROWS_WITH_AS(op->export_grid(torch::Tensor(), 4),
                       doctest::Contains("4-bit step has not been initialised"), nasq::sdk::Error);
}

TEST_CASE("weight export grid needs the weight") {
  for (const std::string name : {"linear", "pact", "lsq"}) {
    CAPTURE(name);
    const QuantizerFixture fixture(name);
    const auto op = fixture.op(weight_site({4}, 2));
    op->forward(torch::randn({2, 3}), 4);
    CHECK_THROWS_AS(op->export_grid(torch::Tensor(), 4), std::logic_error);
  }
}
