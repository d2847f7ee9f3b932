// The JSON writer's escaping, which passes plain bytes eight at a time: checked against a byte by
// byte statement of the rules (RFC 8259 escapes; U+FFFD for bytes that are not UTF-8 where asked)
// over every position of every special byte and over random strings, and parsed back.
#include "protocol/json_writer.hpp"

#include "protocol/messages.hpp"

#include <doctest/doctest.h>

#include <random>

using fortisim::protocol::json;
using fortisim::protocol::json_writer;

namespace {

/// The rules, one byte at a time: the escape of a byte below 0x20, '"' or '\'.
std::string escaped(unsigned char c) {
  switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      return buf;
    }
  }
}

/// The length of the valid UTF-8 sequence at `v[i]`, or 0: decoded and checked for its range.
std::size_t utf8_at(std::string_view v, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(v[k]); };
  unsigned char c = b(i);
  std::size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
  if (n == 0 || i + n > v.size()) return 0;
  std::uint32_t cp = n == 1 ? c : c & (0x7f >> n);
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (b(i + k) & 0x3f);
  }
  static constexpr std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

std::string reference(std::string_view v, bool utf8_only) {
  std::string out = "\"";
  for (std::size_t i = 0; i < v.size();) {
    auto c = static_cast<unsigned char>(v[i]);
    if (c >= 0x80 && utf8_only) {
      std::size_t n = utf8_at(v, i);
      out += n ? std::string(v.substr(i, n)) : "\xEF\xBF\xBD";
      i += n ? n : 1;
      continue;
    }
    out += c < 0x20 || c == '"' || c == '\\' ? escaped(c) : std::string(1, static_cast<char>(c));
    ++i;
  }
  return out + "\"";
}

/// The value the writer gives `v` (as a str, or as bytes), without its key.
std::string written(std::string_view v, bool as_bytes) {
  std::string out;
  json_writer w(out);
  w.open();
  as_bytes ? w.bytes("k", v) : w.str("k", v);
  w.close();
  return out.substr(5, out.size() - 6);  // {"k":...}
}

void check_both(const std::string& v) {
  CAPTURE(json::binary_t(std::vector<std::uint8_t>(v.begin(), v.end())));
  CHECK(written(v, false) == reference(v, false));
  auto b = written(v, true);
  CHECK(b == reference(v, true));
  CHECK(json::parse("{\"k\":" + b + "}").is_object());
}

}  // namespace

TEST_SUITE("json writer") {

TEST_CASE("every byte at every position of a run of plain bytes is escaped as the rules say") {
  for (int c = 0; c < 256; ++c)
    for (std::size_t at = 0; at < 20; ++at) {
      std::string v(20, 'a');
      v[at] = static_cast<char>(c);
      check_both(v);
    }
}

TEST_CASE("UTF-8 sequences whole, cut short, overlong, surrogates and beyond U+10FFFF") {
  for (std::string s : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xC3", "\xE2\x82", "\xF0\x9F\x98", "\xC0\xAF",
                        "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\x80"})
    for (std::size_t pad = 0; pad < 10; ++pad) {
      check_both(std::string(pad, 'x') + s);
      check_both(std::string(pad, 'x') + s + std::string(pad, 'y'));
    }
}

TEST_CASE("random strings, mostly plain, agree with the rules") {
  std::mt19937 rng(12);
  const std::string specials = "\"\\\n\r\t\x01\x1f\x7f\x80\xbf\xc3\xa9\xe2\x82\xac\xf0\x9f\xed\xff";
  for (int round = 0; round < 20000; ++round) {
    std::string v(rng() % 64, 'a');
    for (auto& c : v) c = rng() % 8 ? static_cast<char>('a' + rng() % 26) : specials[rng() % specials.size()];
    check_both(v);
  }
}

TEST_CASE("numbers of every width") {
  std::string out;
  json_writer w(out);
  w.open().num("a", 0).num("b", -1).num("c", std::int64_t{INT64_MIN}).num("d", std::uint64_t{UINT64_MAX}).close();
  CHECK(out == "{\"a\":0,\"b\":-1,\"c\":-9223372036854775808,\"d\":18446744073709551615}");
}
}
