#include "server/net/https/reply_head.hpp"

#include "server/core/engine/engine.hpp"

#include <boost/beast/http/status.hpp>

#include <charconv>

namespace fortisim::net {

void write_head(const reply_head& h, std::string& out) {
  out.assign("HTTP/");
  out += static_cast<char>('0' + h.version / 10 % 10);
  out += '.';
  out += static_cast<char>('0' + h.version % 10);
  char digits[24];
  auto put_number = [&](std::size_t n) {
    auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out.append(digits, end);
  };
  out += ' ';
  put_number(static_cast<std::size_t>(h.status));
  out += ' ';
  out += boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(h.status));
  out.append("\r\nContent-Type: ").append(h.content_type).append("\r\n");
  if (!h.allow.empty()) out.append("Allow: ").append(h.allow).append("\r\n");
  // HTTP/1.1 keeps the connection unless told; HTTP/1.0 (and older) closes it unless told.
  if (h.version < 11 && h.keep_alive) out.append("Connection: keep-alive\r\n");
  if (h.version >= 11 && !h.keep_alive) out.append("Connection: close\r\n");
  if (core::has_body(h.status)) {
    out.append("Content-Length: ");
    put_number(h.body_size);
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace fortisim::net
