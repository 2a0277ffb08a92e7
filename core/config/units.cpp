// Unit table and quantity parsing.
#include "core/config/units.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

#include "nasq/sdk/error.hpp"

namespace nasq {
namespace {

struct NamedUnit {
  std::string_view name;
  UnitInfo info;
};

constexpr std::array kUnits = {
    NamedUnit{"J", {Dimension::energy, 1.0}},
    NamedUnit{"mJ", {Dimension::energy, 1e-3}},
    NamedUnit{"uJ", {Dimension::energy, 1e-6}},
    NamedUnit{"nJ", {Dimension::energy, 1e-9}},
    NamedUnit{"pJ", {Dimension::energy, 1e-12}},
    NamedUnit{"s", {Dimension::time, 1.0}},
    NamedUnit{"ms", {Dimension::time, 1e-3}},
    NamedUnit{"us", {Dimension::time, 1e-6}},
    NamedUnit{"ns", {Dimension::time, 1e-9}},
    NamedUnit{"bit", {Dimension::data_size, 0.125}},
    NamedUnit{"B", {Dimension::data_size, 1.0}},
    NamedUnit{"kB", {Dimension::data_size, 1e3}},
    NamedUnit{"KiB", {Dimension::data_size, 1024.0}},
    NamedUnit{"MB", {Dimension::data_size, 1e6}},
    NamedUnit{"MiB", {Dimension::data_size, 1024.0 * 1024.0}},
    NamedUnit{"GB", {Dimension::data_size, 1e9}},
    NamedUnit{"count", {Dimension::count, 1.0}},
    NamedUnit{"k", {Dimension::count, 1e3}},
    NamedUnit{"M", {Dimension::count, 1e6}},
    NamedUnit{"G", {Dimension::count, 1e9}},
    NamedUnit{"T", {Dimension::count, 1e12}},
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string units_of(Dimension dimension) {
  std::string names;
  for (const auto& unit : kUnits) {
    if (unit.info.dimension != dimension) continue;
    if (!names.empty()) names += ", ";
    names += unit.name;
  }
  return names;
}

std::optional<UnitInfo> find_unit(std::string_view unit) {
  for (const auto& candidate : kUnits) {
    if (candidate.name == unit) return candidate.info;
  }
  return std::nullopt;
}

double parse_quantity(std::string_view text, std::string_view target_unit) {
  const auto target = find_unit(target_unit);
  if (!target) {
    throw sdk::Error("internal error: unknown target unit '" + std::string(target_unit) + "'");
  }
  const std::string expected = "expected a number and a unit such as \"1.5 " +
                               std::string(target_unit) + "\" (units: " +
                               units_of(target->dimension) + ")";
  const std::string_view trimmed = trim(text);
  double value = 0.0;
  const auto [end, error] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), value);
  if (error != std::errc() || end == trimmed.data()) {
    throw sdk::Error("invalid quantity \"" + std::string(text) + "\": " + expected);
  }
  const std::string_view unit_text = trim(std::string_view(end, trimmed.data() + trimmed.size() - end));
  if (unit_text.empty()) {
    throw sdk::Error("quantity \"" + std::string(text) + "\" has no unit: " + expected);
  }
  const auto unit = find_unit(unit_text);
  if (!unit || unit->dimension != target->dimension) {
    throw sdk::Error("invalid unit '" + std::string(unit_text) + "' in \"" + std::string(text) +
                     "\": " + expected);
  }
  if (!std::isfinite(value) || value < 0.0) {
    throw sdk::Error("invalid quantity \"" + std::string(text) +
                     "\": the value must be finite and non-negative");
  }
  return value * unit->scale / target->scale;
}

}  // namespace nasq
