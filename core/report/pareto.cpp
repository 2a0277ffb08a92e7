// Pareto front of two minimized objectives.
#include "core/report/pareto.hpp"

#include <cmath>

namespace nasq::report {
namespace {

bool finite(const Objectives& point) {
  return std::isfinite(point.first) && std::isfinite(point.second);
}

bool dominates(const Objectives& a, const Objectives& b) {
  return a.first <= b.first && a.second <= b.second && (a.first < b.first || a.second < b.second);
}

}  // namespace

std::vector<std::size_t> pareto_front(const std::vector<Objectives>& points) {
  // NOTE: quadratic in the point count, which is fine for the tens of runs a
  // report compares.
  std::vector<std::size_t> front;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (!finite(points[i])) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < points.size() && !dominated; ++j) {
      dominated = j != i && finite(points[j]) && dominates(points[j], points[i]);
    }
    if (!dominated) front.push_back(i);
  }
  return front;
}

}  // namespace nasq::report
