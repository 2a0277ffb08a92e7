// Small text helpers: edit distance for "did you mean" suggestions, joining.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nasq {

// Levenshtein distance between two strings (insert, delete, substitute).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, or "" when none is within a third of the
// longer length (at least 2 edits).
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

std::string join(const std::vector<std::string>& parts, std::string_view separator);

}  // namespace nasq
