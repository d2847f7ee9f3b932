#pragma once
// A JSON writer that appends straight into a string: the reply path builds no tree (it is the
// per-request path measured against nginx). Strings are escaped as RFC 8259 requires (in
// replies, ', <, > and & too, as ASP.NET's JSON serializer writes them); bytes >= 0x80 pass
// through. Keys are written in call order, which is how replies keep the captured field order.

#include "protocol/errors.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace fortisim::protocol {

/// How strings are escaped: as RFC 8259 asks, or as ASP.NET writes them, ', <, > and & as \u0027,
/// \u003c, \u003e and \u0026 besides [assumed for the service's replies: the captures hold none of
/// the four, and keep '/' as it is, which ASP.NET does too].
enum class escaping { json, asp_net };

/// Writes one JSON document into `out`: open(), key/value calls, close().
class json_writer {
 public:
  explicit json_writer(std::string& out, escaping e = escaping::json) : out_(out), asp_net_(e == escaping::asp_net) {}
  json_writer& open() { return put('{'); }
  json_writer& close() {
    out_ += '}';
    first_ = false;
    return *this;
  }
  json_writer& open_array(std::string_view k) {
    key(k);
    out_ += '[';
    first_ = true;
    return *this;
  }
  json_writer& close_array() {
    out_ += ']';
    first_ = false;
    return *this;
  }
  /// A key is one of the writer's own field names ("serial_number"), never client data: it is
  /// written as it is, unescaped.
  json_writer& key(std::string_view k) {
    char open[2] = {',', '"'};
    out_.append(first_ ? open + 1 : open, first_ ? 1 : 2).append(k).append("\":", 2);
    first_ = false;
    return *this;
  }
  json_writer& str(std::string_view k, std::string_view v) {
    key(k);
    quoted(v);
    return *this;
  }
  /// A string of any bytes (a request body as received): bytes that are not UTF-8 become U+FFFD,
  /// so the document stays valid JSON.
  json_writer& bytes(std::string_view k, std::string_view v) {
    key(k);
    quoted_bytes(v);
    return *this;
  }
  /// The same string alone, as a value outside any object (a quoted value in a text log line).
  void quoted_bytes(std::string_view v) {
    out_ += '"';
    escape_into(v, true);
    out_ += '"';
  }
  json_writer& num(std::string_view k, int v) { return num(k, static_cast<std::int64_t>(v)); }
  json_writer& num(std::string_view k, std::int64_t v) { return integer(k, v); }
  json_writer& num(std::string_view k, std::uint64_t v) { return integer(k, v); }
  json_writer& null(std::string_view k) {
    key(k);
    out_ += "null";
    return *this;
  }
  json_writer& str_or_null(std::string_view k, const std::optional<std::string>& v) { return v ? str(k, *v) : null(k); }
  json_writer& num_or_null(std::string_view k, const std::optional<std::int64_t>& v) {
    return v ? num(k, *v) : null(k);
  }
  json_writer& error(std::string_view k, const std::optional<error_value>& e) {
    if (!e) return null(k);
    key(k);
    first_ = true;
    open();
    num("error_code", e->code).str("error_message", e->message);
    return close();
  }
  /// Opens an object as an array element or as the value of `k`.
  json_writer& element() { return put('{'); }
  json_writer& object(std::string_view k) {
    key(k);
    out_ += '{';
    first_ = true;
    return *this;
  }

 private:
  json_writer& put(char c) {
    if (!first_) out_ += ',';
    out_ += c;
    first_ = true;
    return *this;
  }
  /// The length of the valid UTF-8 sequence `v` starts with (1 for ASCII), or 0 if it is none.
  static std::size_t utf8_length(std::string_view v) {
    auto b = [&](std::size_t i) { return static_cast<unsigned char>(v[i]); };
    auto cont = [&](std::size_t i) { return i < v.size() && (b(i) & 0xc0) == 0x80; };
    unsigned char c = b(0);
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
      if (!cont(1) || !cont(2)) return 0;
      if ((c == 0xe0 && b(1) < 0xa0) || (c == 0xed && b(1) > 0x9f)) return 0;  // overlong, surrogates
      return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
      if (!cont(1) || !cont(2) || !cont(3)) return 0;
      if ((c == 0xf0 && b(1) < 0x90) || (c == 0xf4 && b(1) > 0x8f)) return 0;
      return 4;
    }
    return 0;
  }
  template <class Int>
  json_writer& integer(std::string_view k, Int v) {
    key(k);
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
    out_.append(digits, end);
    return *this;
  }
  void quoted(std::string_view v) {
    out_ += '"';
    escape_into(v, false);
    out_ += '"';
  }
  /// Whether any of the eight bytes in `x` is a control character, '"', '\\', one ASP.NET escapes
  /// or >= 0x80 (the borrows of the subtractions only carry past a byte that is one).
  bool any_special(std::uint64_t x) const {
    constexpr std::uint64_t ones = 0x0101010101010101, highs = 0x8080808080808080;
    auto has = [&](char c) {
      std::uint64_t y = x ^ (static_cast<unsigned char>(c) * ones);
      return (y - ones) & ~y;  // the high bit of each byte of x that is c
    };
    std::uint64_t special = (x - 0x20 * ones) | x | has('"') | has('\\');
    if (asp_net_) special |= has('\'') | has('<') | has('>') | has('&');
    return special & highs;
  }
  /// The bytes ASP.NET writes as \u00XX though JSON does not ask it.
  bool asp_escaped(unsigned char c) const { return asp_net_ && (c == '\'' || c == '<' || c == '>' || c == '&'); }
  /// Appends `v` escaped as RFC 8259 asks, passing runs of plain bytes eight at a time. With
  /// `utf8_only`, bytes that are not valid UTF-8 become U+FFFD; without, bytes >= 0x80 pass.
  /// The output is written through a pointer into room made first for the worst case (six bytes
  /// for one, as \u001f), not byte by byte into the string: a JSON body has a quote every few
  /// bytes. `v` must not point into the output.
  void escape_into(std::string_view v, bool utf8_only) {
    std::size_t at = out_.size();
    out_.resize(at + 6 * v.size());
    char* o = out_.data() + at;
    const char* p = v.data();
    const char* end = p + v.size();
    while (p < end) {
      for (std::uint64_t x; end - p >= 8 && (std::memcpy(&x, p, 8), !any_special(x)); p += 8, o += 8)
        std::memcpy(o, &x, 8);
      if (p == end) break;
      auto c = static_cast<unsigned char>(*p);
      if (c >= 0x80) {
        std::size_t n = utf8_only ? utf8_length(std::string_view(p, static_cast<std::size_t>(end - p))) : 1;
        if (n > 0) {
          o = std::copy(p, p + n, o);
          p += n;
        } else {
          o = std::copy_n("\xEF\xBF\xBD", 3, o);
          ++p;
        }
      } else if (c >= 0x20 && c != '"' && c != '\\' && !asp_escaped(c)) {
        *o++ = *p++;
      } else if (c == '"' || c == '\\') {
        *o++ = '\\';
        *o++ = *p++;
      } else {
        o = escape_char(c, o);
        ++p;
      }
    }
    out_.resize(static_cast<std::size_t>(o - out_.data()));
  }
  /// A control character (or one ASP.NET escapes) as JSON writes it, at `o`; where it ends.
  static char* escape_char(unsigned char c, char* o) {
    *o++ = '\\';
    switch (c) {
      case '\n': *o++ = 'n'; break;
      case '\r': *o++ = 'r'; break;
      case '\t': *o++ = 't'; break;
      default: {
        static constexpr char hex[] = "0123456789abcdef";
        o = std::copy_n("u00", 3, o);
        *o++ = hex[c >> 4];
        *o++ = hex[c & 0xf];
      }
    }
    return o;
  }
  std::string& out_;
  bool asp_net_;
  bool first_ = true;
};

}  // namespace fortisim::protocol
