// server/core/tls_failure: a failed handshake in the words a lab engineer reads, from the alert
// the client sent or what else ended it (table-driven).
#include "server/core/observe/tls_failure.hpp"

#include <doctest/doctest.h>

using namespace fortisim::core;
using kind = tls_failure::kind;

TEST_SUITE("tls failure") {

TEST_CASE("every fatal alert a client sends about our certificate or our TLS, in words") {
  struct row {
    int alert;
    const char* words;
  };
  for (auto [alert, words] : {
           row{48, "the client refused our certificate: unknown CA"},
           row{42, "the client refused our certificate: bad certificate"},
           row{45, "the client refused our certificate: certificate expired"},
           row{44, "the client refused our certificate: certificate revoked"},
           row{46, "the client refused our certificate: certificate unknown"},
           row{40, "the client ended the handshake: handshake failure"},
           row{70, "the client refused our TLS version: protocol version"},
           row{113, "the client refused our OCSP response: bad certificate status response"},
           row{90, "the client ended the handshake: user canceled"},
           row{200, "the client sent the fatal alert 200"},
       }) {
    const auto& alert_ = alert;  // clang 14 cannot capture a structured binding
    CAPTURE(alert_);
    CHECK(peer_alert_words(alert) == words);
    CHECK(describe({kind::peer_alert, alert, 0, "ignored"}) == words);
  }
}

TEST_CASE("a handshake that ended otherwise") {
  struct row {
    tls_failure f;
    const char* words;
  };
  for (const auto& [f, words] : {
           row{{kind::closed, 0, 1500, ""}, "the client closed the connection during the handshake"},
           row{{kind::timeout, 0, 1500, ""}, "no handshake within 1500 ms"},
           row{{kind::no_client_certificate, 0, 0, ""}, "the client presented no certificate (--client-cert require)"},
           row{{kind::no_shared_cipher, 0, 0, ""}, "no cipher suite in common with the client"},
           row{{kind::unsupported_version, 0, 0, ""}, "the client offers no TLS version we serve"},
           row{{kind::plain_http, 0, 0, ""}, "the client spoke plain HTTP to the TLS port"},
           row{{kind::other, 0, 0, "wrong version number"}, "handshake failed: wrong version number"},
       }) {
    CHECK(describe(f) == words);
  }
}

}  // TEST_SUITE
