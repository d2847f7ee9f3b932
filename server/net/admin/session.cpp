// The control API's listener: plain HTTP/1.1 (--admin, loopback by default), carrying
// core::handle_control, with the access rules of access.cpp; the routes core::route_kind marks as
// the listener's own (the web console's files, GET /events) are served by console.cpp.

#include "server/net/admin/session.hpp"
#include "server/net/admin/access.hpp"
#include "server/net/admin/console.hpp"
#include "server/net/io/deadline.hpp"
#include "server/net/io/linger.hpp"
#include "server/net/io/log_failure.hpp"
#include "server/net/io/on_pool.hpp"
#include "server/net/io/request_framing.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <list>
#include <memory>
#include <tuple>

namespace fortisim::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::uint32_t header_limit = 16 * 1024;
constexpr std::uint64_t body_limit = 4 << 20;
/// How long a connection may wait before sending a request, then how long it has to send the
/// request line and headers, then the body (nginx: keepalive, client_header and client_body
/// timeouts).
constexpr auto idle_timeout = std::chrono::seconds(60);
constexpr auto header_deadline = std::chrono::seconds(5);
constexpr auto body_deadline = std::chrono::seconds(30);

core::control_reply json_reply(int status, const std::string& why) {
  return {status, protocol::json{{"error", why}}.dump()};
}

/// Answers a control call; one that waits (wait_ms: for journal entries, or requests in flight) is
/// asked again after each new entry or nudge, until it answers or its time is up, without holding
/// the worker meanwhile.
task<core::control_reply> wait_for_journal(service* s, const http::request<http::string_body>& req) {
  auto ask = [&](bool may_wait) {
    return core::handle_control(*s->engine, *s, req.method_string(), req.target(), req.body(), may_wait);
  };
  auto& journal = s->engine->journal();
  auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(executor);
  // Watching before the first ask: a nudge leaves no trace but its wake-up. Recorded on a worker,
  // the wake-up runs on this session's loop, where it cuts the wait short.
  core::journal::watching watch(journal, [executor, weak = std::weak_ptr(timer)] {
    asio::post(executor, [weak] {
      if (auto timer = weak.lock()) timer->cancel();
    });
  });
  auto seen = journal.changes();
  core::control_reply reply;
  auto first = [&] { reply = ask(true); };
  if (s->answerers && req.method() != http::verb::get)
    co_await on_pool(*s->answerers, first);  // a change waits for the disk there, not on this worker
  else
    first();
  if (reply.wait_ms == 0) co_return reply;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(reply.wait_ms);
  while (reply.wait_ms != 0 && std::chrono::steady_clock::now() < deadline && !s->stopping) {
    if (journal.changes() == seen) {  // else something changed while we asked: ask again at once
      timer->expires_at(deadline);
      co_await timer->async_wait(use_nothrow);
    }
    seen = journal.changes();
    reply = ask(true);
  }
  co_return reply.wait_ms == 0 ? reply : ask(false);
}

task<core::control_reply> answer(service* s, const http::request<http::string_body>& req) {
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

/// Answers one request that may be answered; whether the connection may carry another.
task<bool> serve(beast::tcp_stream& stream, service* s, const http::request<http::string_body>& req,
                 core::route_kind kind) {
  switch (kind) {
    case core::route_kind::console_file: co_return co_await serve_console_file(stream, req);
    case core::route_kind::event_stream: co_return co_await serve_events(stream, s, req);
    case core::route_kind::api: break;
  }
  co_return co_await send(stream, co_await answer(s, req), req.version(), req.keep_alive());
}

/// One control connection, as the listener's bookkeeping sees it.
struct slot {
  beast::tcp_stream& stream;
  bool evicted = false;  ///< closed by the listener to make room (and counted out then)
};

/// The control listener's connections, all on its one loop. At most admin_connection_limit are
/// open; when a new one comes and none is free, the one that has waited longest on its client (for
/// a request, its headers or its body) is closed to make room: a caller that sends its request at
/// once is never kept out by idle or dribbling connections. Only when every connection is busy
/// answering is the new one refused.
struct connections {
  std::size_t open = 0;
  std::list<slot*> idle;  ///< waiting on their clients, oldest first

  /// Makes room for one more: whether there is.
  bool make_room() {
    if (open < admin_connection_limit) return true;
    if (idle.empty()) return false;
    slot* oldest = idle.front();
    idle.pop_front();
    oldest->evicted = true;
    --open;
    boost::system::error_code ignored;
    oldest->stream.socket().close(ignored);  // its read ends with an error, and its session with it
    return true;
  }
};

/// A connection in the idle list while it waits on its client, on every path out.
struct waiting {
  connections& all;
  slot& me;
  std::list<slot*>::iterator place;
  waiting(connections& a, slot& m) : all(a), me(m), place(a.idle.insert(a.idle.end(), &m)) {}
  ~waiting() {
    if (!me.evicted) all.idle.erase(place);
  }
  waiting(const waiting&) = delete;
  waiting& operator=(const waiting&) = delete;
};

/// Reads the next request's headers: up to `idle_timeout` for its first byte, then `header_deadline`
/// for the rest of the request line and headers (a client dribbling them is cut off). While it
/// waits the connection is idle: the first to be closed when the listener is full.
task<boost::system::error_code> read_head(slot& me, beast::flat_buffer& buffer,
                                          http::request_parser<http::string_body>& parser, connections& all) {
  waiting wait(all, me);
  me.stream.expires_after(idle_timeout);
  if (auto ec = co_await skip_empty_lines(me.stream, buffer, header_limit)) co_return ec;
  me.stream.expires_after(header_deadline);
  auto [ec, n] = co_await http::async_read_header(me.stream, buffer, parser, use_nothrow);
  co_return ec;
}

bool connection_over(boost::system::error_code ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == asio::error::bad_descriptor;
}

/// The refusal for a request, on its headers alone: a stranger's body is never read.
std::optional<core::control_reply> refuse(const service& s, const http::request_parser<http::string_body>& parser,
                                          core::route_kind kind) {
  const auto& head = parser.get();
  if (kind == core::route_kind::console_file) return refuse_page_access(head, s.cfg.admin_token);
  bool has_body = parser.chunked() || parser.content_length().value_or(0) > 0;
  return refuse_access(head, s.cfg.admin_token, has_body);
}

/// A request that cannot be read, or may not be: the reason, and the connection ends.
task<> turn_away(beast::tcp_stream& stream, core::control_reply reply, unsigned version) {
  co_await send(stream, std::move(reply), version, false);
  co_await linger(stream);
}

task<> admin_session(tcp::socket socket, service* s, std::shared_ptr<connections> all) {
  beast::tcp_stream stream(std::move(socket));
  slot me{stream};
  struct counted {  // counted out as it ends, unless the listener did when it closed it
    connections& all;
    slot& me;
    ~counted() {
      if (!me.evicted) --all.open;
    }
  } count{*all, me};
  beast::flat_buffer buffer(header_limit + 4096);  // headers and trailers stay within the header limit
  chunk_extension_bound extensions(header_limit);  // and chunk extensions, together
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    extensions.watch(parser);
    parser.body_limit(boost::none);  // weighed once the headers are believed: a stranger gets 401, not 413
    auto ec = co_await read_head(me, buffer, parser, *all);
    auto kind = core::route_kind_of(parser.get().method_string(), parser.get().target());
    if (!ec) {
      if (auto refused = refuse(*s, parser, kind))  // a stranger learns nothing of its framing
        co_return co_await turn_away(stream, *refused, parser.get().version());
      ec = framing_error(parser);  // as the TLS port: no body read as a request
    }
    if (!ec) {
      if (parser.content_length().value_or(0) > body_limit)
        co_return co_await turn_away(stream, json_reply(413, "the body is over 4 MiB"), parser.get().version());
      parser.body_limit(body_limit);  // a chunked body is counted as it comes
      {
        waiting wait(*all, me);  // a body that dribbles in is as idle as no request at all
        stream.expires_after(body_deadline);
        std::tie(ec, std::ignore) = co_await http::async_read(stream, buffer, parser, use_nothrow);
      }
      if (!ec) {
        if (!co_await serve(stream, s, parser.get(), kind)) co_return;
        continue;
      }
    }
    if (connection_over(ec)) co_return;
    if (ec == boost::system::errc::not_supported)
      co_return co_await turn_away(stream, json_reply(501, unimplemented_codings(parser)), 11);
    int status = ec == http::error::body_limit                                           ? 413
                 : ec == http::error::header_limit || ec == http::error::buffer_overflow ? 431
                                                                                         : 400;
    co_return co_await turn_away(stream, json_reply(status, "cannot read the request: " + ec.message()), 11);
  }
}

}  // namespace

task<> admin_accept_loop(service* s, tcp::acceptor* acceptor) {
  auto all = std::make_shared<connections>();
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(use_nothrow);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      co_await sleep_for(50);  // out of descriptors and the like: back off rather than spin
      continue;
    }
    if (!all->make_room()) continue;  // every connection is answering a call: this one is closed
    ++all->open;
    asio::co_spawn(co_await asio::this_coro::executor, admin_session(std::move(socket), s, all),
                   [s](std::exception_ptr e) { log_failure(*s->engine, e, "control session"); });
  }
}

}  // namespace fortisim::net
