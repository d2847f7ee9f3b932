#pragma once
// Private to server/net/server/: the Asio side of `server`: the HTTPS service and what surrounds it.

#include "server/net/dns/responder.hpp"
#include "server/net/https/service.hpp"
#include "server/net/server/scenario_watch.hpp"
#include "server/net/server/server.hpp"

#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace fortisim::net {

struct server::impl : service {
  std::vector<std::thread> threads;
  std::optional<tcp::acceptor> admin_acceptor;
  std::optional<tcp::endpoint> admin_endpoint;
  std::optional<asio::signal_set> signals;
  std::optional<dns_responder> dns;     ///< on worker 0's loop, when --dns is given
  std::optional<scenario_watch> watch;  ///< on worker 0's loop, with --watch
  std::optional<asio::steady_timer> drain_deadline;
  void drain();
  /// The drain's end, on worker 0's loop: once every worker has closed its listener (journaling its
  /// backlog) and run what it had queued (a connection accepted meanwhile starts its session, so
  /// it is journaled as the loops go), the loops stop, or once the exchanges in flight end.
  task<> stop_when_drained();

  impl(server_config c, std::shared_ptr<core::engine> e);
  void raise_descriptor_limit();
  /// Every reload (the control API's, SIGHUP's, --watch's): reload_file(), its outcome recorded
  /// for GET /status and logged.
  std::string reload() override { return reload(false); }
  std::string reload(bool from_start);
  std::string switch_scenario(const std::string& path, bool from_start) override;
  protocol::json addresses() const override;
  /// reload() under the engine's admin lock: for SIGHUP, --watch and server::reload, which do
  /// not come through the control API (which holds it already).
  std::string reload_alone();
  /// Loads the scenario file and switches to it; the problems ("" when it took).
  std::string reload_file(bool from_start);
};

}  // namespace fortisim::net
