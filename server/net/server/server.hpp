#pragma once
// The fortisim server: listeners on every thread (SO_REUSEPORT, one io_context each, as nginx),
// TLS, HTTP sessions that execute the engine's verdicts, the control API, signals. The Asio
// machinery stays behind this interface, so main.cpp and tests compile without it.

#include "server/core/control/control.hpp"
#include "server/core/engine/engine.hpp"
#include "server/net/io/config.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace fortisim::net {

class server {
 public:
  /// Loads certificates and binds every listener. Throws startup_error.
  server(server_config cfg, std::shared_ptr<core::engine> engine);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The bound addresses, e.g. "127.0.0.1:40123".
  std::string listen_address() const;
  std::optional<std::string> admin_address() const;
  /// Where the DNS responder answers (UDP and TCP), e.g. "127.0.0.1:40125"; none when it is off.
  std::optional<std::string> dns_address() const;
  std::uint16_t port() const;
  /// The CA certificate clients should trust ("" with a user-supplied --cert).
  std::string ca_path() const;
  /// The lab CA's SHA-256 fingerprint, as GET /ca?format=sha256 gives it ("" with --cert).
  std::string ca_sha256() const;

  /// Starts the threads and returns at once.
  void start();
  /// Blocks until stop() or SIGINT/SIGTERM.
  void wait();
  /// Stops at once: exchanges in flight are cut.
  void stop();
  /// Stops accepting, lets exchanges in flight finish (within drain_ms), then stops (SIGTERM).
  void drain();
  /// Reloads the scenario file (as SIGHUP does); returns the problems ("" when it took).
  std::string reload();
  /// A control-API call made in process (the C++ fixture's way in), answered exactly as the
  /// control listener answers it: the same routes, and a call that moves the listeners returns
  /// once every worker has followed (503 naming the failure otherwise). Call it after start().
  core::control_reply control(std::string_view method, std::string_view target, std::string_view body);

  struct impl;  ///< the Asio side, in impl.hpp

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace fortisim::net
