// Pareto front of two minimized objectives.
#include <doctest/doctest.h>

#include <cmath>

#include "core/report/pareto.hpp"

using nasq::report::Objectives;
using nasq::report::pareto_front;
using Indices = std::vector<std::size_t>;

TEST_CASE("pareto front drops dominated points") {
  // (error, energy): 1 is dominated by 0, 4 by 2.
  const std::vector<Objectives> points = {
      {0.07, 0.30}, {0.08, 0.31}, {0.08, 0.12}, {0.11, 0.05}, {0.09, 0.20}};
  CHECK(pareto_front(points) == Indices{0, 2, 3});
}

TEST_CASE("pareto front keeps equal points") {
  CHECK(pareto_front({{1.0, 2.0}, {1.0, 2.0}}) == Indices{0, 1});
}

TEST_CASE("pareto front with a tie in one objective") {
  // Equal error, lower energy dominates.
  CHECK(pareto_front({{1.0, 3.0}, {1.0, 2.0}}) == Indices{1});
  CHECK(pareto_front({{2.0, 1.0}, {3.0, 1.0}}) == Indices{0});
}

TEST_CASE("pareto front ignores points that are not finite") {
  // The NaN point would dominate everything if it counted as small.
  CHECK(pareto_front({{NAN, 0.0}, {1.0, 1.0}, {0.5, INFINITY}}) == Indices{1});
  CHECK(pareto_front({{NAN, NAN}}).empty());
}

TEST_CASE("pareto front of no point and of one point") {
  CHECK(pareto_front({}).empty());
  CHECK(pareto_front({{3.0, 4.0}}) == Indices{0});
}

TEST_CASE("pareto front of a monotone trade-off keeps all") {
  std::vector<Objectives> points;
  for (int i = 0; i < 10; ++i) points.push_back({0.05 + 0.01 * i, 1.0 / (i + 1)});
  CHECK(pareto_front(points).size() == 10);
}
