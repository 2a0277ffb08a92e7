// Portable seeded shuffles, class-balanced subsets and splits.
#include "core/data/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace nasq::data {

namespace {

// Groups the indices of each class, in ascending order.
std::vector<std::vector<std::int64_t>> indices_by_class(std::span<const std::int64_t> labels,
                                                        std::int64_t num_classes) {
  std::vector<std::vector<std::int64_t>> groups(static_cast<std::size_t>(num_classes));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    groups.at(static_cast<std::size_t>(labels[i])).push_back(static_cast<std::int64_t>(i));
  }
  return groups;
}

// Splits `count` over classes of the given sizes as evenly as sizes allow.
std::vector<std::int64_t> even_quotas(const std::vector<std::vector<std::int64_t>>& groups, std::int64_t count,
                                      std::mt19937_64& rng) {
  std::vector<std::int64_t> quotas(groups.size(), 0);
  std::int64_t remaining = count;
  while (remaining > 0) {
    std::vector<std::int64_t> open;
    for (std::size_t c = 0; c < groups.size(); ++c) {
      if (quotas[c] < static_cast<std::int64_t>(groups[c].size())) {
        open.push_back(static_cast<std::int64_t>(c));
      }
    }
    if (open.empty()) {
      break;
    }
    const std::int64_t share = remaining / static_cast<std::int64_t>(open.size());
    if (share == 0) {
      // Fewer images left than open classes: give one each to random classes.
      shuffle_values(open, rng);
      for (std::int64_t i = 0; i < remaining; ++i) {
        ++quotas[static_cast<std::size_t>(open[static_cast<std::size_t>(i)])];
      }
      break;
    }
    for (const std::int64_t c : open) {
      const auto size = static_cast<std::int64_t>(groups[static_cast<std::size_t>(c)].size());
      const std::int64_t added = std::min(share, size - quotas[static_cast<std::size_t>(c)]);
      quotas[static_cast<std::size_t>(c)] += added;
      remaining -= added;
    }
  }
  return quotas;
}

// Apportions round(fraction * total) over classes by largest remainder.
std::vector<std::int64_t> proportional_quotas(const std::vector<std::vector<std::int64_t>>& groups,
                                              double fraction) {
  std::vector<std::int64_t> quotas(groups.size(), 0);
  std::vector<double> remainders(groups.size(), 0.0);
  std::int64_t assigned = 0;
  std::int64_t total = 0;
  for (std::size_t c = 0; c < groups.size(); ++c) {
    const double exact = fraction * static_cast<double>(groups[c].size());
    quotas[c] = static_cast<std::int64_t>(std::floor(exact));
    remainders[c] = exact - static_cast<double>(quotas[c]);
    assigned += quotas[c];
    total += static_cast<std::int64_t>(groups[c].size());
  }
  const auto target = static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(total)));

  std::vector<std::size_t> order(groups.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return remainders[a] > remainders[b]; });
  for (std::size_t i = 0; i < order.size() && assigned < target; ++i) {
    const std::size_t c = order[i];
    if (quotas[c] < static_cast<std::int64_t>(groups[c].size())) {
      ++quotas[c];
      ++assigned;
    }
  }
  return quotas;
}

}  // namespace

std::mt19937_64 make_rng(std::uint64_t seed, RngStream stream) {
  const auto low = [](std::uint64_t value) { return static_cast<std::uint32_t>(value); };
  const auto high = [](std::uint64_t value) { return static_cast<std::uint32_t>(value >> 32); };
  const auto tag = static_cast<std::uint64_t>(stream);
  std::seed_seq sequence{low(seed), high(seed), low(tag), high(tag)};
  return std::mt19937_64(sequence);
}

std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
  // Reject the top partial block so every residue is equally likely.
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % bound;
  std::uint64_t value = rng();
  while (value >= limit) {
    value = rng();
  }
  return value % bound;
}

void shuffle_values(std::span<std::int64_t> values, std::mt19937_64& rng) {
  for (std::size_t i = values.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(uniform_below(rng, i));
    std::swap(values[i - 1], values[j]);
  }
}

std::vector<std::int64_t> iota_indices(std::int64_t count) {
  std::vector<std::int64_t> indices(static_cast<std::size_t>(count));
  std::iota(indices.begin(), indices.end(), std::int64_t{0});
  return indices;
}

std::vector<std::int64_t> balanced_subset(std::span<const std::int64_t> labels, std::int64_t num_classes,
                                          std::int64_t count, std::mt19937_64& rng) {
  if (count >= static_cast<std::int64_t>(labels.size())) {
    return iota_indices(static_cast<std::int64_t>(labels.size()));
  }
  auto groups = indices_by_class(labels, num_classes);
  const std::vector<std::int64_t> quotas = even_quotas(groups, count, rng);
  std::vector<std::int64_t> chosen;
  for (std::size_t c = 0; c < groups.size(); ++c) {
    shuffle_values(groups[c], rng);
    chosen.insert(chosen.end(), groups[c].begin(), groups[c].begin() + quotas[c]);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

SplitIndices balanced_split(std::span<const std::int64_t> labels, std::int64_t num_classes, double fraction,
                            std::mt19937_64& rng) {
  auto groups = indices_by_class(labels, num_classes);
  const std::vector<std::int64_t> quotas = proportional_quotas(groups, fraction);
  SplitIndices split;
  for (std::size_t c = 0; c < groups.size(); ++c) {
    shuffle_values(groups[c], rng);
    const auto boundary = groups[c].begin() + quotas[c];
    split.validation.insert(split.validation.end(), groups[c].begin(), boundary);
    split.train.insert(split.train.end(), boundary, groups[c].end());
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  return split;
}

}  // namespace nasq::data
