#pragma once
// Private to server/net: the Asio side of `server`. Included by server.cpp, session.cpp, admin.cpp.

#include "server/core/control.hpp"
#include "server/net/asio.hpp"
#include "server/net/dns.hpp"
#include "server/net/faults.hpp"
#include "server/net/listeners.hpp"
#include "server/net/scenario_watch.hpp"
#include "server/net/server.hpp"

#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace fortisim::net {

/// One thread's loop. Its listener (in the listener set) and its connections never leave it.
struct worker {
  asio::io_context ioc{1};
};

struct server::impl : core::listener_control {
  server_config cfg;
  std::shared_ptr<core::engine> engine;
  std::vector<std::unique_ptr<worker>> workers;  // before everything that lives on their loops
  std::vector<std::thread> threads;
  ssl::context tls{ssl::context::tls_server};  ///< the fallback context every connection starts from
  std::optional<tls_contexts> contexts;        ///< its certificates, the host contexts, the callbacks
  fault_certificates fault_certs;
  std::optional<listener_set> listeners;
  std::optional<tcp::acceptor> admin_acceptor;
  std::optional<tcp::endpoint> admin_endpoint;
  std::optional<asio::signal_set> signals;
  std::optional<dns_responder> dns;     ///< on worker 0's loop, when --dns is given
  std::optional<scenario_watch> watch;  ///< on worker 0's loop, with --watch

  // Draining (SIGTERM): requests being answered, and whether no new one may start.
  std::atomic<int> in_flight_count{0};
  std::atomic<bool> draining{false};
  std::optional<asio::steady_timer> drain_deadline;
  void drain();
  void stop_loops();

  impl(server_config c, std::shared_ptr<core::engine> e);
  void raise_descriptor_limit();
  void refuse(std::int64_t ms) override { listeners->refuse(ms); }
  void open() override { listeners->open(); }
  bool listening() const override { return listeners->listening(); }
  protocol::json worker_counts() const override {
    auto out = protocol::json::array();
    for (const auto& n : accepted) out.push_back({{"accepted", n.load()}});
    return out;
  }
  std::vector<std::atomic<std::uint64_t>> accepted;  ///< connections each worker's listener accepted
  std::int64_t in_flight() const override { return in_flight_count.load(); }
  std::string reload() override;
};

task<> accept_loop(server::impl* s, tcp::acceptor* acceptor, std::atomic<std::uint64_t>* accepted);
task<> run_session(tcp_socket socket, server::impl* s);
task<> admin_accept_loop(server::impl* s);
/// Logs a coroutine's escaping exception once (a bug: sessions handle their own errors).
void log_failure(core::engine& engine, std::exception_ptr e, const char* what);
/// "ADDR:PORT" or "[v6]:PORT" into an endpoint. Throws startup_error.
tcp::endpoint parse_endpoint(const std::string& text, const char* option);

}  // namespace fortisim::net
