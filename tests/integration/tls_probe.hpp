#pragma once
// Test support: one TLS handshake as a particular client makes it (its SNI, TLS version, cipher
// list, a request for the OCSP staple, a client certificate), reporting what it saw of the server's
// certificate. Built on OpenSSL and a blocking loopback socket; every wait is bounded.

#include "pki/certs.hpp"
#include "support.hpp"

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>

namespace fortisim::test {

/// How the probing client behaves.
struct probe_options {
  std::string sni;                                 ///< "" sends none
  std::string ca;                                  ///< verify against this CA (PEM file); "" does not verify
  std::string verify_name;                         ///< the name to check; defaults to `sni`
  int max_tls = 0;                                 ///< e.g. TLS1_2_VERSION
  std::string ciphers;                             ///< a TLS 1.2 cipher list, e.g. "AES128-GCM-SHA256"
  bool status_request = false;                     ///< ask for a stapled OCSP response
  const pki::cert_and_key* certificate = nullptr;  ///< presented when the server asks
  /// After the handshake, GET / and read the reply (the server has journaled the handshake by then).
  bool request = false;
  std::shared_ptr<SSL_SESSION> resume;  ///< offer this session (from an earlier probe's `session`)
  std::chrono::milliseconds timeout{5000};
};

/// What the client saw. After any failure the probe waits (bounded) for the server to close, so
/// that whatever the server journals about it is there when the probe returns.
struct probe_result {
  bool ok = false;  ///< the handshake (and the request, if any) succeeded
  std::string detail;
  long verify_result = 0;
  std::shared_ptr<X509> leaf;  ///< the certificate the server presented
  std::string tls_version, cipher;
  std::string ocsp;                      ///< the staple's status for the leaf: "good", "revoked", "unknown"; "" none
  bool ocsp_signed_by_ca = false;        ///< the staple verifies against `ca`
  int status = 0;                        ///< the reply's HTTP status (with `request`)
  std::shared_ptr<SSL_SESSION> session;  ///< the session to resume later (after `request`: TLS 1.3 tickets come late)
  bool resumed = false;                  ///< the server resumed `resume` (an abbreviated handshake)
};

probe_result probe(std::uint16_t port, const probe_options& o);

/// The DNS names in a certificate's subjectAltName, in order (none for a null certificate).
std::vector<std::string> dns_names_of(X509* cert);
/// The certificate's key type and size: "ecdsa 256", "rsa 2048" ("no certificate" for null).
std::string key_of(X509* cert);

}  // namespace fortisim::test
