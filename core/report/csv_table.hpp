// Numeric CSV tables with a header row, such as a run's metrics.csv.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace nasq::report {

// A table of numbers. An empty cell, "nan" or "-nan" is a missing value and
// is stored as NaN. "inf" and "-inf" are infinite.
struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;  // each row has one value per column

  bool has_column(std::string_view name) const;
  // Returns the values of column `name`, one per row. Throws std::logic_error
  // for a column the table lacks, which is a bug in the caller.
  std::vector<double> column(std::string_view name) const;
  // Returns true when column `name` exists and has a finite value.
  bool has_values(std::string_view name) const;
};

// Parses comma-separated text whose first line is the header. Cells are not
// quoted, surrounding spaces and a trailing carriage return are ignored, and
// empty lines at the end are skipped. Throws sdk::Error that starts with
// `source` and names the line and the column. It is thrown for an empty or
// duplicate column name, a row with another cell count than the header, or a
// cell that is not a number.
CsvTable parse_csv_table(std::string_view text, const std::string& source);

// Reads and parses `file`. Throws sdk::Error naming the file when it cannot
// be read or parsed.
CsvTable load_csv_table(const std::filesystem::path& file);

}  // namespace nasq::report
