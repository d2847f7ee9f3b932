#pragma once
// A JSON writer that appends straight into a string: the reply path builds no tree (it is the
// per-request path measured against nginx). Strings are escaped as RFC 8259 requires; bytes
// >= 0x80 pass through. Keys are written in call order, which is how replies keep the captured
// field order.

#include "protocol/errors.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fortisim::protocol {

/// Writes one JSON document into `out`: open(), key/value calls, close().
class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) {}
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
  json_writer& key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    quoted(k);
    out_ += ':';
    return *this;
  }
  json_writer& str(std::string_view k, std::string_view v) {
    key(k);
    quoted(v);
    return *this;
  }
  json_writer& num(std::string_view k, std::int64_t v) {
    key(k);
    out_ += std::to_string(v);
    return *this;
  }
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
  void quoted(std::string_view v) {
    out_ += '"';
    std::size_t run = 0;  // start of the pending run of characters that need no escape
    for (std::size_t i = 0; i < v.size(); ++i) {
      auto c = static_cast<unsigned char>(v[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(v, run, i - run);
      run = i + 1;
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default: {
          static constexpr char hex[] = "0123456789abcdef";
          out_ += "\\u00";
          out_ += hex[c >> 4];
          out_ += hex[c & 0xf];
        }
      }
    }
    out_.append(v, run, v.size() - run);
    out_ += '"';
  }
  std::string& out_;
  bool first_ = true;
};

}  // namespace fortisim::protocol
