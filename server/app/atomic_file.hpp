#pragma once
// Files written whole or not at all (--ready-file): the text goes to a temporary file in the same
// folder, is fsync'd, renamed over the old one, and the folder is fsync'd, so a reader (a harness
// polling for the file) never sees half a line, and a `kill -9` leaves the old file or the new.
// (The model's --state is SQLite: server/core/model/store.hpp.)

#include <optional>
#include <string>

namespace fortisim::app {

/// Writes `text` to `path` atomically. Returns an error text, or nothing on success.
std::optional<std::string> write_file_atomically(const std::string& path, std::string_view text);

}  // namespace fortisim::app
