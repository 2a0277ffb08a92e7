// Checks of SpaceOptions: shapes, strides, and the choice lists of the decisions.
#include "core/space/space_validation.hpp"

#include <algorithm>
#include <set>

#include "nasq/sdk/error.hpp"

namespace nasq::space {
namespace {

constexpr int kMaxExpansion = 32;
constexpr int kMaxKernel = 15;
constexpr int kMinBits = 1;
constexpr int kMaxBits = 8;

class Checker {
 public:
  explicit Checker(const OriginLookup& origin) : origin_(origin) {}

  [[noreturn]] void fail_key(const std::string& key, const std::string& message) const {
    throw sdk::ConfigError("search_space." + key,
                           prefix(key, -1) + "search_space." + key + ": " + message);
  }

  [[noreturn]] void fail_stage(int stage, const std::string& key,
                               const std::string& message) const {
    throw sdk::ConfigError(
        "search_space.stages[" + std::to_string(stage) + "]." + key,
        prefix(key, stage) + "stage " + std::to_string(stage) + " of search_space: " + key +
            " " + message);
  }

  void require_positive(const std::string& key, std::int64_t value) const {
    if (value < 1) {
      fail_key(key, "must be at least 1, got " + std::to_string(value));
    }
  }

  void check_stride(const std::string& key, std::int64_t value) const {
    if (value != 1 && value != 2) {
      fail_key(key, "must be 1 or 2, got " + std::to_string(value));
    }
  }

  // Checks that `values` is a non-empty list without duplicates whose values
  // pass `accepts`; `accepted` describes the accepted values for the message.
  template <typename Accepts>
  void check_choices(const std::string& key, const std::vector<int>& values, Accepts accepts,
                     const std::string& accepted) const {
    if (values.empty()) fail_key(key, "must list at least one choice (" + accepted + ")");
    std::set<int> seen;
    for (const int value : values) {
      if (!accepts(value)) {
        fail_key(key, "choice " + std::to_string(value) + " is invalid; choices must be " +
                          accepted);
      }
      if (!seen.insert(value).second) {
        fail_key(key, "lists the choice " + std::to_string(value) + " twice");
      }
    }
  }

 private:
  std::string prefix(const std::string& key, int stage) const {
    if (!origin_) return "";
    const std::string where = origin_(key, stage);
    return where.empty() ? "" : where + ": ";
  }

  const OriginLookup& origin_;
};

void check_stage(const Checker& checker, int index, const StageSpec& stage) {
  if (stage.channels < 1) {
    checker.fail_stage(index, "channels", "must be at least 1, got " +
                                              std::to_string(stage.channels));
  }
  if (stage.repeats < 1) {
    checker.fail_stage(index, "repeats",
                       "must be at least 1, got " + std::to_string(stage.repeats) +
                           "; a stage needs at least one block (remove the stage instead)");
  }
  if (stage.stride != 1 && stage.stride != 2) {
    checker.fail_stage(index, "stride", "must be 1 or 2, got " + std::to_string(stage.stride));
  }
}

void check_choice_lists(const Checker& checker, const SpaceOptions& options) {
  checker.check_choices(
      "skip_choices", options.skip_choices, [](int v) { return v == 0 || v == 1; },
      "0 (keep) or 1 (skip)");
  checker.check_choices(
      "expansion_choices", options.expansion_choices,
      [](int v) { return v >= 1 && v <= kMaxExpansion; },
      "expansion ratios in 1.." + std::to_string(kMaxExpansion));
  checker.check_choices(
      "kernel_choices", options.kernel_choices,
      [](int v) { return v >= 1 && v <= kMaxKernel && v % 2 == 1; },
      "odd kernel sizes in 1.." + std::to_string(kMaxKernel));
  const auto bits_ok = [](int v) { return v >= kMinBits && v <= kMaxBits; };
  const std::string bits_range =
      "bit-widths in " + std::to_string(kMinBits) + ".." + std::to_string(kMaxBits);
  checker.check_choices("bottleneck_bits", options.bottleneck_bits, bits_ok, bits_range);
  checker.check_choices("depthwise_bits", options.depthwise_bits, bits_ok, bits_range);
}

}  // namespace

void validate_space_options(const SpaceOptions& options, const OriginLookup& origin) {
  const Checker checker(origin);
  checker.require_positive("input_size", options.input_size);
  checker.require_positive("input_channels", options.input_channels);
  checker.require_positive("num_classes", options.num_classes);
  checker.require_positive("stem_channels", options.stem_channels);
  checker.check_stride("stem_stride", options.stem_stride);
  checker.require_positive("head_channels", options.head_channels);

  if (options.stages.empty()) {
    checker.fail_key("stages", "the space needs at least one stage of MB blocks");
  }
  for (std::size_t i = 0; i < options.stages.size(); ++i) {
    check_stage(checker, static_cast<int>(i), options.stages[i]);
  }

  check_choice_lists(checker, options);
}

}  // namespace nasq::space
