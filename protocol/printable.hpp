#pragma once
// Text that came from outside (a request, a file, a server) as a terminal or a log line may show it.

#include <cstddef>
#include <string>
#include <string_view>

namespace fortisim::protocol {

/// `text` with control bytes (an escape sequence, a bell, a line break that would start a line of
/// its own) written as \xNN, and at most `max_bytes` of it: a longer text is cut on a character
/// boundary and marked with "…".
std::string printable(std::string_view text, std::size_t max_bytes = std::string_view::npos);

}  // namespace fortisim::protocol
