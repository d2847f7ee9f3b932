#pragma once
// Crash-safe persistence of the model (--state FILE): every write goes to a temporary file in
// the same folder, is fsync'd, renamed over the old one, and the folder is fsync'd, so a
// `kill -9` at any moment leaves either the old or the new file, never a mix.

#include <optional>
#include <string>

namespace fortisim::core {

/// Writes `text` to `path` atomically. Returns an error text, or nothing on success.
std::optional<std::string> write_file_atomically(const std::string& path, std::string_view text);
/// Reads a whole file; nothing if it does not exist or cannot be read.
std::optional<std::string> read_whole_file(const std::string& path);

}  // namespace fortisim::core
