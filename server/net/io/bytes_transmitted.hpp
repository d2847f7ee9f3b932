#pragma once
// How much of a TCP connection's bytes left this machine: how far a reply went before its client
// left. The bytes the socket took also count those still in the send buffer (megabytes), which
// the client never saw.

#include <cstdint>
#include <optional>

namespace fortisim::net {

/// The bytes this socket has transmitted since it connected, each counted once (Linux's TCP_INFO:
/// tcpi_bytes_sent less tcpi_bytes_retrans, or tcpi_bytes_acked if more); nothing where the kernel
/// does not say.
std::optional<std::uint64_t> bytes_transmitted(int socket_fd);

/// The bytes this socket holds that its peer has not acknowledged (SIOCOUTQ): those a close would
/// still send.
std::uint64_t bytes_unacknowledged(int socket_fd);

}  // namespace fortisim::net
