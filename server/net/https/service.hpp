#pragma once
// The simulated HTTPS service as its sessions see it: the worker loops, the configuration, the
// engine, TLS, the wire faults' certificates and the listeners, with the counts that drain and
// the control API read. The server (server/net/server/) owns one and adds the control API, the
// DNS responder, signals and --watch around it.

#include "server/core/control/control.hpp"
#include "server/net/https/faults.hpp"
#include "server/net/io/asio.hpp"
#include "server/net/io/config.hpp"
#include "server/net/io/listeners.hpp"
#include "server/net/io/on_pool.hpp"
#include "server/net/tls/contexts.hpp"

#include <boost/asio/post.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

namespace fortisim::net {

/// One thread's loop. Its listener (in the listener set) and its connections never leave it.
struct worker {
  asio::io_context ioc{1};
};

/// What every HTTPS session shares. The server control it offers is the control API's view of
/// it; reloading belongs to whoever owns the scenario file.
struct service : core::server_control {
  service(server_config c, std::shared_ptr<core::engine> e)
      : cfg(std::move(c)), engine(std::move(e)), fault_certs(cfg.data_dir, cfg.lab_key) {
    if (engine->world().durable()) answerers.emplace(durable_answerers);
  }
  /// Its members go after this: a connection's coroutine destroyed with its loop must not stop
  /// the loops being destroyed.
  ~service() { torn_down = true; }

  server_config cfg;
  std::shared_ptr<core::engine> engine;
  std::vector<std::unique_ptr<worker>> workers;  // before everything that lives on their loops
  ssl::context tls{ssl::context::tls_server};    ///< the fallback context every connection starts from
  std::optional<tls_contexts> contexts;          ///< its certificates, the host contexts, the callbacks
  fault_certificates fault_certs;
  std::optional<listener_set> listeners;
  std::vector<std::atomic<std::uint64_t>> accepted;  ///< connections each worker's listener accepted
  /// With --state, the threads that answer requests: an answer waits for its change (and every
  /// change it read) to be on disk, and meanwhile the workers go on with their other connections,
  /// so up to this many changes wait together for one commit. After `workers`: joined first.
  static constexpr std::size_t durable_answerers = 64;
  std::optional<asio::thread_pool> answerers;

  // Draining (SIGTERM): requests being answered, and whether no new one may start.
  std::atomic<int> in_flight_count{0};
  std::atomic<bool> draining{false};
  std::atomic<bool> torn_down{false};
  /// Stops every worker's loop at once.
  void stop_loops() {
    if (torn_down) return;
    for (auto& w : workers) w->ioc.stop();
  }
  /// A drain's end (its last exchange, or its deadline): control calls still waiting (wait_ms) are
  /// woken to answer with the status as it stands, and worker 0's loop, which serves them, turns
  /// a few times to send their replies before the loops stop.
  std::atomic<bool> stopping{false};
  void stop_soon() {
    if (torn_down || stopping.exchange(true)) return;
    engine->journal().nudge();
    turn_then_stop(4);
  }
  void turn_then_stop(int turns) {
    if (turns == 0) return stop_loops();
    asio::post(workers.front()->ioc, [this, turns] { turn_then_stop(turns - 1); });
  }

  void refuse(std::int64_t ms) override { listeners->refuse(ms); }
  void open() override { listeners->open(); }
  void reset() override {
    engine->reset();
    listeners->begin(engine->refuse_first_ms());  // after a drain's close() it listens no more
  }
  bool listening() const override { return listeners->listening(); }
  bool listener_settled() const override { return listeners->settled_now(); }
  protocol::json worker_counts() const override {
    auto out = protocol::json::array();
    for (const auto& n : accepted) out.push_back({{"accepted", n.load()}});
    return out;
  }
  std::int64_t in_flight() const override { return in_flight_count.load(); }
  std::string lab_ca_pem() const override { return contexts->ca_pem(); }
  std::string ca_sha256() const override { return contexts->ca_sha256(); }
  std::string shipped_scenarios() const override { return cfg.shipped_scenarios; }
};

/// Accepts on one worker's listener until it closes, counting into `accepted`.
task<> accept_loop(service* s, tcp::acceptor* acceptor, std::atomic<std::uint64_t>* accepted);
/// One HTTPS connection, from the ClientHello to the last reply.
task<> run_session(tcp_socket socket, std::string client, service* s);

}  // namespace fortisim::net
