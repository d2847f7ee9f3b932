#pragma once
// Where a request starts and where its body ends, as both listeners read them (RFC 9112): empty
// lines before a request line are dropped (§2.2), and a Transfer-Encoding fortisim cannot end or
// decode is refused before its body is read (§6.1, §6.3), so a body never becomes a request of
// its own.

#include "server/net/io/asio.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include <string>

namespace fortisim::net {

/// Drops the empty lines (CRLF, or a bare LF) a client sends before a request line, up to `limit`
/// bytes of them; a bare CR, or more than that, is left to the parser, which refuses it.
template <class Stream>
task<boost::system::error_code> skip_empty_lines(Stream& stream, boost::beast::flat_buffer& buffer, std::size_t limit) {
  for (std::size_t dropped = 0; dropped < limit;) {
    auto bytes = static_cast<const char*>(buffer.data().data());
    if (buffer.size() == 0 || (buffer.size() == 1 && bytes[0] == '\r')) {  // a CR waits for its LF
      auto room = boost::beast::read_size(buffer, 65536);
      if (room == 0) break;
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(room), use_nothrow);
      if (ec) co_return ec;
      buffer.commit(n);
      continue;
    }
    std::size_t n = 0;
    while (n < buffer.size()) {
      if (bytes[n] == '\n')
        n += 1;
      else if (bytes[n] == '\r' && n + 1 < buffer.size() && bytes[n + 1] == '\n')
        n += 2;
      else
        break;
    }
    buffer.consume(n);
    dropped += n;
    if (buffer.size() > 0 && !(buffer.size() == 1 && static_cast<const char*>(buffer.data().data())[0] == '\r'))
      break;  // the request's first byte
  }
  co_return boost::system::error_code{};
}

/// Every Transfer-Encoding line of a request, as one list ("gzip, chunked").
template <class Parser>
std::string transfer_codings(const Parser& parser) {
  std::string all;
  auto [first, last] = parser.get().equal_range(boost::beast::http::field::transfer_encoding);
  for (auto field = first; field != last; ++field) all.append(all.empty() ? "" : ", ").append(field->value());
  return all;
}

/// Why a request whose header was read cannot be framed: a Transfer-Encoding whose last coding is
/// not chunked (bad_transfer_encoding: 400, the body's end cannot be known), or one that names a
/// coding before chunked (not_supported: 501, fortisim decodes none); nothing when it can.
template <class Parser>
boost::system::error_code framing_error(const Parser& parser) {
  namespace http = boost::beast::http;
  if (parser.get().count(http::field::transfer_encoding) == 0) return {};
  if (!parser.chunked()) return http::error::bad_transfer_encoding;
  auto codings = transfer_codings(parser);  // kept: token_list holds a view of it
  for (auto coding : http::token_list(codings))
    if (!boost::beast::iequals(coding, "chunked")) return make_error_code(boost::system::errc::not_supported);
  return {};
}

}  // namespace fortisim::net
