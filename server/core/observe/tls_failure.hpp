#pragma once
// A TLS handshake that failed, in the words the journal and the log give it: what a lab engineer
// reads to learn why a FortiGate did not get through ("the client refused our certificate:
// unknown CA"). The network layer says what happened in these plain terms (no OpenSSL types here).

#include <cstdint>
#include <string>

namespace fortisim::core {

/// How a handshake ended without success, as the network layer saw it.
struct tls_failure {
  enum class kind {
    peer_alert,             ///< the client sent a fatal alert: `alert` is its description (RFC 8446 §6.2)
    closed,                 ///< the client closed (or reset) the connection during the handshake
    timeout,                ///< no handshake within `timeout_ms`
    no_client_certificate,  ///< --client-cert require, and the client presented none
    no_shared_cipher,       ///< none of the client's cipher suites fits our certificate
    unsupported_version,    ///< the client offers no TLS version we serve
    plain_http,             ///< the client spoke plain HTTP to the TLS port
    other,                  ///< anything else: `detail` holds OpenSSL's reason
  };
  kind what = kind::other;
  int alert = 0;
  std::int64_t timeout_ms = 0;
  std::string detail;
};

/// `f` in words, e.g. "the client refused our certificate: unknown CA", "the client closed the
/// connection during the handshake", "no handshake within 10000 ms", "handshake failed: <reason>".
std::string describe(const tls_failure& f);

/// The words for a fatal alert the client sent, from its description (a table): 48 -> "the client
/// refused our certificate: unknown CA", 70 -> "the client refused our TLS version: protocol
/// version"; one not in the table -> "the client sent the fatal alert 200".
std::string peer_alert_words(int alert);

}  // namespace fortisim::core
