#pragma once
// What `fortisim serve` is told on its command line, parsed once, and how a start-up fails: plain
// values every room of server/net reads, so none of them needs the server that assembles them.

#include "pki/certs.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace fortisim::net {

/// Which certificate the server asks clients for (--client-cert).
enum class client_cert_mode {
  off,      ///< none (the default)
  request,  ///< ask, and accept whatever comes, or nothing: a lab sees what the device presents
  require,  ///< ask, and fail the handshake when none is presented
};

/// The control listener's connections open at once (the console's event streams among them); its
/// descriptors are kept aside from --max-connections.
inline constexpr std::size_t admin_connection_limit = 32;

/// Everything `fortisim serve` is told on its command line, parsed once.
struct server_config {
  std::string listen = "0.0.0.0:443";                ///< ADDR:PORT; port 0 picks a free port
  std::optional<std::string> admin = "127.0.0.1:0";  ///< the control API (plain HTTP); none if empty
  std::string admin_token;        ///< required as a bearer token when set; needed when `admin` is beyond loopback
  std::string scenario_path;      ///< for reloads (SIGHUP, POST /reload, --watch); POST /scenario changes it
  std::string shipped_scenarios;  ///< the shipped scenarios' folder (GET /scenarios), "" when none was found
  /// --watch: reload `scenario_path` whenever the file is saved, as SIGHUP does (inotify on its
  /// folder, server/net/scenario_watch.hpp); a bad edit leaves the last good scenario live.
  bool watch = false;
  std::optional<std::string> cert, key;          ///< PEM files; without them the lab CA's
  std::string data_dir;                          ///< where the lab CA and certificates live
  pki::key_type lab_key = pki::key_type::ecdsa;  ///< --key-type: the lab leaves' keys (ECDSA P-256 or RSA 2048)
  /// --client-cert: ask clients for a certificate (request: accept any or none; require: fail
  /// without one); what they present is journaled.
  client_cert_mode client_cert = client_cert_mode::off;
  int threads = 1;
  std::size_t body_limit = 1 << 20;    ///< bytes; larger bodies get 413
  std::size_t max_connections = 4096;  ///< more are closed on accept (and journaled)
  std::int64_t handshake_timeout_ms = 10'000;
  std::int64_t idle_timeout_ms = 60'000;  ///< waiting for (the rest of) a request
  std::int64_t write_timeout_ms = 30'000;
  bool handle_signals = false;   ///< SIGINT/SIGTERM drain and stop, SIGHUP reloads (the binary): signals.hpp
  std::int64_t drain_ms = 5000;  ///< on SIGTERM/SIGINT: how long exchanges in flight may take to finish
  /// The DNS responder (server/net/dns.hpp): ADDR:PORT for UDP and TCP, e.g. "0.0.0.0:53" or
  /// "127.0.0.1:0" (a free port); none: off.
  std::optional<std::string> dns;
  /// The addresses it answers with: at most one IPv4 (A) and one IPv6 (AAAA), e.g. {"192.0.2.10"};
  /// empty: the --listen address, or this host's own when that is a wildcard.
  std::vector<std::string> dns_answers;
  /// Where it sends names it does not answer, "192.0.2.53" or "192.0.2.53:5353"; none: NXDOMAIN.
  std::optional<std::string> dns_upstream;
  /// --dns-names: "all" the Fortinet names, or "token" the token path's alone (the others are
  /// forwarded upstream, as any other name).
  std::string dns_names = "all";
};

/// A start-up failure: one line naming the cause and how to fix it.
struct startup_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace fortisim::net
