// Atomic file replacement: write a temporary file, fsync it, rename it over
// the target and fsync the directory, so a crash leaves the old or the new
// file, never a partial one.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace nasq {

// Calls `write(temporary_path)` to produce the file, then replaces `target`.
// Throws sdk::Error naming the file when any step fails; the target is then
// unchanged.
void replace_file_atomically(const std::filesystem::path& target,
                             const std::function<void(const std::filesystem::path&)>& write);

// Replaces `target` with `bytes` through replace_file_atomically().
void write_file_atomically(const std::filesystem::path& target, std::string_view bytes);

void write_text_atomically(const std::filesystem::path& target, const std::string& text);

}  // namespace nasq
