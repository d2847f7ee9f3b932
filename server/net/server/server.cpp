#include "server/net/admin/access.hpp"
#include "server/net/admin/session.hpp"
#include "server/net/io/endpoint.hpp"
#include "server/net/io/log_failure.hpp"
#include "server/net/server/impl.hpp"
#include "server/net/server/signals.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <sys/resource.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <latch>
#include <memory>
#include <mutex>

namespace fortisim::net {

namespace {

/// SIGHUP reloads the scenario; SIGINT and SIGTERM stop the server.
task<> signal_loop(server* srv, server::impl* s) {
  for (;;) {
    auto [ec, sig] = co_await s->signals->async_wait(use_nothrow);
    if (ec) co_return;
    if (sig != SIGHUP) {
      srv->drain();
      co_return;
    }
    try {
      s->reload_alone();  // a failed reload changes nothing, and signals are still handled after it
    } catch (const std::exception& e) {
      s->engine->notice("reload", {{"ok", false}, {"problems", protocol::json::array({e.what()})}});
    }
  }
}

/// Runs a worker's loop until it is stopped. Sessions catch what they can throw; anything that
/// still escapes a handler is a bug: it is logged and the loop runs on, so one request can never
/// take the server down.
void run_guarded(asio::io_context& ioc, core::engine& engine) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      engine.notice("bug", {{"what", "a handler threw out of the event loop; the loop goes on"}, {"error", e.what()}});
    } catch (...) {
      engine.notice("bug",
                    {{"what", "a handler threw a non-standard exception out of the event loop; the loop goes on"}});
    }
  }
}

/// Hands the listeners' settled() verdict to a thread that is not a worker.
task<> settle_into(listener_set* listeners, std::shared_ptr<std::promise<std::string>> out) {
  out->set_value(co_await listeners->settled());
}

}  // namespace

server::impl::impl(server_config c, std::shared_ptr<core::engine> e) : service(std::move(c), std::move(e)) {
  auto endpoint = parse_endpoint(cfg.listen, "--listen");
  if (cfg.admin && !cfg.admin->empty()) {
    admin_endpoint = parse_endpoint(*cfg.admin, "--admin");
    check_admin_exposure(*cfg.admin, admin_endpoint->address().is_loopback(), cfg.admin_token);
  }
  auto dns_options = dns_settings_of(cfg, endpoint);
  if (cfg.threads < 1) cfg.threads = 1;
  // Absolute, so that every surface (the ready line, the log's tls event, GET /status) names the
  // same file whatever folder its reader runs in.
  for (auto* path : {&cfg.data_dir, cfg.cert ? &*cfg.cert : nullptr, cfg.key ? &*cfg.key : nullptr})
    if (path && !path->empty()) *path = std::filesystem::absolute(*path).lexically_normal().string();
  raise_descriptor_limit();
  contexts.emplace(tls.native_handle(), tls_options{cfg.cert, cfg.key, cfg.data_dir, cfg.lab_key, cfg.client_cert},
                   engine);
  std::vector<asio::io_context*> loops;
  for (int i = 0; i < cfg.threads; ++i) loops.push_back(&workers.emplace_back(std::make_unique<worker>())->ioc);
  accepted = std::vector<std::atomic<std::uint64_t>>(loops.size());
  listeners.emplace(loops, endpoint, [this](tcp::acceptor& a, std::size_t worker) {
    asio::co_spawn(workers[worker]->ioc, accept_loop(this, &a, &accepted[worker]),
                   [this](std::exception_ptr e) { log_failure(*engine, e, "accept loop"); });
  });
  listeners->on_refuse_ended([e = engine.get()] {
    e->notice("listener", {{"listening", true}, {"reason", "refuse ended"}});
  });
  // A control call waiting for the listener's state (GET /status?listening=...) asks again.
  listeners->on_applied([e = engine.get()] { e->journal().nudge(); });
  // A connection still in the backlog as the listener stops: numbered, counted and journaled as
  // one closed on accept (the kernel reset it unseen).
  listeners->on_backlog_reset([this](const tcp::endpoint& peer, std::size_t worker, bool for_good) {
    accepted[worker].fetch_add(1, std::memory_order_relaxed);
    engine->turn_away(peer.address().to_string(), for_good ? "reset (RST): it waited to be accepted as fortisim stopped"
                                                           : "reset (RST): it waited to be accepted as the listener "
                                                             "stopped (new connections refused)");
  });
  if (admin_endpoint) {
    admin_acceptor.emplace(workers.front()->ioc);
    bind_socket(*admin_acceptor, *admin_endpoint, "--admin", false);
    admin_acceptor->listen();
    admin_endpoint = admin_acceptor->local_endpoint();
  }
  if (dns_options) dns.emplace(workers.front()->ioc, std::move(*dns_options), engine);
  if (cfg.watch)
    watch.emplace(workers.front()->ioc, cfg.scenario_path, engine, [this] {
      try {
        reload_alone();  // as SIGHUP: a failed reload changes nothing, and is logged
      } catch (const std::exception& e) {
        engine->notice("reload", {{"ok", false}, {"problems", protocol::json::array({e.what()})}});
      }
    });
  listeners->begin(engine->refuse_first_ms());  // listening, unless the scenario refuses from the start
}

void server::impl::raise_descriptor_limit() {
  // Each connection takes a descriptor: use what the system allows (as nginx's
  // worker_rlimit_nofile), and never promise more connections than descriptors.
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  // Listeners, the state, the log, TLS internals, and the control API's own connections.
  constexpr rlim_t reserve = 64 + admin_connection_limit;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur > reserve && cfg.max_connections > limit.rlim_cur - reserve) {
    engine->notice("limit", {{"what", "--max-connections lowered to what the descriptor limit allows"},
                             {"max_connections", limit.rlim_cur - reserve},
                             {"asked", cfg.max_connections}});
    cfg.max_connections = limit.rlim_cur - reserve;
  }
}

std::string server::impl::reload(bool from_start) {
  auto refused = [&](const std::string& problems, const char* what) {
    engine->notice("reload", {{"file", cfg.scenario_path},
                              {"ok", false},
                              {"problems", core::engine::problem_lines(problems)},
                              {"what", what}});
  };
  std::string problems;
  try {
    problems = reload_file(from_start);
  } catch (const core::storage_error& e) {  // nothing switched: answered 503, as any write that fails
    engine->record_reload(cfg.scenario_path, cfg.scenario_path + ": " + e.what());
    refused(cfg.scenario_path + ": " + e.what(), "the state could not be written: the last good scenario stays live");
    throw;
  }
  auto warnings = problems.empty() ? engine->world().held_pins() : std::vector<std::string>{};
  // Recorded before it is logged: whoever reads the log line finds it in GET /status already.
  engine->record_reload(cfg.scenario_path, problems, warnings);
  if (problems.empty() && warnings.empty())
    engine->notice("reload", {{"file", cfg.scenario_path}, {"ok", true}, {"seed", engine->current_scenario()->seed}});
  else if (problems.empty())
    engine->notice("reload", {{"file", cfg.scenario_path},
                              {"ok", true},
                              {"seed", engine->current_scenario()->seed},
                              {"warnings", warnings}});
  else
    refused(problems, "refused: the last good scenario stays live");
  return problems;
}

std::string server::impl::switch_scenario(const std::string& path, bool from_start) {
  auto previous = cfg.scenario_path;
  cfg.scenario_path = path;
  std::string problems;
  try {
    problems = reload(from_start);
  } catch (...) {
    cfg.scenario_path = previous;
    throw;
  }
  if (!problems.empty()) cfg.scenario_path = previous;  // the last good scenario, and its file, stay
  return problems;
}

std::string server::impl::reload_file(bool from_start) {
  auto loaded = core::load_scenario_file(cfg.scenario_path);
  if (!loaded.value) return loaded.describe();
  try {
    engine->reload(std::make_shared<const core::scenario>(std::move(*loaded.value)), from_start);
  } catch (const core::storage_error&) {
    throw;                             // not the file's fault: the caller answers it as a failed write
  } catch (const std::exception& e) {  // its definitions clash with the world: nothing switched
    return cfg.scenario_path + ": " + e.what() + "\n";
  }
  listeners->begin(engine->refuse_first_ms());  // a reload ends a "refuse until told otherwise"
  return {};
}

server::server(server_config cfg, std::shared_ptr<core::engine> engine)
    : impl_(std::make_unique<impl>(std::move(cfg), std::move(engine))) {}

server::~server() {
  stop();
  wait();
}

std::string server::listen_address() const { return endpoint_text(impl_->listeners->endpoint()); }
std::optional<std::string> server::admin_address() const {
  if (!impl_->admin_endpoint) return std::nullopt;
  return endpoint_text(*impl_->admin_endpoint);
}
std::optional<std::string> server::dns_address() const {
  if (!impl_->dns) return std::nullopt;
  return endpoint_text(impl_->dns->endpoint());
}
std::uint16_t server::port() const { return impl_->listeners->endpoint().port(); }
std::string server::ca_path() const { return impl_->contexts->ca_path(); }
std::string server::ca_sha256() const { return impl_->contexts->ca_sha256(); }
std::string server::reload() { return impl_->reload_alone(); }

protocol::json server::impl::addresses() const {
  using protocol::json;
  return {{"https", endpoint_text(listeners->endpoint())},
          {"dns", dns ? json(endpoint_text(dns->endpoint())) : json(nullptr)},
          {"admin", admin_endpoint ? json(endpoint_text(*admin_endpoint)) : json(nullptr)}};
}

std::string server::impl::reload_alone() {
  std::lock_guard one_change(engine->admin_mutex());
  return reload();
}

namespace {

/// A control call made in process, asked again after each new journal entry or nudge while it
/// waits (wait_ms), until it answers or its time is up.
core::control_reply wait_for_journal(core::engine& engine, core::server_control& server, std::string_view method,
                                     std::string_view target, std::string_view body) {
  auto ask = [&](bool may_wait) { return core::handle_control(engine, server, method, target, body, may_wait); };
  auto& journal = engine.journal();
  std::mutex mutex;
  std::condition_variable grew;
  core::journal::watching watch(journal, [&] {  // unwatched before `mutex` and `grew` go, however this ends
    std::lock_guard lock(mutex);
    grew.notify_all();
  });
  auto seen = journal.changes();  // after watching: a nudge before it would be missed
  auto reply = ask(true);
  if (reply.wait_ms == 0) return reply;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(reply.wait_ms);
  while (reply.wait_ms != 0 && std::chrono::steady_clock::now() < deadline) {
    {
      std::unique_lock lock(mutex);
      grew.wait_until(lock, deadline, [&] { return journal.changes() != seen; });
    }
    seen = journal.changes();
    reply = ask(true);
  }
  return reply.wait_ms == 0 ? reply : ask(false);
}

}  // namespace

core::control_reply server::control(std::string_view method, std::string_view target, std::string_view body) {
  auto reply = wait_for_journal(*impl_->engine, *impl_, method, target, body);
  if (!reply.listeners_changed) return reply;
  auto settled = std::make_shared<std::promise<std::string>>();
  auto verdict = settled->get_future();
  asio::co_spawn(impl_->workers.front()->ioc, settle_into(&*impl_->listeners, settled), asio::detached);
  // settled() gives up by itself after 5 s; this bound only guards a server that is not running.
  std::string failure = "the listeners did not answer within 10 s (is the server started?)";
  if (verdict.wait_for(std::chrono::seconds(10)) == std::future_status::ready) failure = verdict.get();
  if (!failure.empty()) return {503, protocol::json{{"error", failure}}.dump()};
  return reply;
}

void server::start() {
  impl_->engine->notice("tls", impl_->contexts->summary());
  auto& w0 = *impl_->workers.front();
  if (impl_->admin_acceptor)
    asio::co_spawn(w0.ioc, admin_accept_loop(impl_.get(), &*impl_->admin_acceptor),
                   [e = impl_->engine](std::exception_ptr ex) { log_failure(*e, ex, "control API"); });
  if (impl_->dns) impl_->dns->start();
  if (impl_->watch) impl_->watch->start();
  if (impl_->cfg.handle_signals) {
    impl_->signals.emplace(w0.ioc, SIGINT, SIGTERM, SIGHUP);
    asio::co_spawn(w0.ioc, signal_loop(this, impl_.get()),
                   [e = impl_->engine](std::exception_ptr ex) { log_failure(*e, ex, "signal handling"); });
  }
  impl_->listeners->threads_started();
  // start() returns once every loop runs (what the ready line then says is settled, the loops'
  // signal masks too); the latch is shared, as a loop may still be leaving count_down() by then.
  auto running = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(impl_->workers.size()));
  for (auto& w : impl_->workers) {
    auto* wp = w.get();
    impl_->threads.emplace_back([wp, engine = impl_->engine, running, signals = impl_->cfg.handle_signals] {
      if (signals) mask_server_signals(SIG_UNBLOCK);  // the loops alone take them (signals.hpp)
      // Keep running while refusing: timers and the control API still need the loop.
      auto guard = asio::make_work_guard(wp->ioc);
      running->count_down();
      run_guarded(wp->ioc, *engine);
    });
  }
  running->wait();
}

void server::wait() {
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
  // An answer (or control call) still on the answering threads finishes before anything it uses
  // goes; one not started yet is dropped with its connection.
  impl_->answerers.reset();
}

void server::stop() { impl_->stop_loops(); }

void server::drain() { impl_->drain(); }

void server::impl::drain() {
  if (draining.exchange(true)) return;
  engine->notice("stopping", {{"in_flight", in_flight_count.load()}, {"drain_ms", cfg.drain_ms}});
  listeners->close();  // new connections are refused from here on, whatever asks to listen
  asio::co_spawn(workers.front()->ioc, stop_when_drained(),
                 [this](std::exception_ptr e) { log_failure(*engine, e, "drain"); });
}

task<> server::impl::stop_when_drained() {
  co_await listeners->settled();
  for (int round = 0; round < 2; ++round)  // an accept completed as its listener closed, then its session
    for (auto& w : workers) co_await asio::post(w->ioc.get_executor(), use_nothrow);
  if (in_flight_count.load() == 0) co_return stop_soon();
  // The last exchange to finish stops the loops (session.cpp); this deadline, if none does.
  drain_deadline.emplace(workers.front()->ioc, std::chrono::milliseconds(cfg.drain_ms));
  auto [ec] = co_await drain_deadline->async_wait(use_nothrow);
  if (!ec) stop_soon();
}

}  // namespace fortisim::net
