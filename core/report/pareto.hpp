// The Pareto front of points in two objectives that are both minimized, such
// as test error and energy.
#pragma once

#include <cstddef>
#include <vector>

namespace nasq::report {

// A point in two objectives, both of them minimized.
struct Objectives {
  double first = 0.0;
  double second = 0.0;
};

// Returns the indices of the points that no other point dominates, in
// increasing order of index. A point dominates another when it is no worse
// in both objectives and better in at least one, so equal points are all on
// the front. Points with a NaN or infinite objective are never on the front
// and dominate nothing.
std::vector<std::size_t> pareto_front(const std::vector<Objectives>& points);

}  // namespace nasq::report
