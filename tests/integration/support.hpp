#pragma once
// Test support: an in-process fortisim on 127.0.0.1:0 (joined in its destructor), and a small
// blocking TLS/HTTP client built on OpenSSL and POSIX sockets, so that a test sees exactly what a
// FortiGate would: a refused connect, a reset, a TLS alert, a short body. Every wait is bounded.

#include "../support/fixtures.hpp"
#include "server/core/engine/engine.hpp"
#include "server/net/server/server.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace fortisim::test {

/// The lab certificates every test shares, generated once per test run in a temporary folder that
/// is removed when the test program exits.
const std::string& test_data_dir();

/// fortisim serving `scenario` on 127.0.0.1:0 with its control API on 127.0.0.1:0.
class test_server {
 public:
  explicit test_server(const std::string& scenario_json, int threads = 1,
                       std::optional<std::string> state_path = std::nullopt,
                       std::function<void(net::server_config&)> configure = {});
  ~test_server();
  std::uint16_t port() const { return server_->port(); }
  std::uint16_t admin_port() const;
  std::string ca() const { return server_->ca_path(); }
  core::engine& engine() { return *engine_; }
  net::server& server() { return *server_; }

 private:
  std::shared_ptr<core::engine> engine_;
  std::unique_ptr<net::server> server_;
};

/// What a client saw of one attempt.
struct outcome {
  enum class kind {
    ok,         ///< a complete HTTP response
    refused,    ///< ECONNREFUSED on connect
    reset,      ///< ECONNRESET
    eof,        ///< the server closed (no or partial response)
    timeout,    ///< nothing within the deadline
    tls_error,  ///< the handshake failed (alert or verification)
  };
  kind what = kind::ok;
  int status = 0;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  std::string raw;         ///< every byte received after the handshake
  std::string detail;      ///< OpenSSL's reason, errno text
  long verify_result = 0;  ///< X509_V_OK or the verification error
  std::string tls_version;
};
const char* to_string(outcome::kind k);

struct client_options {
  std::string sni = "directregistration.fortinet.com";
  std::string ca;           ///< verify against this CA (PEM path); empty: do not verify
  std::string verify_name;  ///< host name to check, defaults to sni
  int max_tls = 0;          ///< e.g. TLS1_2_VERSION
  std::chrono::milliseconds timeout{5000};
};

/// A keep-alive connection: connect, handshake, then any number of requests.
class client {
 public:
  explicit client(std::uint16_t port, client_options opts = {});
  ~client();
  client(const client&) = delete;
  /// The result of connecting and the TLS handshake.
  const outcome& connected() const { return connect_; }
  bool ok() const { return connect_.what == outcome::kind::ok; }
  outcome request(const std::string& method, const std::string& target, const std::string& body,
                  const std::string& extra_headers = "");
  outcome post(const std::string& body, const std::string& target = "/SoftToken/Provisioning.asmx/Process") {
    return request("POST", target, body);
  }
  /// Sends raw bytes over TLS and reads until close or timeout.
  outcome raw_exchange(const std::string& bytes);
  /// Sends raw bytes over TLS without reading; false if the write failed.
  bool send_raw(const std::string& bytes);
  /// Reads at least `n` bytes of what the server sends, within the timeout: false if fewer came.
  bool read_at_least(std::size_t n);
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  void* ssl_ctx_ = nullptr;
  void* ssl_ = nullptr;
  outcome connect_;
  client_options opts_;
};

/// One request on a new connection.
outcome post_once(std::uint16_t port, const std::string& body, client_options opts = {});
/// A plain-HTTP call to the control API; returns {status, body}.
std::pair<int, std::string> control(std::uint16_t admin_port, const std::string& method, const std::string& target,
                                    const std::string& body = "");
/// Sends `request` (whole, headers and body) to the control API on a new connection: {status, body}.
std::optional<std::pair<int, std::string>> control_raw(std::uint16_t admin_port, const std::string& request);
/// The same without assertions (safe on any thread): nothing if it could not be reached.
std::optional<std::pair<int, std::string>> try_control(std::uint16_t admin_port, const std::string& method,
                                                       const std::string& target, const std::string& body = "");
/// A keep-alive connection to the control API: one socket, any number of calls.
class control_connection {
 public:
  explicit control_connection(std::uint16_t admin_port);
  ~control_connection();
  control_connection(const control_connection&) = delete;
  control_connection& operator=(const control_connection&) = delete;
  bool connected() const { return fd_ >= 0; }
  /// Sends one request; the reply's {status, body}, or nothing if none came within `timeout`.
  std::optional<std::pair<int, std::string>> call(const std::string& method, const std::string& target,
                                                  const std::string& body = "",
                                                  std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Sends a request without waiting for its reply; `receive` reads it later.
  void send(const std::string& method, const std::string& target, const std::string& body = "");
  std::optional<std::pair<int, std::string>> receive(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string buffer_;
};

/// Connects to 127.0.0.1:port within `timeout` (a blocking socket whose reads and writes time out
/// after `timeout` too): the socket, or -errno.
int connect_loopback(std::uint16_t port, std::chrono::milliseconds timeout);
/// Connects, sends nothing, and waits for the server to close: the milliseconds that took, or
/// nothing if it was still open after `within`.
std::optional<long> ms_until_closed(std::uint16_t port, std::chrono::milliseconds within);
/// Connects with TCP only: 0, or the errno (ECONNREFUSED ...).
int tcp_connect_errno(std::uint16_t port);
/// Binds socket `fd` to 127.0.0.1 on a free port: the port.
std::uint16_t bind_loopback(int fd);
/// A loopback port nothing holds now (bound with `socket_type`, SOCK_STREAM or SOCK_DGRAM, then
/// closed): for "nothing listens there" and "a port free a moment ago".
std::uint16_t released_port(int socket_type);

/// OpenSSL's queued errors of this thread, in words ("; " between them), and clears them.
std::string ssl_reason();

}  // namespace fortisim::test
