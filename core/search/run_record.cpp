// metrics.csv writing and per-epoch log truncation.
#include "core/search/run_record.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/config/stack.hpp"
#include "core/util/atomic_file.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::search {

namespace {
std::vector<std::string> split_commas(const std::string& line);
}  // namespace

MetricsFile::MetricsFile(std::filesystem::path file) : file_(std::move(file)) {}

void truncate_lines(const std::filesystem::path& file, std::size_t lines) {
  std::ifstream stream(file);
  std::string text;
  std::string line;
  for (std::size_t i = 0; i < lines && std::getline(stream, line); ++i) text += line + "\n";
  write_text_atomically(file, text);
}

void MetricsFile::truncate_to(std::size_t rows) {
  columns_.clear();
  if (rows == 0 || !std::filesystem::exists(file_)) {
    write_text_atomically(file_, "");
    return;
  }
  std::ifstream stream(file_);
  std::string header;
  std::getline(stream, header);
  columns_ = split_commas(header);
  stream.close();
  truncate_lines(file_, rows + 1);
}

namespace {

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream stream(line);
  std::string field;
  while (std::getline(stream, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

}  // namespace

void MetricsFile::add_columns(const std::vector<std::string>& added) {
  std::vector<std::string> lines;
  if (std::filesystem::exists(file_)) {
    std::ifstream stream(file_);
    std::string line;
    while (std::getline(stream, line)) lines.push_back(line);
  }
  columns_.insert(columns_.end(), added.begin(), added.end());
  if (lines.empty()) return;
  std::string text;
  for (std::size_t i = 0; i < columns_.size(); ++i) text += (i ? "," : "") + columns_[i];
  text += "\n";
  for (std::size_t row = 1; row < lines.size(); ++row) {
    text += lines[row] + std::string(added.size(), ',') + "\n";
  }
  write_text_atomically(file_, text);
}

void MetricsFile::append(const std::vector<std::pair<std::string, double>>& row) {
  std::vector<std::string> added;
  for (const auto& [column, value] : row) {
    if (std::find(columns_.begin(), columns_.end(), column) == columns_.end()) {
      added.push_back(column);
    }
  }
  const bool new_file = columns_.empty() || !std::filesystem::exists(file_) ||
                        std::filesystem::file_size(file_) == 0;
  if (!added.empty()) add_columns(added);

  std::vector<std::string> cells(columns_.size());
  for (const auto& [column, value] : row) {
    const auto index = static_cast<std::size_t>(
        std::find(columns_.begin(), columns_.end(), column) - columns_.begin());
    char text[64];
    std::snprintf(text, sizeof text, "%.10g", value);
    cells[index] = text;
  }
  std::ofstream stream(file_, std::ios::app);
  if (new_file) {
    for (std::size_t i = 0; i < columns_.size(); ++i) stream << (i ? "," : "") << columns_[i];
    stream << "\n";
  }
  for (std::size_t i = 0; i < cells.size(); ++i) stream << (i ? "," : "") << cells[i];
  stream << "\n";
  stream.flush();
  if (!stream) throw sdk::Error("failed to append to " + file_.string());
}

std::filesystem::path new_run_directory(const Stack& stack) {
  const std::filesystem::path output(stack.get_string("run.output_dir"));
  const std::filesystem::path base =
      (output.is_absolute() ? output : stack.base_directory() / output).lexically_normal();
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::gmtime(&now));
  std::filesystem::path directory = base / (stack.get_string("run.name") + "-" + stamp);
  for (int suffix = 2; std::filesystem::exists(directory); ++suffix) {
    directory = base / (stack.get_string("run.name") + "-" + stamp + "-" + std::to_string(suffix));
  }
  return directory;
}

}  // namespace nasq::search
