#pragma once
// The console's files (console/ in the repository), embedded in the binary at build time by
// cmake/embed_console.cmake, so fortisim serves its console with nothing installed beside it.

#include <span>
#include <string_view>

namespace fortisim::net {

/// One embedded file: its path under the control listener ("/" for index.html), its media type
/// and its bytes.
struct console_asset {
  std::string_view path;
  std::string_view content_type;
  std::string_view body;
};

std::span<const console_asset> console_assets();

}  // namespace fortisim::net
