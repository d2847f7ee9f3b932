// The control API's listener: plain HTTP/1.1 (--admin, loopback by default), carrying
// core::handle_control, with the access rules of access.cpp; the routes core::route_kind marks as
// the listener's own (the web console's files, GET /events) are served by console.cpp.

#include "server/net/admin/session.hpp"
#include "server/net/admin/access.hpp"
#include "server/net/admin/console.hpp"
#include "server/net/io/deadline.hpp"
#include "server/net/io/linger.hpp"
#include "server/net/io/log_failure.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace fortisim::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::uint32_t header_limit = 16 * 1024;

core::control_reply json_reply(int status, const std::string& why) {
  return {status, protocol::json{{"error", why}}.dump()};
}

/// Answers a control call; one that waits for journal entries (wait_ms) is asked again after each
/// new entry, until it answers or its time is up, without holding the worker meanwhile.
task<core::control_reply> wait_for_journal(service* s, const http::request<http::string_body>& req) {
  auto ask = [&](bool may_wait) {
    return core::handle_control(*s->engine, *s, req.method_string(), req.target(), req.body(), may_wait);
  };
  auto& journal = s->engine->journal();
  auto seen = journal.last_seq();
  auto reply = ask(true);
  if (reply.wait_ms == 0) co_return reply;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(reply.wait_ms);
  auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(executor);
  // Recorded on a worker: the wake-up runs on this session's loop, where it cuts the wait short.
  core::journal::watching watch(journal, [executor, weak = std::weak_ptr(timer)] {
    asio::post(executor, [weak] {
      if (auto timer = weak.lock()) timer->cancel();
    });
  });
  while (reply.wait_ms != 0 && std::chrono::steady_clock::now() < deadline) {
    if (journal.last_seq() == seen) {  // else an entry came while we counted: count again at once
      timer->expires_at(deadline);
      co_await timer->async_wait(use_nothrow);
    }
    seen = journal.last_seq();
    reply = ask(true);
  }
  co_return reply.wait_ms == 0 ? reply : ask(false);
}

task<core::control_reply> answer(service* s, const http::request<http::string_body>& req) {
  if (auto refused = refuse_access(req, s->cfg.admin_token)) co_return *refused;
  auto reply = co_await wait_for_journal(s, req);
  if (reply.listeners_changed) {
    // A refusal or an opening holds on every worker before we answer; if one could not be
    // carried out (the port was taken meanwhile), the caller learns why.
    if (auto failure = co_await s->listeners->settled(); !failure.empty()) reply = json_reply(503, failure);
  }
  co_return reply;
}

task<bool> send(beast::tcp_stream& stream, core::control_reply reply, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
  res.set(http::field::content_type, reply.content_type);
  if (!reply.allow.empty()) res.set(http::field::allow, reply.allow);
  if (reply.status == 401) res.set(http::field::www_authenticate, "Bearer");
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(reply.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  stream.expires_after(std::chrono::seconds(30));
  auto [ec, n] = co_await http::async_write(stream, res, use_nothrow);
  co_return !ec && keep_alive;
}

task<> admin_session(tcp::socket socket, service* s) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(header_limit + 4096);  // headers and trailers stay within the header limit
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(4 << 20);
    stream.expires_after(std::chrono::seconds(60));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_nothrow);
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
        ec == asio::error::connection_reset)
      co_return;
    if (ec) {
      // A request that cannot be read gets a reason, and the connection ends.
      int status = ec == http::error::body_limit                                           ? 413
                   : ec == http::error::header_limit || ec == http::error::buffer_overflow ? 431
                                                                                           : 400;
      co_await send(stream, json_reply(status, "cannot read the request: " + ec.message()), 11, false);
      co_await linger(stream);
      co_return;
    }
    auto& req = parser.get();
    bool keep = false;
    switch (core::route_kind_of(req.method_string(), req.target())) {
      case core::route_kind::console_file: keep = co_await serve_console_file(stream, s, req); break;
      case core::route_kind::event_stream: keep = co_await serve_events(stream, s, req); break;
      case core::route_kind::api:
        keep = co_await send(stream, co_await answer(s, req), req.version(), req.keep_alive());
    }
    if (!keep) co_return;
  }
}

}  // namespace

task<> admin_accept_loop(service* s, tcp::acceptor* acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(use_nothrow);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      co_await sleep_for(50);  // out of descriptors and the like: back off rather than spin
      continue;
    }
    asio::co_spawn(co_await asio::this_coro::executor, admin_session(std::move(socket), s),
                   [s](std::exception_ptr e) { log_failure(*s->engine, e, "control session"); });
  }
}

}  // namespace fortisim::net
