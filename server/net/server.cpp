#include "server/net/server_impl.hpp"

#include <boost/asio/detail/socket_option.hpp>
#include <boost/asio/post.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <iostream>

namespace fortisim::net {

namespace {

using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

std::string endpoint_text(const tcp::endpoint& ep) {
  auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown reason";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

/// Binds (without listening) to `ep`. With `shared`, SO_REUSEPORT lets our own workers' sockets
/// share the port; the first bind of a port is never shared, so another server holding it is an
/// error rather than a silent split of the traffic.
void bind_socket(tcp::acceptor& a, const tcp::endpoint& ep, const char* option, bool shared) {
  boost::system::error_code ec;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && shared) a.set_option(reuse_port(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) return;
  std::string where = endpoint_text(ep);
  if (ec == boost::system::errc::permission_denied)
    throw startup_error("cannot listen on " + where + ": permission denied. Ports below 1024 need root or "
                        "CAP_NET_BIND_SERVICE (sudo setcap cap_net_bind_service=+ep <path to fortisim>); or pass " +
                        option + " with a port of 1024 or more (0 picks a free one)");
  if (ec == boost::system::errc::address_in_use)
    throw startup_error("cannot listen on " + where + ": the address is already in use. Stop the other server, or "
                        "pass " + option + " with another port (0 picks a free one)");
  if (ec == boost::system::errc::address_not_available)
    throw startup_error("cannot listen on " + where + ": no interface has that address; pass " + option +
                        " with an address of this machine, e.g. 127.0.0.1:8443");
  throw startup_error("cannot listen on " + where + ": " + ec.message());
}

}  // namespace

void log_failure(std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::cerr << "fortisim: " << what << " failed: " << ex.what() << std::endl;
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

server::impl::impl(server_config c, std::shared_ptr<core::engine> e) : cfg(std::move(c)), engine(std::move(e)) {
  endpoint = parse_endpoint(cfg.listen, "--listen");
  if (cfg.admin && !cfg.admin->empty()) admin_endpoint = parse_endpoint(*cfg.admin, "--admin");
  if (cfg.threads < 1) cfg.threads = 1;

  // TLS 1.2 and 1.3, the server's preference, session resumption (OpenSSL's server cache).
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
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

  for (int i = 0; i < cfg.threads; ++i) workers.push_back(std::make_unique<worker>());
  bind_all();
}

void server::impl::bind_all() {
  // A placeholder socket first: it learns the port when 0 was asked, and holds it while refusing.
  auto& w0 = *workers.front();
  {
    tcp::acceptor probe(w0.ioc);
    bind_socket(probe, endpoint, "--listen", false);
    endpoint = probe.local_endpoint();
  }
  tcp::acceptor holder(w0.ioc);
  bind_socket(holder, endpoint, "--listen", true);
  placeholder.emplace(w0.ioc);
  placeholder->assign(endpoint.protocol(), holder.release());
  if (admin_endpoint) {
    admin_acceptor.emplace(w0.ioc);
    bind_socket(*admin_acceptor, *admin_endpoint, "--admin", false);
    admin_acceptor->listen();
    admin_endpoint = admin_acceptor->local_endpoint();
  }
  // Listeners now, unless the scenario refuses from the start.
  std::lock_guard lock(listen_mutex);
  if (auto ms = engine->refuse_first_ms(); ms != 0) {
    ++refuse_generation;
    if (ms > 0) schedule_reopen_locked(ms);
    return;
  }
  for (auto& w : workers) open_on(*w);
  listening = true;
  placeholder.reset();
}

void server::impl::open_on(worker& w) {
  w.acceptor.emplace(w.ioc);
  bind_socket(*w.acceptor, endpoint, "--listen", true);
  w.acceptor->listen(asio::socket_base::max_listen_connections);
  ++open_listeners;
  asio::co_spawn(w.ioc, accept_loop(this, &*w.acceptor), [](std::exception_ptr e) { log_failure(e, "accept loop"); });
}

void server::impl::close_on(worker& w) {
  if (!w.acceptor) return;
  w.acceptor.reset();
  --open_listeners;
}

void server::impl::refuse(std::int64_t ms) {
  std::lock_guard lock(listen_mutex);
  ++refuse_generation;
  if (listening) {
    // Hold the port first, then stop every listener on its own thread.
    placeholder.emplace(workers.front()->ioc);
    boost::system::error_code ec;
    placeholder->open(endpoint.protocol(), ec);
    placeholder->set_option(tcp::socket::reuse_address(true), ec);
    placeholder->set_option(reuse_port(true), ec);
    placeholder->bind(endpoint, ec);
    for (auto& w : workers) {
      auto* wp = w.get();
      if (wp->ioc.get_executor().running_in_this_thread()) close_on(*wp);
      else asio::post(wp->ioc, [this, wp] { close_on(*wp); });
    }
    listening = false;
  }
  if (reopen_timer) reopen_timer->cancel();
  if (ms > 0) schedule_reopen_locked(ms);
}

void server::impl::schedule_reopen_locked(std::int64_t ms) {
  reopen_timer.emplace(workers.front()->ioc, std::chrono::milliseconds(ms));
  reopen_timer->async_wait([this, gen = refuse_generation](boost::system::error_code ec) {
    if (ec) return;
    {
      std::lock_guard lock(listen_mutex);
      if (gen != refuse_generation) return;
    }
    open();
  });
}

void server::impl::open() {
  std::lock_guard lock(listen_mutex);
  ++refuse_generation;
  if (listening) return;
  // At runtime a failed re-bind (another process took the port meanwhile) is logged, not thrown:
  // nothing but a bug may escape io_context::run(), and the control API stays up to retry.
  auto reopen = [this](worker& w) {
    try {
      open_on(w);
    } catch (const std::exception& e) {
      std::cerr << "fortisim: cannot listen again: " << e.what() << std::endl;
    }
  };
  for (auto& w : workers) {
    auto* wp = w.get();
    if (wp->ioc.get_executor().running_in_this_thread() || threads.empty()) reopen(*wp);
    else asio::post(wp->ioc, [reopen, wp] { reopen(*wp); });
  }
  listening = true;
  placeholder.reset();
}

std::string server::impl::reload() {
  auto loaded = core::load_scenario_file(cfg.scenario_path);
  if (!loaded.value) {
    std::string problems = loaded.describe();
    std::cerr << "fortisim: reload refused, the last good scenario stays live:\n" << problems << std::flush;
    return problems;
  }
  engine->reload(std::make_shared<const core::scenario>(std::move(*loaded.value)));
  std::cerr << "fortisim: reloaded " << cfg.scenario_path << " (seed " << engine->current_scenario()->seed << ")" << std::endl;
  apply_refuse_first();
  return {};
}

void server::impl::apply_refuse_first() {
  auto ms = engine->refuse_first_ms();
  if (ms != 0) refuse(ms > 0 ? ms : 0);
  else open();  // a reload ends a "refuse until told otherwise"
}

const cert_and_key& server::impl::fault_cert(const std::string& name) {
  std::lock_guard lock(fault_mutex);
  if (auto it = fault_certs.find(name); it != fault_certs.end()) return it->second;
  if (!lab_ca) {
    auto paths = ensure_lab_certs(cfg.data_dir);
    lab_ca = load_cert_and_key(paths.ca_cert, cfg.data_dir + "/ca-key.pem");
  }
  cert_and_key made;
  if (name == "wrong_name") made = make_server_cert(*lab_ca, {"wrong-name.fortisim.invalid"}, -3600, 86400);
  else if (name == "expired") made = make_server_cert(*lab_ca, lab_host_names(), -30 * 86400, -86400);
  else made = make_server_cert(make_ca("fortisim unknown CA", 1), lab_host_names(), -3600, 86400);
  return fault_certs.emplace(name, std::move(made)).first->second;
}

/// SIGHUP reloads the scenario; SIGINT and SIGTERM stop the server.
asio::awaitable<void> signal_loop(server* srv, server::impl* s) {
  for (;;) {
    auto [ec, sig] = co_await s->signals->async_wait(use_nothrow);
    if (ec) co_return;
    if (sig != SIGHUP) {
      srv->stop();
      co_return;
    }
    s->reload();
  }
}

server::server(server_config cfg, std::shared_ptr<core::engine> engine)
    : impl_(std::make_unique<impl>(std::move(cfg), std::move(engine))) {}

server::~server() {
  stop();
  wait();
}

std::string server::listen_address() const { return endpoint_text(impl_->endpoint); }
std::optional<std::string> server::admin_address() const {
  if (!impl_->admin_endpoint) return std::nullopt;
  return endpoint_text(*impl_->admin_endpoint);
}
std::uint16_t server::port() const { return impl_->endpoint.port(); }
std::string server::ca_path() const { return impl_->ca_path; }
std::string server::reload() { return impl_->reload(); }

void server::start() {
  auto& w0 = *impl_->workers.front();
  if (impl_->admin_acceptor)
    asio::co_spawn(w0.ioc, admin_accept_loop(impl_.get()), [](std::exception_ptr e) { log_failure(e, "control API"); });
  if (impl_->cfg.handle_signals) {
    impl_->signals.emplace(w0.ioc, SIGINT, SIGTERM, SIGHUP);
    asio::co_spawn(w0.ioc, signal_loop(this, impl_.get()), [](std::exception_ptr e) { log_failure(e, "signal handling"); });
  }
  for (auto& w : impl_->workers) {
    auto* wp = w.get();
    impl_->threads.emplace_back([wp] {
      // Keep running while refusing: timers and the control API still need the loop.
      auto guard = asio::make_work_guard(wp->ioc);
      wp->ioc.run();
    });
  }
}

void server::wait() {
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
}

void server::stop() {
  for (auto& w : impl_->workers) w->ioc.stop();
}

}  // namespace fortisim::net
