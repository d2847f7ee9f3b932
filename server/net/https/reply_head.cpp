#include "server/net/https/reply_head.hpp"

#include "server/core/engine/engine.hpp"

#include <boost/beast/http/status.hpp>

#include <charconv>
#include <ctime>

namespace fortisim::net {

std::string_view http_date() {
  thread_local std::time_t last = 0;
  thread_local char text[40];
  thread_local std::size_t n = 0;
  if (std::time_t now = std::time(nullptr); now != last) {
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);  // the "C" locale's names
    last = now;
  }
  return {text, n};
}

void write_head(const reply_head& h, std::string& out) {
  out.assign("HTTP/1.1");
  char digits[24];
  auto put_number = [&](std::size_t n) {
    auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out.append(digits, end);
  };
  out += ' ';
  put_number(static_cast<std::size_t>(h.status));
  out += ' ';
  out += boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(h.status));
  out.append("\r\n");
  if (core::has_body(h.status)) out.append("Content-Type: ").append(h.content_type).append("\r\n");
  if (!h.allow.empty()) out.append("Allow: ").append(h.allow).append("\r\n");
  out.append(h.headers);
  // HTTP/1.1 keeps the connection unless told; HTTP/1.0 (and older) closes it unless told.
  if (!h.keep_alive)
    out.append("Connection: close\r\n");
  else if (h.version < 11)
    out.append("Connection: keep-alive\r\n");
  if (!h.date.empty()) out.append("Date: ").append(h.date).append("\r\n");
  if (core::has_body(h.status)) {
    out.append("Content-Length: ");
    put_number(h.body_size);
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace fortisim::net
