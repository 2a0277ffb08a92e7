// Entry point of the reports: reads run directories and writes report.html.
#pragma once

#include <filesystem>
#include <vector>

namespace nasq::report {

// Reads the run directories and writes `output_directory`/report.html,
// creating the directory when missing and replacing an existing file
// atomically. One run gets the one-run report, several runs the comparison.
// Returns the path of the file. Throws sdk::Error for a missing or malformed
// run directory (see load_run_directory) or a file that cannot be written.
// Throws std::logic_error for an empty list, which is a bug in the caller.
std::filesystem::path write_report(const std::vector<std::filesystem::path>& run_directories,
                                   const std::filesystem::path& output_directory);

}  // namespace nasq::report
