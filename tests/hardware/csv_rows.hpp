// Minimal CSV reader for test reference data: a header row, then rows of named fields.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace nasq::test {

// One data row, with fields looked up by column name.
class CsvRow {
 public:
  CsvRow(const std::map<std::string, std::size_t>* columns, std::vector<std::string> fields)
      : columns_(columns), fields_(std::move(fields)) {}

  // Returns the field of `column`. Throws std::out_of_range if the header or the row lacks that column.
  const std::string& text(const std::string& column) const {
    const auto found = columns_->find(column);
    if (found == columns_->end()) throw std::out_of_range("CSV column not found: " + column);
    if (found->second >= fields_.size()) throw std::out_of_range("CSV row too short for column: " + column);
    return fields_[found->second];
  }

  std::int64_t integer(const std::string& column) const { return std::stoll(text(column)); }
  double real(const std::string& column) const { return std::stod(text(column)); }

 private:
  const std::map<std::string, std::size_t>* columns_;
  std::vector<std::string> fields_;
};

// Splits one CSV line into fields. Fields may be quoted with '"', and a doubled
// quote inside a quoted field is one literal quote. Line breaks inside quoted
// fields are not supported.
inline std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        fields.back() += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      fields.emplace_back();
    } else if (ch != '\r') {
      fields.back() += ch;
    }
  }
  return fields;
}

// All rows of a CSV file with a header line. The table owns the column index
// that its rows refer to, so rows must not outlive it.
class CsvTable {
 public:
  explicit CsvTable(const std::string& path) {
    std::ifstream file(path);
    if (!file) throw std::runtime_error("failed to open CSV file " + path);
    std::string line;
    if (!std::getline(file, line)) throw std::runtime_error("missing header row in CSV file " + path);
    const std::vector<std::string> header = split_csv_line(line);
    for (std::size_t i = 0; i < header.size(); ++i) columns_[header[i]] = i;
    while (std::getline(file, line)) {
      if (line.empty() || line == "\r") continue;
      rows_.emplace_back(&columns_, split_csv_line(line));
    }
  }

  CsvTable(const CsvTable&) = delete;
  CsvTable& operator=(const CsvTable&) = delete;

  const std::vector<CsvRow>& rows() const { return rows_; }

 private:
  std::map<std::string, std::size_t> columns_;
  std::vector<CsvRow> rows_;
};

}  // namespace nasq::test
