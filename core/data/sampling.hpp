// Seeded sampling for the data pipeline and the batch loader: random
// integers, shuffles, class-balanced subsets and class-balanced splits.
//
// Everything here uses std::mt19937_64, whose output the C++ standard fixes,
// and its own integer and shuffle code (not std::uniform_int_distribution or
// std::shuffle, whose results differ between standard libraries), so a seed
// gives the same result with any compiler.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace nasq::data {

// Streams that keep the draws of different pipeline steps independent.
enum class RngStream : std::uint64_t {
  train_subset = 1,
  test_subset = 2,
  validation_split = 3,
  loader = 4,
};

// Returns a generator seeded from `seed` and `stream` through std::seed_seq.
std::mt19937_64 make_rng(std::uint64_t seed, RngStream stream);

// Returns a uniform integer in [0, bound) by rejection sampling; bound > 0.
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound);

// Shuffles `values` uniformly (Fisher-Yates).
void shuffle_values(std::span<std::int64_t> values, std::mt19937_64& rng);

// Returns the indices 0 .. count-1 in order.
std::vector<std::int64_t> iota_indices(std::int64_t count);

// Picks `count` random indices with the classes as equal as availability
// allows: each class gets count / num_classes (rounded down), classes with
// too few images give their share to the others, and the last few images go
// to classes drawn at random. Returns the indices in ascending order.
// A count of at least labels.size() returns every index.
std::vector<std::int64_t> balanced_subset(std::span<const std::int64_t> labels, std::int64_t num_classes,
                                          std::int64_t count, std::mt19937_64& rng);

struct SplitIndices {
  std::vector<std::int64_t> train;       // ascending
  std::vector<std::int64_t> validation;  // ascending
};

// Moves a random `fraction` of each class to the validation side. The
// validation count of each class is within one image of fraction * its size,
// and the total is round(fraction * labels.size()).
SplitIndices balanced_split(std::span<const std::int64_t> labels, std::int64_t num_classes, double fraction,
                            std::mt19937_64& rng);

}  // namespace nasq::data
