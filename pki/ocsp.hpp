#pragma once
// OCSP responses for stapling, signed by the lab CA: what a client that asks for the certificate's
// status (status_request, `openssl s_client -status`) reads about the leaf it was served, as the
// scenario says ("tls": {"ocsp": "good" | "revoked" | "unknown" | "none"}, per host).

#include "pki/certs.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace fortisim::pki {

/// What an OCSP response says about a leaf; `none`: no response is stapled.
enum class ocsp_status { good, revoked, unknown, none };

/// Builds OCSP responses (RFC 6960) with OpenSSL's OCSP API and keeps them: one per leaf and
/// status, made at first use and again after 12 hours (each is valid from now for a day), so a
/// handshake never signs anything. Thread-safe.
class ocsp_responder {
 public:
  /// Responses are signed by `ca` (the lab CA's certificate and key) with SHA-256.
  explicit ocsp_responder(cert_and_key ca) : ca_(std::move(ca)) {}

  /// The DER of a successful OCSP response saying `status` about `leaf`; null when `status` is
  /// none or the CA did not issue `leaf` (a tls_cert fault's certificate from an unknown CA).
  std::shared_ptr<const std::string> response(X509* leaf, ocsp_status status);

 private:
  struct made {
    std::shared_ptr<const std::string> der;
    std::int64_t at_s = 0;
  };
  cert_and_key ca_;
  std::mutex mutex_;
  std::map<std::pair<std::string, ocsp_status>, made> made_;  ///< by the leaf's serial, and status
};

/// The DER of an OCSP response saying `status` (good, revoked or unknown) about `leaf`, signed by
/// `ca`: thisUpdate now, nextUpdate in a day; a revoked leaf was revoked an hour ago.
std::string make_ocsp_response(X509* leaf, const cert_and_key& ca, ocsp_status status);

}  // namespace fortisim::pki
