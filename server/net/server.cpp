#include "server/net/admin_access.hpp"
#include "server/net/server_impl.hpp"

#include <sys/resource.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace fortisim::net {

namespace {

std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown reason";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

/// SIGHUP reloads the scenario; SIGINT and SIGTERM stop the server.
asio::awaitable<void> signal_loop(server* srv, server::impl* s) {
  for (;;) {
    auto [ec, sig] = co_await s->signals->async_wait(use_nothrow);
    if (ec) co_return;
    if (sig != SIGHUP) {
      srv->drain();
      co_return;
    }
    try {
      s->reload();  // a failed reload changes nothing, and signals are still handled after it
    } catch (const std::exception& e) {
      s->engine->notice("reload", {{"ok", false}, {"problems", e.what()}});
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

}  // namespace

void log_failure(core::engine& engine, std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    engine.notice("bug", {{"what", std::string(what) + " ended with an exception"}, {"error", ex.what()}});
  } catch (...) {
    engine.notice("bug", {{"what", std::string(what) + " ended with a non-standard exception"}});
  }
}

tcp::endpoint parse_endpoint(const std::string& text, const char* option) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos)
    throw startup_error(std::string(option) + " " + text + ": expected ADDR:PORT, e.g. 127.0.0.1:8443 or [::]:443");
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) throw startup_error(std::string(option) + " " + text + ": \"" + host + "\" is not an IP address");
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    throw startup_error(std::string(option) + " " + text + ": the port must be a number from 0 to 65535");
  }
  return {address, static_cast<unsigned short>(port)};
}

server::impl::impl(server_config c, std::shared_ptr<core::engine> e)
    : cfg(std::move(c)), engine(std::move(e)), fault_certs(cfg.data_dir) {
  auto endpoint = parse_endpoint(cfg.listen, "--listen");
  if (cfg.admin && !cfg.admin->empty()) {
    admin_endpoint = parse_endpoint(*cfg.admin, "--admin");
    check_admin_exposure(*cfg.admin, admin_endpoint->address().is_loopback(), cfg.admin_token);
  }
  auto dns_options = dns_settings_of(cfg, endpoint);
  if (cfg.threads < 1) cfg.threads = 1;
  raise_descriptor_limit();
  load_certificates();
  std::vector<asio::io_context*> loops;
  for (int i = 0; i < cfg.threads; ++i) loops.push_back(&workers.emplace_back(std::make_unique<worker>())->ioc);
  accepted = std::vector<std::atomic<std::uint64_t>>(loops.size());
  listeners.emplace(loops, endpoint, [this](tcp::acceptor& a, std::size_t worker) {
    asio::co_spawn(a.get_executor(), accept_loop(this, &a, &accepted[worker]),
                   [this](std::exception_ptr e) { log_failure(*engine, e, "accept loop"); });
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
        reload();  // as SIGHUP: a failed reload changes nothing, and is logged
      } catch (const std::exception& e) {
        engine->notice("reload", {{"ok", false}, {"problems", e.what()}});
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
  constexpr rlim_t reserve = 64;  // listeners, the control API, the state, the log, TLS internals
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur > reserve && cfg.max_connections > limit.rlim_cur - reserve) {
    engine->notice("limit", {{"what", "--max-connections lowered to what the descriptor limit allows"},
                             {"max_connections", limit.rlim_cur - reserve},
                             {"asked", cfg.max_connections}});
    cfg.max_connections = limit.rlim_cur - reserve;
  }
}

void server::impl::load_certificates() {
  // TLS 1.2 and 1.3, the server's preference, session resumption (OpenSSL's server cache).
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  // An idle connection keeps no TLS record buffers (about 34 KiB each): 1,000 idle connections stay small.
  SSL_CTX_set_mode(tls.native_handle(), SSL_MODE_RELEASE_BUFFERS);
  std::string cert = cfg.cert.value_or(""), key = cfg.key.value_or("");
  if (cfg.cert.has_value() != cfg.key.has_value())
    throw startup_error("--cert and --key go together: give both, or neither to use the lab CA's certificate");
  if (!cfg.cert) {
    try {
      auto paths = ensure_lab_certs(cfg.data_dir);
      cert = paths.server_cert;
      key = paths.server_key;
      ca_path = paths.ca_cert;
    } catch (const std::exception& ex) {
      throw startup_error(std::string("cannot prepare the lab certificates: ") + ex.what() +
                          "; pass --data DIR with a writable folder, or --cert and --key");
    }
  }
  if (SSL_CTX_use_certificate_chain_file(tls.native_handle(), cert.c_str()) != 1)
    throw startup_error("cannot use the certificate " + cert + ": " + openssl_reason() +
                        "; give a PEM certificate (chain) with --cert");
  if (SSL_CTX_use_PrivateKey_file(tls.native_handle(), key.c_str(), SSL_FILETYPE_PEM) != 1)
    throw startup_error("cannot use the private key " + key + ": " + openssl_reason() +
                        "; give an unencrypted PEM key readable by fortisim with --key");
  if (SSL_CTX_check_private_key(tls.native_handle()) != 1)
    throw startup_error("the key " + key + " does not belong to the certificate " + cert);
}

std::string server::impl::reload() {
  auto loaded = core::load_scenario_file(cfg.scenario_path);
  if (!loaded.value) {
    std::string problems = loaded.describe();
    engine->notice("reload", {{"file", cfg.scenario_path},
                              {"ok", false},
                              {"problems", problems},
                              {"what", "refused: the last good scenario stays live"}});
    return problems;
  }
  try {
    engine->reload(std::make_shared<const core::scenario>(std::move(*loaded.value)));
  } catch (const std::exception& e) {  // its definitions could not be stored: nothing switched
    std::string problem = cfg.scenario_path + ": " + e.what() + "\n";
    engine->notice("reload", {{"file", cfg.scenario_path},
                              {"ok", false},
                              {"problems", problem},
                              {"what", "refused: the last good scenario stays live"}});
    return problem;
  }
  engine->notice("reload", {{"file", cfg.scenario_path}, {"ok", true}, {"seed", engine->current_scenario()->seed}});
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
std::string server::ca_path() const { return impl_->ca_path; }
std::string server::reload() { return impl_->reload(); }

void server::start() {
  auto& w0 = *impl_->workers.front();
  if (impl_->admin_acceptor)
    asio::co_spawn(w0.ioc, admin_accept_loop(impl_.get()),
                   [e = impl_->engine](std::exception_ptr ex) { log_failure(*e, ex, "control API"); });
  if (impl_->dns) impl_->dns->start();
  if (impl_->watch) impl_->watch->start();
  if (impl_->cfg.handle_signals) {
    impl_->signals.emplace(w0.ioc, SIGINT, SIGTERM, SIGHUP);
    asio::co_spawn(w0.ioc, signal_loop(this, impl_.get()),
                   [e = impl_->engine](std::exception_ptr ex) { log_failure(*e, ex, "signal handling"); });
  }
  impl_->listeners->threads_started();
  for (auto& w : impl_->workers) {
    auto* wp = w.get();
    impl_->threads.emplace_back([wp, engine = impl_->engine] {
      // Keep running while refusing: timers and the control API still need the loop.
      auto guard = asio::make_work_guard(wp->ioc);
      run_guarded(wp->ioc, *engine);
    });
  }
}

void server::wait() {
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
}

void server::stop() { impl_->stop_loops(); }

void server::drain() { impl_->drain(); }

void server::impl::stop_loops() {
  for (auto& w : workers) w->ioc.stop();
}

void server::impl::drain() {
  if (draining.exchange(true)) return;
  engine->notice("stopping", {{"in_flight", in_flight.load()}, {"drain_ms", cfg.drain_ms}});
  listeners->refuse(0);  // new connections are refused from here on
  if (in_flight.load() == 0) return stop_loops();
  // The last exchange to finish stops the loops (session.cpp); this deadline, if none does.
  asio::post(workers.front()->ioc, [this] {
    drain_deadline.emplace(workers.front()->ioc, std::chrono::milliseconds(cfg.drain_ms));
    drain_deadline->async_wait([this](boost::system::error_code ec) {
      if (!ec) stop_loops();
    });
  });
}

}  // namespace fortisim::net
