// Number formats of report tables. A missing value prints as an em dash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nasq::report {

// The text of a missing value: an em dash.
extern const char* const kMissing;

// A fraction as a percentage with two decimals, without the unit: 0.0785 -> "7.85".
std::string format_percent(std::optional<double> fraction);
// Four significant digits: 0.12345 -> "0.1235".
std::string format_number(std::optional<double> value);
// An integer with thousands separators: 1234567 -> "1,234,567".
std::string format_count(std::optional<std::int64_t> value);

// A unit for a column of byte counts: kB below 1 MB, else MB (powers of ten).
struct SizeUnit {
  const char* name;
  double bytes;
};
SizeUnit size_unit(const std::vector<std::optional<double>>& sizes);
// A byte count in `unit` with three significant digits: 48200 B in kB -> "48.2".
std::string format_size(std::optional<double> bytes, const SizeUnit& unit);

// Mean and sample standard deviation (divisor n - 1) of the values present.
struct MeanStd {
  double mean = 0.0;
  double std = 0.0;  // 0 for a single value
  std::size_t count = 0;
};
std::optional<MeanStd> mean_std(const std::vector<std::optional<double>>& values);

// "mean ± std" after scaling by `scale`: the deviation with two significant
// digits and the mean with as many decimals ("8.00 ± 0.14"). Returns the mean
// alone (four significant digits) for a single value, "mean ± 0" for equal
// values and kMissing for none.
std::string format_mean_std(const std::optional<MeanStd>& statistics, double scale = 1.0);

}  // namespace nasq::report
