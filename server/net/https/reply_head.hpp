#pragma once
// A reply's status line and header fields, written into a buffer the connection reuses: the same
// bytes Beast's serializer writes for such a response (a test compares them), without a field
// list and a serializer per request. Used for every reply the engine makes; the rarer replies
// (a refused request, the control API) still go through Beast.

#include <cstddef>
#include <string>
#include <string_view>

namespace fortisim::net {

/// What a reply's head says.
struct reply_head {
  int status = 200;
  std::string_view content_type;
  std::string_view allow;  ///< an Allow field when not empty (405)
  std::size_t body_size = 0;
  unsigned version = 11;  ///< the request's HTTP version as Beast reads it: 10 * major + minor
  bool keep_alive = true;
};

/// Replaces `out` with the head (no Content-Length where core::has_body says no body): "HTTP/1.1 200
/// OK\r\nContent-Type: …\r\n[Allow: …\r\n] [Connection: close|keep-alive\r\n]Content-Length: N\r\n\r\n".
void write_head(const reply_head& h, std::string& out);

}  // namespace fortisim::net
