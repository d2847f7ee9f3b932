#include "server/net/tls/client_hello.hpp"

#include <algorithm>
#include <cstdint>

namespace fortisim::net {

namespace {

/// The server name in a whole ClientHello message `h` (its handshake header included), "" for none.
std::string server_name(std::string_view h) {
  auto u8 = [&](std::size_t i) { return static_cast<std::uint8_t>(h[i]); };
  auto u16 = [&](std::size_t i) { return static_cast<std::size_t>(u8(i) << 8 | u8(i + 1)); };
  std::size_t p = 4 + 2 + 32;  // handshake header, legacy_version, random
  if (p + 1 > h.size()) return {};
  p += 1 + u8(p);  // session id
  if (p + 2 > h.size()) return {};
  p += 2 + u16(p);  // cipher suites
  if (p + 1 > h.size()) return {};
  p += 1 + u8(p);  // compression methods
  if (p + 2 > h.size()) return {};
  std::size_t end = p + 2 + u16(p);
  p += 2;
  while (p + 4 <= end && end <= h.size()) {
    std::size_t type = u16(p), len = u16(p + 2);
    p += 4;
    if (p + len > end) break;
    if (type == 0 && len >= 5) {  // server_name: list length, name type 0 (host_name), name length
      std::size_t name_len = u16(p + 3);
      if (u8(p + 2) == 0 && p + 5 + name_len <= p + len) return std::string(h.substr(p + 5, name_len));
      break;
    }
    p += len;
  }
  return {};
}

}  // namespace

client_hello_info parse_client_hello(std::string_view b) {
  client_hello_info info;
  auto u8 = [&](std::size_t i) { return static_cast<std::uint8_t>(b[i]); };
  auto u16 = [&](std::size_t i) { return static_cast<std::size_t>(u8(i) << 8 | u8(i + 1)); };
  // The ClientHello message, gathered from as many handshake records as carry it (RFC 8446 §5.1:
  // a handshake message may be split across records; none may be empty).
  std::string message;
  std::size_t at = 0;  // the next record's header
  for (;;) {
    if (b.size() < at + 5) {
      info.bytes_needed = at + 5;
      return info;
    }
    std::size_t record_len = u16(at + 3);
    if (u8(at) != 0x16 || u8(at + 1) != 0x03 || record_len == 0) {
      info.status = client_hello_info::state::not_tls;
      return info;
    }
    std::size_t have = std::min(record_len, b.size() - at - 5);
    std::string_view fragment = b.substr(at + 5, have);
    if (message.empty() && !fragment.empty() && static_cast<std::uint8_t>(fragment[0]) != 0x01) {
      info.status = client_hello_info::state::not_tls;  // another handshake message (a ServerHello ...)
      return info;
    }
    if (have < record_len) {
      info.bytes_needed = at + 5 + record_len;
      return info;
    }
    message.append(fragment);
    at += 5 + record_len;
    if (message.size() < 4) continue;  // its header is split too
    std::size_t whole = 4 + (static_cast<std::size_t>(static_cast<std::uint8_t>(message[1])) << 16 |
                             static_cast<std::size_t>(static_cast<std::uint8_t>(message[2])) << 8 |
                             static_cast<std::uint8_t>(message[3]));
    if (message.size() < whole) continue;  // the rest is in the next record
    info.status = client_hello_info::state::complete;
    info.record_bytes = at;
    info.sni = server_name(std::string_view(message).substr(0, whole));
    return info;
  }
}

}  // namespace fortisim::net
