#pragma once
// Reads the server name (SNI) out of a TLS ClientHello before the handshake starts, so TLS-stage
// faults can be chosen per host name. Pure parsing of bytes peeked from the socket.

#include <cstddef>
#include <string>
#include <string_view>

namespace fortisim::net {

struct client_hello_info {
  /// complete: a whole ClientHello, in one record or several. not_tls: the bytes are no TLS
  /// handshake record (or an empty one), or its message is not a ClientHello.
  enum class state { need_more, complete, not_tls };
  state status = state::need_more;
  std::size_t record_bytes = 0;  ///< the bytes of the ClientHello's record(s), to consume
  std::size_t bytes_needed = 5;  ///< need_more: how many bytes from the start the next step takes
  std::string sni;               ///< "" when the client sent none
};

/// Parses the start of a TLS connection (RFC 8446 §4.1.2, RFC 6066 §3).
client_hello_info parse_client_hello(std::string_view bytes);

}  // namespace fortisim::net
