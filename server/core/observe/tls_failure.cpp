#include "server/core/observe/tls_failure.hpp"

#include <array>
#include <string_view>

namespace fortisim::core {

namespace {

/// What a fatal alert from the client says about us. The alert names are RFC 8446 §6.2's (and
/// TLS 1.2's, RFC 5246 §7.2), as OpenSSL prints them.
struct alert_words {
  int code;
  std::string_view refused;  ///< what the client refused, or ended
  std::string_view name;
};

constexpr std::string_view certificate = "the client refused our certificate";
constexpr std::string_view ended = "the client ended the handshake";

constexpr std::array<alert_words, 25> alerts{{
    {10, ended, "unexpected message"},
    {20, ended, "bad record MAC"},
    {40, ended, "handshake failure"},
    {42, certificate, "bad certificate"},
    {43, certificate, "unsupported certificate"},
    {44, certificate, "certificate revoked"},
    {45, certificate, "certificate expired"},
    {46, certificate, "certificate unknown"},
    {47, ended, "illegal parameter"},
    {48, certificate, "unknown CA"},
    {49, ended, "access denied"},
    {50, ended, "decode error"},
    {51, ended, "decrypt error"},
    {70, "the client refused our TLS version", "protocol version"},
    {71, "the client refused our cipher suites", "insufficient security"},
    {80, ended, "internal error"},
    {86, ended, "inappropriate fallback"},
    {90, ended, "user canceled"},
    {109, ended, "missing extension"},
    {110, ended, "unsupported extension"},
    {112, "the client refused our name", "unrecognized name"},
    {113, "the client refused our OCSP response", "bad certificate status response"},
    {115, ended, "unknown PSK identity"},
    {116, ended, "certificate required"},
    {120, ended, "no application protocol"},
}};

}  // namespace

std::string peer_alert_words(int alert) {
  for (const auto& a : alerts)
    if (a.code == alert) return std::string(a.refused) + ": " + std::string(a.name);
  return "the client sent the fatal alert " + std::to_string(alert);
}

std::string describe(const tls_failure& f) {
  using k = tls_failure::kind;
  switch (f.what) {
    case k::peer_alert: return peer_alert_words(f.alert);
    case k::closed: return "the client closed the connection during the handshake";
    case k::timeout: return "no handshake within " + std::to_string(f.timeout_ms) + " ms";
    case k::no_client_certificate: return "the client presented no certificate (--client-cert require)";
    case k::no_shared_cipher: return "no cipher suite in common with the client";
    case k::unsupported_version: return "the client offers no TLS version we serve";
    case k::plain_http: return "the client spoke plain HTTP to the TLS port";
    case k::other: break;
  }
  return "handshake failed: " + f.detail;
}

}  // namespace fortisim::core
