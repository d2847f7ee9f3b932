#pragma once
// Where a request starts and where its body ends, as both listeners read them (RFC 9112): empty
// lines before a request line are dropped (§2.2), and a Transfer-Encoding fortisim cannot end or
// decode is refused before its body is read (§6.1, §6.3), so a body never becomes a request of
// its own; chunk extensions are bounded as header fields are.

#include "server/net/io/asio.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace fortisim::net {

/// Whether `buffer` holds nothing, or a lone CR that may yet be the start of an empty line.
inline bool waits_for_more(const boost::beast::flat_buffer& buffer) {
  return buffer.size() == 0 || (buffer.size() == 1 && *static_cast<const char*>(buffer.data().data()) == '\r');
}

/// Drops the empty lines (CRLF, or a bare LF) a client sends before a request line, up to `limit`
/// bytes of them; a bare CR, or more than that, is left to the parser, which refuses it.
template <class Stream>
task<boost::system::error_code> skip_empty_lines(Stream& stream, boost::beast::flat_buffer& buffer, std::size_t limit) {
  for (std::size_t dropped = 0; dropped < limit;) {
    if (waits_for_more(buffer)) {
      auto room = boost::beast::read_size(buffer, 65536);
      if (room == 0) break;
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(room), use_nothrow);
      if (ec) co_return ec;
      buffer.commit(n);
      continue;
    }
    auto bytes = static_cast<const char*>(buffer.data().data());
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
    if (!waits_for_more(buffer)) break;  // the request's first byte
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

/// A 501's reason, on both listeners: the codings a request named that fortisim does not decode.
template <class Parser>
std::string unimplemented_codings(const Parser& parser) {
  return "the transfer coding " + transfer_codings(parser) + " (fortisim decodes chunked alone)";
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

/// A request's chunk extensions, counted together against a bound. Beast reads and drops each one
/// (within its read buffer), but a body of many chunks could carry them without limit: the control
/// API read 40 chunks of a 1,000-byte extension each, and more.
class chunk_extension_bound {
 public:
  explicit chunk_extension_bound(std::size_t limit) : limit_(limit) {}
  /// Counts `parser`'s request from zero; past the bound it fails as a header past its limit does.
  template <class Parser>
  void watch(Parser& parser) {
    seen_ = 0;
    parser.on_chunk_header(*this);
  }
  void operator()(std::uint64_t, boost::beast::string_view extensions, boost::system::error_code& ec) {
    seen_ += extensions.size();
    if (seen_ > limit_) ec = boost::beast::http::error::header_limit;
  }

 private:
  std::size_t limit_;
  std::size_t seen_ = 0;
};

}  // namespace fortisim::net
