#pragma once
// A reply's status line and header fields, written into a buffer the connection reuses: the same
// bytes Beast's serializer writes for such a response (a test compares them), without a field
// list and a serializer per request. Used for every reply the engine makes; the rarer replies
// (a refused request, the control API) still go through Beast.

#include <cstddef>
#include <string>
#include <string_view>

namespace fortisim::net {

/// Now as an HTTP date, "Fri, 04 Dec 2026 23:41:07 GMT" (IMF-fixdate, real time: the virtual clock
/// moves licences, not the server's clock), formatted once a second per thread.
std::string_view http_date();

/// What a reply's head says.
struct reply_head {
  int status = 200;
  std::string_view content_type;
  std::string_view allow;  ///< an Allow field when not empty (405)
  std::size_t body_size = 0;
  unsigned version = 11;  ///< the request's HTTP version as Beast reads it: 10 * major + minor
  bool keep_alive = true;
  std::string_view date = http_date();  ///< the Date field's value (RFC 9110 §6.6.1)
  std::string_view headers = {};        ///< more header lines, "Name: value\r\n" each (the scenario's)
};

/// Replaces `out` with the head (no Content-Type or Content-Length where core::has_body says no body):
/// "HTTP/1.1 200 OK\r\nContent-Type: …\r\n[Allow: …\r\n][the scenario's headers][Connection:
/// close|keep-alive\r\n]Date: …\r\nContent-Length: N\r\n\r\n". The status line says HTTP/1.1 whatever the request's
/// version, as IIS does (RFC 9110 §6.2: a server sends its own highest minor version); a connection about to close says
/// so, and an HTTP/1.0 client's is kept only when it asked, and then said so.
void write_head(const reply_head& h, std::string& out);

}  // namespace fortisim::net
