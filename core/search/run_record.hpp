// Files of a run directory that grow during a run: metrics.csv (one row per
// epoch) and probabilities.jsonl (one JSON object per epoch).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace nasq {
class Stack;
}

namespace nasq::search {

// metrics.csv: one row per epoch. A row with a column the header lacks
// (strategy columns start after the warm-up epochs) rewrites the file with
// the column added and earlier rows left empty there. Each row is flushed as
// it is written.
class MetricsFile {
 public:
  explicit MetricsFile(std::filesystem::path file);
  // Keeps the first `rows` rows of an existing file (a resumed run) and
  // drops any later ones; starts a new file when `rows` is 0.
  void truncate_to(std::size_t rows);
  void append(const std::vector<std::pair<std::string, double>>& row);

 private:
  void add_columns(const std::vector<std::string>& added);
  std::filesystem::path file_;
  std::vector<std::string> columns_;
};

// Keeps the first `lines` lines of a text file (used to cut per-epoch logs
// back to the last checkpoint when a run resumes).
void truncate_lines(const std::filesystem::path& file, std::size_t lines);

// Directory for a new run: [run] output_dir/<name>-<UTC timestamp>.
std::filesystem::path new_run_directory(const Stack& stack);

}  // namespace nasq::search
