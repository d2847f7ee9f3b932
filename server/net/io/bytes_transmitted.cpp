// Its own file: <linux/tcp.h>, whose tcp_info has the byte counts, cannot share a translation
// unit with <netinet/tcp.h>, which Asio includes and whose tcp_info ends before them.
#include "server/net/io/bytes_transmitted.hpp"

#include <algorithm>
#include <cstddef>

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace fortisim::net {

std::optional<std::uint64_t> bytes_transmitted(int socket_fd) {
  tcp_info info{};
  socklen_t size = sizeof info;
  if (::getsockopt(socket_fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return std::nullopt;
  if (size < offsetof(tcp_info, tcpi_bytes_retrans) + sizeof info.tcpi_bytes_retrans) return std::nullopt;
  // Sent less retransmitted undercounts a stalled connection's (data past a full window, sent again,
  // is subtracted whole); what the peer acknowledged has left too.
  return std::max<std::uint64_t>(info.tcpi_bytes_sent - info.tcpi_bytes_retrans, info.tcpi_bytes_acked);
}

std::uint64_t bytes_unacknowledged(int socket_fd) {
  int queued = 0;
  return ::ioctl(socket_fd, SIOCOUTQ, &queued) == 0 && queued > 0 ? static_cast<std::uint64_t>(queued) : 0;
}

}  // namespace fortisim::net
