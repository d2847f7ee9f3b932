// The control API's listener: plain HTTP/1.1 on loopback (--admin), carrying core::handle_control.

#include "server/net/deadline.hpp"
#include "server/net/server_impl.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace fortisim::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

asio::awaitable<void> admin_session(tcp::socket socket, server::impl* s) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(16 * 1024 + 4096);  // headers and trailers stay within the header limit
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(4 << 20);
    stream.expires_after(std::chrono::seconds(60));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_nothrow);
    if (ec) co_return;
    auto& req = parser.get();
    auto reply = core::handle_control(*s->engine, *s, req.method_string(), req.target(), req.body());
    if (reply.listeners_changed) {
      // A refusal or an opening holds on every worker before we answer; if one could not be
      // carried out (the port was taken meanwhile), the caller learns why.
      if (auto failure = co_await s->listeners->settled(); !failure.empty())
        reply = {503, protocol::json{{"error", failure}}.dump()};
    }
    http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(reply.body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res, use_nothrow);
    if (wec || !req.keep_alive()) co_return;
  }
}

}  // namespace

asio::awaitable<void> admin_accept_loop(server::impl* s) {
  for (;;) {
    auto [ec, socket] = co_await s->admin_acceptor->async_accept(use_nothrow);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      co_await sleep_for(50);  // out of descriptors and the like: back off rather than spin
      continue;
    }
    asio::co_spawn(s->admin_acceptor->get_executor(), admin_session(std::move(socket), s),
                   [s](std::exception_ptr e) { log_failure(*s->engine, e, "control session"); });
  }
}

}  // namespace fortisim::net
