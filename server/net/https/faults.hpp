#pragma once
// The network layer's side of every fault: what happens on the wire, executed from one place with
// std::visit. A fault that only shapes the reply (its shapes_reply) is the engine's; here
// it falls through to "send the reply".

#include "pki/lab.hpp"
#include "server/core/engine/engine.hpp"
#include "server/net/io/asio.hpp"
#include "server/net/tls/stream.hpp"

#include <map>
#include <mutex>
#include <span>

namespace fortisim::net {

/// What a session does after a fault ran.
enum class after_fault {
  carry_on,  ///< connection and TLS stages: go on to the next stage
  reply,     ///< HTTP stage: send the (perhaps bent) reply
  close,     ///< end the connection, cleanly where TLS is up
  abort,     ///< end the connection without a TLS shutdown (after a reset, a hang, an alert)
};

/// The deliberately bad certificates of tls_cert, made on first use and signed as the fault says.
class fault_certificates {
 public:
  /// Signed by the lab CA of `data_dir` (made there if missing, even with --cert), with keys of `type`.
  fault_certificates(std::string data_dir, pki::key_type type) : data_dir_(std::move(data_dir)), type_(type) {}
  const pki::cert_and_key& get(const std::string& kind);

 private:
  std::string data_dir_;
  pki::key_type type_;
  std::mutex mutex_;
  std::map<std::string, pki::cert_and_key> made_;
  std::optional<pki::cert_and_key> lab_ca_;
};

/// Where a fault acts: the connection (its TLS stream, not yet handshaken before the HTTP stage),
/// what the stage knows, and the server's shared parts.
struct wire {
  tls_stream& stream;
  class listener_set& listeners;
  fault_certificates& certs;
  std::int64_t write_timeout_ms;
  std::size_t hello_bytes = 0;                 ///< TLS stage: the peeked ClientHello's bytes
  core::http_outcome* outcome = nullptr;       ///< HTTP stage: the reply being sent
  std::uint64_t bytes_sent = 0;                ///< HTTP stage: the reply's bytes written so far
  boost::system::error_code write_error = {};  ///< HTTP stage: why a write of the reply failed
  /// Writes `bytes` over TLS within the write timeout, counting them; false if the client went
  /// away (or the time ran out: write_error says which).
  task<bool> send(std::span<const asio::const_buffer> bytes);
};

/// Executes `f`'s wire part.
task<after_fault> execute(const core::fault& f, wire& w);

/// Resets the connection (RST).
void reset(tcp_socket& socket);

}  // namespace fortisim::net
