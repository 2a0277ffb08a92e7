// Quantities with units in config values, such as "1.5 mJ" or "25 ms".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nasq {

// Physical dimension of a unit.
enum class Dimension { energy, time, data_size, count };

struct UnitInfo {
  Dimension dimension;
  double scale;  // value of one unit in the dimension's base (J, s, bytes, 1)
};

// Unit names accepted for `dimension`, for messages ("J, mJ, uJ, nJ, pJ").
std::string units_of(Dimension dimension);
std::optional<UnitInfo> find_unit(std::string_view unit);

// Parses "<number> <unit>" and converts it to `target_unit` (a unit of the
// same dimension). Throws nasq::sdk::Error with a message naming the text,
// the expected form and the accepted units.
double parse_quantity(std::string_view text, std::string_view target_unit);

}  // namespace nasq
