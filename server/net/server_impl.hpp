#pragma once
// Private to server/net: the Asio side of `server`. Included by server.cpp, session.cpp, admin.cpp.

#include "server/core/control.hpp"
#include "server/net/certs.hpp"
#include "server/net/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace fortisim::net {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

/// For results we expect (end of stream, timeouts): errors as values, not exceptions.
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

/// One thread's share: its io_context and its own acceptor on the shared port (SO_REUSEPORT).
struct worker {
  asio::io_context ioc{1};
  std::optional<tcp::acceptor> acceptor;
};

struct server::impl : core::listener_control {
  server_config cfg;
  std::shared_ptr<core::engine> engine;
  tcp::endpoint endpoint;
  std::optional<tcp::endpoint> admin_endpoint;
  std::vector<std::unique_ptr<worker>> workers;
  std::vector<std::thread> threads;
  ssl::context tls{ssl::context::tls_server};
  std::string ca_path;
  std::optional<tcp::acceptor> admin_acceptor;
  std::optional<asio::signal_set> signals;

  // The listener's state: listening, or refusing (a bound socket that does not listen holds the
  // port, so clients get ECONNREFUSED) until a timer or open().
  std::mutex listen_mutex;
  bool listening = false;
  std::uint64_t refuse_generation = 0;
  std::optional<tcp::socket> placeholder;
  std::optional<asio::steady_timer> reopen_timer;
  std::atomic<int> open_listeners{0};  ///< workers whose acceptor listens right now

  // The tls_cert fault's certificates, made on first use.
  std::mutex fault_mutex;
  std::map<std::string, cert_and_key> fault_certs;
  std::optional<cert_and_key> lab_ca;

  impl(server_config c, std::shared_ptr<core::engine> e);
  void bind_all();
  void open_on(worker& w);
  void close_on(worker& w);
  void refuse(std::int64_t ms) override;
  void open() override;
  std::string reload() override;
  void schedule_reopen_locked(std::int64_t ms);
  void apply_refuse_first();
  const cert_and_key& fault_cert(const std::string& name);
};

asio::awaitable<void> accept_loop(server::impl* s, tcp::acceptor* acceptor);
asio::awaitable<void> run_session(tcp::socket socket, server::impl* s);
asio::awaitable<void> admin_accept_loop(server::impl* s);
/// Waits (up to 2 s, without blocking the thread) until every worker's listener is in the state
/// last asked for: after a refusal, no worker still accepts; after open(), all do.
asio::awaitable<void> listeners_settled(server::impl* s);
/// Logs a coroutine's escaping exception once (a bug: sessions handle their own errors).
void log_failure(std::exception_ptr e, const char* what);
/// "ADDR:PORT" or "[v6]:PORT" into an endpoint. Throws startup_error.
tcp::endpoint parse_endpoint(const std::string& text, const char* option);

}  // namespace fortisim::net
