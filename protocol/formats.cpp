#include "protocol/formats.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

namespace fortisim::protocol {
namespace {

bool all_of(std::string_view s, int (*pred)(int)) {
  return std::all_of(s.begin(), s.end(), [pred](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
}

bool has_serial_shape(std::string_view s, std::string_view prefix) {
  return s.size() == 16 && s.starts_with(prefix) && all_of(s.substr(prefix.size()), std::isalnum);
}

constexpr std::string_view base32_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

}  // namespace

bool is_license_activation_code(std::string_view s) {
  if (s.size() != 24) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash_slot = (i % 5) == 4;
    if (dash_slot ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool is_mobile_token_serial(std::string_view s) { return has_serial_shape(s, "FTKMOB"); }

bool is_hardware_token_serial(std::string_view s) {
  return has_serial_shape(s, "FTK200") || has_serial_shape(s, "FTK220");
}

std::string derive_serial(std::string_view prefix, std::size_t total_length, std::string_view key) {
  std::string out(prefix);
  std::uint32_t counter = 0;
  while (out.size() < total_length) {
    std::string input(key);
    input += '#';
    input += std::to_string(counter++);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    for (unsigned char byte : digest) {
      if (out.size() >= total_length) break;
      if (byte < 250) out += static_cast<char>('0' + byte % 10);  // reject 250..255: no bias
    }
  }
  return out;
}

std::string activation_code_for_user(const activation_bytes& b, int period) {
  std::string out;
  activation_code_for_user(b, period, out);
  return out;
}

void activation_code_for_user(const activation_bytes& b, int period, std::string& out) {
  std::array<char, 2 + std::tuple_size_v<activation_bytes>> raw{0x21, static_cast<char>(period == 30 ? 0x00 : 0x10)};
  std::copy(b.begin(), b.end(), raw.begin() + 2);
  base32_encode(std::string_view(raw.data(), raw.size()), out);
}

int activation_code_period(std::string_view user_code) {
  auto raw = base32_decode(upper_case(user_code));
  if (!raw || raw->size() != 10 || (*raw)[0] != 0x21) return 0;
  return (*raw)[1] == 0x10 ? 60 : 30;
}

std::string activation_code_for_phone(const activation_bytes& b) {
  std::string out;
  activation_code_for_phone(b, out);
  return out;
}

void activation_code_for_phone(const activation_bytes& b, std::string& out) {
  hex_encode(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), out);
}

std::optional<activation_bytes> parse_phone_activation_code(std::string_view hex16) {
  if (!is_lower_hex(hex16, 16)) return std::nullopt;
  auto raw = hex_decode(hex16);
  activation_bytes b{};
  std::copy(raw->begin(), raw->end(), b.begin());
  return b;
}

std::optional<activation_bytes> parse_user_activation_code(std::string_view base32) {
  if (base32.size() != 16) return std::nullopt;  // 10 bytes and no more (from a trial: 17 passed)
  auto raw = base32_decode(base32);
  if (!raw || raw->size() != 10 || (*raw)[0] != 0x21) return std::nullopt;
  activation_bytes b{};
  std::copy(raw->begin() + 2, raw->end(), b.begin());
  return b;
}

std::string base32_encode(std::string_view bytes) {
  std::string out;
  base32_encode(bytes, out);
  return out;
}

void base32_encode(std::string_view bytes, std::string& out) {
  out.clear();
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += base32_alphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += base32_alphabet[(buffer << (5 - bits)) & 31];
}

std::optional<std::string> base32_decode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    auto pos = base32_alphabet.find(ascii_upper(c));
    if (pos == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(pos);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return out;
}

std::string upper_case(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = ascii_upper(c);
  return out;
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

std::string_view upper_case(std::string_view s, std::string& storage) {
  if (std::none_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; })) return s;
  return storage = upper_case(s);
}

void append_utc(std::int64_t unix_s, std::string& out) {
  using namespace std::chrono;
  sys_seconds t{seconds{unix_s}};
  auto day = floor<days>(t);
  year_month_day date{day};
  hh_mm_ss time{t - day};
  char text[40];
  char* p = text;
  int year = static_cast<int>(date.year());
  for (int width = 1000; year >= 0 && width > 1 && year < width; width /= 10) *p++ = '0';  // four digits at least
  p = std::to_chars(p, text + 16, year).ptr;
  auto two = [&](char before, unsigned n) {
    *p++ = before;
    *p++ = static_cast<char>('0' + n / 10);
    *p++ = static_cast<char>('0' + n % 10);
  };
  two('-', static_cast<unsigned>(date.month()));
  two('-', static_cast<unsigned>(date.day()));
  two('T', static_cast<unsigned>(time.hours().count()));
  two(':', static_cast<unsigned>(time.minutes().count()));
  two(':', static_cast<unsigned>(time.seconds().count()));
  out.append(text, p);
}

std::string hex_encode(std::string_view bytes) {
  std::string out;
  hex_encode(bytes, out);
  return out;
}

void hex_encode(std::string_view bytes, std::string& out) {
  out.resize(bytes.size() * 2);
  hex_encode(bytes, out.data());
}

char* hex_encode(std::string_view bytes, char* out) {
  static constexpr char digits[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    *out++ = digits[c >> 4];
    *out++ = digits[c & 15];
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
  std::string out;
  if (!hex_decode(hex, out)) return std::nullopt;
  return out;
}

bool hex_decode(std::string_view hex, std::string& out) {
  out.clear();
  if (hex.size() % 2 != 0) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
  }
  return true;
}

bool is_lower_hex(std::string_view s, std::size_t length) {
  return s.size() == length &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace fortisim::protocol
