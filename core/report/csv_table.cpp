// Parsing of numeric CSV tables.
#include "core/report/csv_table.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "nasq/sdk/error.hpp"

namespace nasq::report {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

std::vector<std::string_view> split_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    cells.push_back(
        trim(line.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) return cells;
    start = comma + 1;
  }
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  while (!lines.empty() && trim(lines.back()).empty()) lines.pop_back();
  return lines;
}

// Parses one cell. Returns false when it is not a number.
bool parse_cell(std::string_view cell, double& value) {
  if (cell.empty() || cell == "nan" || cell == "-nan" || cell == "NaN") {
    value = std::nan("");
    return true;
  }
  if (cell == "inf" || cell == "-inf") {
    value = cell[0] == '-' ? -INFINITY : INFINITY;
    return true;
  }
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  return error == std::errc() && end == cell.data() + cell.size();
}

std::vector<std::string> parse_header(std::string_view line, const std::string& source) {
  std::vector<std::string> columns;
  for (const std::string_view cell : split_cells(line)) {
    const std::string name(cell);
    if (name.empty()) {
      throw sdk::Error(source + " line 1: column " + std::to_string(columns.size() + 1) +
                       " of the header has an empty name");
    }
    if (std::find(columns.begin(), columns.end(), name) != columns.end()) {
      throw sdk::Error(source + " line 1: column '" + name + "' appears twice in the header");
    }
    columns.push_back(name);
  }
  return columns;
}

}  // namespace

bool CsvTable::has_column(std::string_view name) const {
  return std::find(columns.begin(), columns.end(), name) != columns.end();
}

std::vector<double> CsvTable::column(std::string_view name) const {
  const auto found = std::find(columns.begin(), columns.end(), name);
  if (found == columns.end()) {
    throw std::logic_error("CsvTable::column: no column '" + std::string(name) +
                           "'. This is a bug in the caller, which must check has_column()");
  }
  const auto index = static_cast<std::size_t>(found - columns.begin());
  std::vector<double> values;
  values.reserve(rows.size());
  for (const auto& row : rows) values.push_back(row[index]);
  return values;
}

bool CsvTable::has_values(std::string_view name) const {
  if (!has_column(name)) return false;
  const std::vector<double> values = column(name);
  return std::any_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

CsvTable parse_csv_table(std::string_view text, const std::string& source) {
  const std::vector<std::string_view> lines = split_lines(text);
  if (lines.empty())
    throw sdk::Error(source + ": the file is empty, but it must start with a header line");

  CsvTable table;
  table.columns = parse_header(lines[0], source);
  for (std::size_t line = 1; line < lines.size(); ++line) {
    const std::string where = source + " line " + std::to_string(line + 1);
    const std::vector<std::string_view> cells = split_cells(lines[line]);
    if (cells.size() != table.columns.size()) {
      throw sdk::Error(where + ": " + std::to_string(cells.size()) + " cells, but the header has " +
                       std::to_string(table.columns.size()) + " columns");
    }
    std::vector<double> row(cells.size());
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (!parse_cell(cells[i], row[i])) {
        throw sdk::Error(where + ", column '" + table.columns[i] + "': '" + std::string(cells[i]) +
                         "' is not a number");
      }
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

CsvTable load_csv_table(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) throw sdk::Error("failed to open " + file.string());
  std::ostringstream text;
  text << stream.rdbuf();
  if (stream.bad()) throw sdk::Error("failed to read " + file.string());
  return parse_csv_table(text.str(), file.string());
}

}  // namespace nasq::report
