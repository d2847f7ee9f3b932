#include "server/net/tls/client_hello.hpp"

#include <cstdint>

namespace fortisim::net {

client_hello_info parse_client_hello(std::string_view b) {
  client_hello_info info;
  auto u8 = [&](std::size_t i) { return static_cast<std::uint8_t>(b[i]); };
  auto u16 = [&](std::size_t i) { return static_cast<std::size_t>(u8(i) << 8 | u8(i + 1)); };
  if (b.size() < 5) return info;
  if (u8(0) != 0x16 || u8(1) != 0x03) {
    info.status = client_hello_info::state::not_tls;
    return info;
  }
  std::size_t record_len = u16(3);
  if (b.size() > 5 && u8(5) != 0x01) {  // a handshake record, but not a ClientHello (a ServerHello ...)
    info.status = client_hello_info::state::not_tls;
    return info;
  }
  info.bytes_needed = 5 + record_len;
  if (b.size() < 5 + record_len) return info;
  info.record_bytes = 5 + record_len;
  info.status = client_hello_info::state::complete;
  // The hello within one record (clients send it whole; a split hello just yields no SNI).
  std::string_view h = b.substr(5, record_len);
  auto hu8 = [&](std::size_t i) { return static_cast<std::uint8_t>(h[i]); };
  auto hu16 = [&](std::size_t i) { return static_cast<std::size_t>(hu8(i) << 8 | hu8(i + 1)); };
  if (h.size() < 4 || hu8(0) != 0x01) return info;
  std::size_t p = 4 + 2 + 32;  // handshake header, legacy_version, random
  if (p + 1 > h.size()) return info;
  p += 1 + hu8(p);  // session id
  if (p + 2 > h.size()) return info;
  p += 2 + hu16(p);  // cipher suites
  if (p + 1 > h.size()) return info;
  p += 1 + hu8(p);  // compression methods
  if (p + 2 > h.size()) return info;
  std::size_t end = p + 2 + hu16(p);
  p += 2;
  while (p + 4 <= end && end <= h.size()) {
    std::size_t type = hu16(p), len = hu16(p + 2);
    p += 4;
    if (p + len > end) break;
    if (type == 0 && len >= 5) {  // server_name: list length, name type 0 (host_name), name length
      std::size_t name_len = hu16(p + 3);
      if (hu8(p + 2) == 0 && p + 5 + name_len <= p + len) info.sni.assign(h.substr(p + 5, name_len));
      break;
    }
    p += len;
  }
  return info;
}

}  // namespace fortisim::net
