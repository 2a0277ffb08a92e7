// Number formats of report tables.
#include "core/report/formatting.hpp"

#include <cmath>
#include <cstdio>

namespace nasq::report {

const char* const kMissing = "\xE2\x80\x94";  // em dash

namespace {

std::string printf_double(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

}  // namespace

std::string format_percent(std::optional<double> fraction) {
  if (!fraction || !std::isfinite(*fraction)) return kMissing;
  return printf_double("%.2f", *fraction * 100.0);
}

std::string format_number(std::optional<double> value) {
  if (!value || !std::isfinite(*value)) return kMissing;
  return printf_double("%.4g", *value);
}

std::string format_count(std::optional<std::int64_t> value) {
  if (!value) return kMissing;
  const std::uint64_t magnitude =
      *value < 0 ? 0 - static_cast<std::uint64_t>(*value) : static_cast<std::uint64_t>(*value);
  const std::string digits = std::to_string(magnitude);
  std::string grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return (*value < 0 ? "-" : "") + grouped;
}

SizeUnit size_unit(const std::vector<std::optional<double>>& sizes) {
  for (const auto& size : sizes) {
    if (size && std::isfinite(*size) && *size >= 1e6) return {"MB", 1e6};
  }
  return {"kB", 1e3};
}

std::string format_size(std::optional<double> bytes, const SizeUnit& unit) {
  if (!bytes || !std::isfinite(*bytes)) return kMissing;
  return printf_double("%.3g", *bytes / unit.bytes);
}

std::optional<MeanStd> mean_std(const std::vector<std::optional<double>>& values) {
  MeanStd statistics;
  double sum = 0.0;
  for (const auto& value : values) {
    if (!value || !std::isfinite(*value)) continue;
    sum += *value;
    ++statistics.count;
  }
  if (statistics.count == 0) return std::nullopt;
  statistics.mean = sum / static_cast<double>(statistics.count);
  if (statistics.count == 1) return statistics;
  double squares = 0.0;
  for (const auto& value : values) {
    if (!value || !std::isfinite(*value)) continue;
    squares += (*value - statistics.mean) * (*value - statistics.mean);
  }
  statistics.std = std::sqrt(squares / static_cast<double>(statistics.count - 1));
  return statistics;
}

std::string format_mean_std(const std::optional<MeanStd>& statistics, double scale) {
  if (!statistics) return kMissing;
  const double mean = statistics->mean * scale;
  const double std = statistics->std * scale;
  if (statistics->count == 1) return printf_double("%.4g", mean);
  const std::string plus_minus = " \xC2\xB1 ";
  if (!(std > 0.0)) return printf_double("%.4g", mean) + plus_minus + "0";
  // Two significant digits of the deviation set where both numbers are rounded.
  const int decimals = 1 - static_cast<int>(std::floor(std::log10(std)));
  if (decimals >= 0) {
    char text[96];
    std::snprintf(text, sizeof text, "%.*f%s%.*f", decimals, mean, plus_minus.c_str(), decimals,
                  std);
    return text;
  }
  const double step = std::pow(10.0, -decimals);
  return printf_double("%.0f", std::round(mean / step) * step) + plus_minus +
         printf_double("%.0f", std::round(std / step) * step);
}

}  // namespace nasq::report
