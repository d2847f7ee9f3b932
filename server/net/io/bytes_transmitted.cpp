// Its own file: <linux/tcp.h>, whose tcp_info has the byte counts, cannot share a translation
// unit with <netinet/tcp.h>, which Asio includes and whose tcp_info ends before them.
#include "server/net/io/bytes_transmitted.hpp"

#include <cstddef>

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace fortisim::net {

std::optional<std::uint64_t> bytes_transmitted(int socket_fd) {
  tcp_info info{};
  socklen_t size = sizeof info;
  if (::getsockopt(socket_fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return std::nullopt;
  if (size < offsetof(tcp_info, tcpi_bytes_retrans) + sizeof info.tcpi_bytes_retrans) return std::nullopt;
  return info.tcpi_bytes_sent - info.tcpi_bytes_retrans;
}

}  // namespace fortisim::net
