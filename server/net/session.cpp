// One connection's life, as a coroutine that owns it: the engine's connection-stage verdict,
// then (when the scenario has TLS rules) a peek at the ClientHello for the TLS-stage verdict,
// the handshake, and HTTP/1.1 keep-alive requests, each answered or faulted as the engine says.

#include "server/net/client_hello.hpp"
#include "server/net/server_impl.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>

#include <random>

namespace fortisim::net {

namespace beast = boost::beast;
namespace http = beast::http;
using std::chrono::milliseconds;

namespace {

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

asio::awaitable<void> sleep_for(std::int64_t ms) {
  asio::steady_timer t(co_await asio::this_coro::executor, milliseconds(ms));
  co_await t.async_wait(use_nothrow);
}

/// Cancels a socket's pending operations after a deadline, for waits that a stream's own expiry
/// does not cover. Safe when the timer's handler is already queued as the owner goes away: the
/// shared state tells it not to touch the socket.
class socket_deadline {
 public:
  socket_deadline(const asio::any_io_executor& ex, tcp::socket& socket, std::int64_t ms)
      : timer_(ex, milliseconds(ms)), state_(std::make_shared<state>()) {
    timer_.async_wait([&socket, st = state_](boost::system::error_code ec) {
      if (ec || st->done) return;
      st->expired = true;
      socket.cancel();
    });
  }
  ~socket_deadline() {
    state_->done = true;
    timer_.cancel();
  }
  bool expired() const { return state_->expired; }

 private:
  struct state {
    bool done = false;
    bool expired = false;
  };
  asio::steady_timer timer_;
  std::shared_ptr<state> state_;
};

/// Holds a connection open without answering until `ms` pass (0: a day) or the peer closes;
/// whatever the peer sends is read and dropped.
asio::awaitable<void> hold_silently(tcp::socket& socket, std::int64_t ms) {
  socket_deadline deadline(co_await asio::this_coro::executor, socket, ms > 0 ? ms : 24LL * 3600 * 1000);
  char sink[4096];
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), use_nothrow);
    if (ec) break;
  }
}

void reset(tcp::socket& socket) {
  boost::system::error_code ec;
  socket.set_option(asio::socket_base::linger(true, 0), ec);  // close sends RST
  socket.close(ec);
}

std::uint8_t alert_code(const std::string& name) {
  static const std::map<std::string, std::uint8_t, std::less<>> codes{
      {"handshake_failure", 40}, {"protocol_version", 70}, {"internal_error", 80}, {"unrecognized_name", 112},
      {"access_denied", 49}, {"insufficient_security", 71}, {"decode_error", 50}, {"illegal_parameter", 47}};
  auto it = codes.find(name);
  return it == codes.end() ? 40 : it->second;
}

int tls_version_number(const std::string& v) {
  if (v == "1.0") return TLS1_VERSION;
  if (v == "1.1") return TLS1_1_VERSION;
  if (v == "1.2") return TLS1_2_VERSION;
  return TLS1_3_VERSION;
}

/// Peeks at the ClientHello without consuming it (the handshake reads it again), within
/// `timeout_ms`.
asio::awaitable<client_hello_info> peek_client_hello(beast::tcp_stream& tcp, std::int64_t timeout_ms) {
  auto& socket = tcp.socket();
  std::string buf(16 * 1024 + 5, '\0');
  client_hello_info info;
  socket_deadline deadline(co_await asio::this_coro::executor, socket, timeout_ms);
  while (info.status == client_hello_info::state::need_more && !deadline.expired()) {
    auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, use_nothrow);
    if (ec) break;
    boost::system::error_code rec;
    std::size_t n = socket.receive(asio::buffer(buf), tcp::socket::message_peek, rec);
    if (rec || n == 0) break;
    info = parse_client_hello(std::string_view(buf.data(), n));
    if (info.status == client_hello_info::state::need_more) co_await sleep_for(5);  // the rest is on its way
  }
  co_return info;
}

/// Consumes the peeked ClientHello, so that closing does not reset the connection.
void consume(tcp::socket& socket, std::size_t bytes) {
  std::string sink(bytes, '\0');
  boost::system::error_code ec;
  asio::read(socket, asio::buffer(sink), ec);
}

/// The response's bytes as a client would receive them, for the faults that bend them.
std::string raw_response(const core::http_outcome& o, std::uint64_t content_length) {
  std::string head = "HTTP/1.1 " + std::to_string(o.status) + " " +
                     std::string(http::obsolete_reason(static_cast<http::status>(o.status))) + "\r\n";
  head += "Content-Type: " + o.content_type + "\r\n";
  head += "Content-Length: " + std::to_string(content_length) + "\r\n\r\n";
  return head;
}

struct session_state {
  server::impl* s;
  std::string client;
  std::uint64_t connection = 0;
  std::string sni;
};

/// Serves requests on an established TLS stream until the client or a fault ends it. Returns
/// whether the TLS session may be shut down cleanly (not after a reset or a hang).
asio::awaitable<bool> serve_http(tls_stream& stream, session_state& st) {
  const auto& cfg = st.s->cfg;
  auto& engine = *st.s->engine;
  auto& tcp = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(cfg.body_limit);
    parser.header_limit(16 * 1024);
    tcp.expires_after(milliseconds(cfg.idle_timeout_ms));
    // The header first: a client that sent "Expect: 100-continue" (curl does for bodies over
    // 1 KiB) waits for our go-ahead before it sends the body, as IIS gives it.
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
    if (!ec && !parser.is_done()) {
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        static constexpr std::string_view go_ahead = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(go_ahead), use_nothrow);
        ec = wec;
      }
      if (!ec) std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, use_nothrow);
    }
    if (ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated || ec == beast::error::timeout ||
        ec == asio::error::eof || ec == asio::error::connection_reset)
      co_return true;
    if (ec) {
      // A request that cannot be parsed gets an HTTP error, is journaled, and ends the connection.
      bool too_big = ec == http::error::body_limit;
      bool headers_too_big = ec == http::error::header_limit;
      engine.note("http", st.connection, st.client, std::string("bad request: ") + ec.message());
      res = {};
      res.result(too_big ? http::status::payload_too_large
                 : headers_too_big ? http::status::request_header_fields_too_large
                                   : http::status::bad_request);
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.set(http::field::connection, "close");
      res.body() = std::string(too_big || headers_too_big ? "request too large: " : "bad request: ") + ec.message() + "\n";
      res.prepare_payload();
      tcp.expires_after(milliseconds(cfg.write_timeout_ms));
      co_await http::async_write(stream, res, use_nothrow);
      co_return true;
    }
    auto& req = parser.get();
    core::http_outcome o = engine.handle({req.method_string(), req.target(), req.body(), st.client, st.sni, st.connection});
    if (o.delay_ms > 0) co_await sleep_for(o.delay_ms);
    tcp.expires_after(milliseconds(cfg.write_timeout_ms));
    switch (o.fault) {
      case core::action_kind::close: co_return true;
      case core::action_kind::reset: reset(tcp.socket()); co_return false;
      case core::action_kind::hang: co_await hold_silently(tcp.socket(), o.for_ms); co_return false;
      case core::action_kind::garbage: {
        std::mt19937_64 rng(o.garbage_seed);
        std::string junk(o.bytes, '\0');
        for (auto& c : junk) c = static_cast<char>(rng() & 0xff);
        co_await asio::async_write(stream, asio::buffer(junk), use_nothrow);
        co_return true;
      }
      case core::action_kind::truncate: {
        std::string raw = raw_response(o, o.body.size()) + o.body.substr(0, std::min<std::size_t>(o.bytes, o.body.size()));
        co_await asio::async_write(stream, asio::buffer(raw), use_nothrow);
        co_return true;
      }
      case core::action_kind::lie_length: {
        std::string raw = raw_response(o, o.content_length) + o.body;
        co_await asio::async_write(stream, asio::buffer(raw), use_nothrow);
        co_return true;
      }
      case core::action_kind::dribble: {
        std::string raw = raw_response(o, o.body.size()) + o.body;
        // A tenth of a second's worth at a time.
        std::size_t chunk = std::max<std::size_t>(1, o.bytes / 10);
        auto pause = std::max<std::int64_t>(1, static_cast<std::int64_t>(chunk * 1000 / o.bytes));
        for (std::size_t at = 0; at < raw.size(); at += chunk) {
          tcp.expires_after(milliseconds(cfg.write_timeout_ms));
          auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(raw.data() + at, std::min(chunk, raw.size() - at)), use_nothrow);
          if (wec) co_return false;
          if (at + chunk < raw.size()) co_await sleep_for(pause);
        }
        break;
      }
      default: {
        res = {};
        res.result(static_cast<http::status>(o.status));
        res.version(req.version());
        res.set(http::field::content_type, o.content_type);
        if (!o.allow.empty()) res.set(http::field::allow, o.allow);
        res.body() = std::move(o.body);
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        auto [wec, wn] = co_await http::async_write(stream, res, use_nothrow);
        if (wec) co_return false;
      }
    }
    if (!req.keep_alive()) co_return true;
  }
}

}  // namespace

asio::awaitable<void> listeners_settled(server::impl* s) {
  for (int waited = 0; waited < 2000; ++waited) {
    int want = 0;
    {
      std::lock_guard lock(s->listen_mutex);
      want = s->listening ? static_cast<int>(s->workers.size()) : 0;
    }
    if (s->open_listeners.load() == want) co_return;
    co_await sleep_for(1);
  }
}

asio::awaitable<void> accept_loop(server::impl* s, tcp::acceptor* acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(use_nothrow);
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;  // refusing or stopping
    if (ec) {
      // Out of descriptors and the like: wait a moment rather than spin.
      co_await sleep_for(50);
      continue;
    }
    asio::co_spawn(acceptor->get_executor(), run_session(std::move(socket), s),
                   [](std::exception_ptr e) { log_failure(e, "session"); });
  }
}

asio::awaitable<void> run_session(tcp::socket socket, server::impl* s) {
  session_state st{s, {}, 0, {}};
  boost::system::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  if (ec) co_return;  // already gone
  st.client = peer.address().to_string();
  auto& engine = *s->engine;
  socket.set_option(tcp::no_delay(true), ec);

  auto verdict = engine.on_connection(st.client);
  st.connection = verdict.connection;
  switch (verdict.act.kind) {
    case core::action_kind::reset: reset(socket); co_return;
    case core::action_kind::hang: co_await hold_silently(socket, verdict.act.for_ms); co_return;
    case core::action_kind::refuse:
      // Later connections are refused (once every worker stopped listening); this one, already
      // accepted, is reset.
      s->refuse(verdict.act.for_ms);
      co_await listeners_settled(s);
      reset(socket);
      co_return;
    default: break;
  }

  beast::tcp_stream tcp(std::move(socket));
  core::stage_verdict tls_verdict;
  if (engine.has_tls_rules()) {
    auto hello = co_await peek_client_hello(tcp, s->cfg.handshake_timeout_ms);
    if (hello.status != client_hello_info::state::complete) {
      engine.note("tls", st.connection, st.client, "no TLS ClientHello");
      co_return;
    }
    st.sni = hello.sni;
    tls_verdict = engine.on_client_hello(st.client, st.connection, st.sni);
    switch (tls_verdict.act.kind) {
      case core::action_kind::tls_alert: {
        consume(tcp.socket(), hello.record_bytes);
        // A fatal alert record (TLS 1.2 framing, as servers answer a ClientHello).
        const std::uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, alert_code(tls_verdict.act.alert)};
        tcp.expires_after(milliseconds(s->cfg.write_timeout_ms));
        co_await asio::async_write(tcp, asio::buffer(alert), use_nothrow);
        tcp.socket().shutdown(tcp::socket::shutdown_send, ec);
        tcp.expires_after(milliseconds(1000));
        char sink[512];
        co_await tcp.async_read_some(asio::buffer(sink), use_nothrow);  // let the client close first
        co_return;
      }
      case core::action_kind::reset: reset(tcp.socket()); co_return;
      case core::action_kind::hang:
      case core::action_kind::tls_stall:
        consume(tcp.socket(), hello.record_bytes);
        co_await hold_silently(tcp.socket(), tls_verdict.act.for_ms);
        co_return;
      default: break;
    }
  }

  tls_stream stream(std::move(tcp), s->tls);
  SSL* ssl = stream.native_handle();
  if (tls_verdict.act.kind == core::action_kind::tls_cert) {
    const auto& bad = s->fault_cert(tls_verdict.act.cert);
    SSL_use_certificate(ssl, bad.cert.get());
    SSL_use_PrivateKey(ssl, bad.key.get());
  } else if (tls_verdict.act.kind == core::action_kind::tls_version) {
    int lo = TLS1_3_VERSION, hi = TLS1_VERSION;
    for (const auto& v : tls_verdict.act.versions) {
      lo = std::min(lo, tls_version_number(v));
      hi = std::max(hi, tls_version_number(v));
    }
    if (lo < TLS1_2_VERSION) {
      SSL_set_security_level(ssl, 0);  // OpenSSL 3 refuses TLS 1.0/1.1 above level 0
      SSL_set_cipher_list(ssl, "DEFAULT:@SECLEVEL=0");
    }
    SSL_set_min_proto_version(ssl, lo);
    SSL_set_max_proto_version(ssl, hi);
  }
  beast::get_lowest_layer(stream).expires_after(milliseconds(s->cfg.handshake_timeout_ms));
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, use_nothrow);
  if (hec) {
    engine.note("tls", st.connection, st.client, "handshake failed: " + hec.message());
    co_return;
  }
  if (st.sni.empty())
    if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) st.sni = name;

  if (!co_await serve_http(stream, st)) co_return;
  beast::get_lowest_layer(stream).expires_after(milliseconds(2000));
  co_await stream.async_shutdown(use_nothrow);
}

}  // namespace fortisim::net
