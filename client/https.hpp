#pragma once
// A blocking HTTPS client on Beast: one POST on a new connection, every step under a deadline,
// the server's certificate verified against a CA file and the name the client asked for (SNI).
// `fortisim client` and the C++ fixture example speak through it. Asio and Beast stay in
// https.cpp: this header is plain C++.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fortisim::client {

/// Where to send, and what to trust: what `--server`, `--sni`, `--cacert` and `--insecure` say.
struct connection_options {
  std::string host = "127.0.0.1";  ///< the address (or name) to connect to, e.g. "127.0.0.1"
  std::uint16_t port = 443;
  /// The TLS server name, the Host header and the name the certificate must carry, e.g.
  /// "directregistration.fortinet.com" (fortisim's lab certificate names every Fortinet host).
  std::string sni = "directregistration.fortinet.com";
  std::string cacert;                         ///< PEM file of the CA to trust (fortisim's ca.pem); "": the system's CAs
  bool insecure = false;                      ///< accept any certificate: for looking at a server you cannot verify
  std::chrono::milliseconds timeout{10'000};  ///< each step: resolve and connect, handshake, write, read
};

/// One request header: {"Accept", "application/json"}.
using header = std::pair<std::string, std::string>;

/// What the server answered.
struct http_reply {
  int status = 0;
  std::string content_type;
  std::string body;
};

/// No reply: the step that failed and why, e.g. "connect to 127.0.0.1:8443: Connection refused",
/// "TLS handshake with globalftm.fortinet.net: certificate verify failed (self-signed certificate)".
struct transport_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// POSTs `body` to `path` on a new connection and reads the reply (at most 16 MiB). Throws
/// transport_error; a CA file that cannot be read is one too.
http_reply post(const connection_options& to, std::string_view path, std::string_view body,
                const std::vector<header>& headers);

/// "127.0.0.1:8443", "[::1]:8443" or "lab.example.net:443" as host and port; nothing if it is not
/// of that form.
std::optional<std::pair<std::string, std::uint16_t>> split_host_port(std::string_view text);

}  // namespace fortisim::client
