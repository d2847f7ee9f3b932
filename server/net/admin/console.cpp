// The web console: its embedded files, and GET /events, the live feed as Server-Sent Events.
// The event stream never makes a worker wait: workers queue events for each browser (bounded,
// dropped and counted when full, server/core/live_feed.hpp) and wake its session on the control
// listener's loop, which writes them with a deadline; a browser that stops reading is cut off.

#include "server/net/admin/console.hpp"

#include "server/net/admin/access.hpp"
#include "server/net/admin/console_assets.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>

#include <charconv>

namespace fortisim::net {

namespace beast = boost::beast;
namespace http = beast::http;
using request = http::request<http::string_body>;

namespace {

constexpr std::size_t queue_capacity = 1024;  ///< events held for one browser
constexpr std::size_t backlog_limit = 500;    ///< journal entries sent to a browser as it connects
constexpr auto write_timeout = std::chrono::seconds(10);
/// The kernel's send buffer for one event stream: a browser that stops reading holds this much
/// there (not the megabytes TCP would grow it to) before its queue fills and events are dropped.
constexpr int stream_send_buffer = 64 * 1024;
constexpr auto heartbeat = std::chrono::seconds(15);

/// The page's security headers: no framing (a framed console could be clicked by another site),
/// nothing loaded from elsewhere.
void harden(http::response_header<>& h) {
  h.set(http::field::cache_control, "no-store");
  h.set(http::field::x_frame_options, "DENY");
  h.set("X-Content-Type-Options", "nosniff");
  h.set("Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
}

task<bool> send(beast::tcp_stream& stream, http::response<http::string_body> res, bool keep_alive) {
  harden(res.base());
  res.keep_alive(keep_alive);
  res.prepare_payload();
  stream.expires_after(write_timeout);
  auto [ec, n] = co_await http::async_write(stream, res, use_nothrow);
  co_return !ec && keep_alive;
}

http::response<http::string_body> reply_of(const request& req, const core::control_reply& r) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
  res.set(http::field::content_type, r.content_type);
  if (r.status == 401) res.set(http::field::www_authenticate, "Bearer");
  res.body() = r.body;
  return res;
}

/// Wakes an event session on its own loop: set by a worker's post, read by the session.
struct waker {
  explicit waker(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  bool pending = false;
};

/// Unsubscribes when the session ends, however it ends.
struct subscription_guard {
  core::live_feed& feed;
  std::shared_ptr<core::live_feed::subscription> sub;
  ~subscription_guard() { feed.unsubscribe(sub); }
};

/// The seq after which the browser wants exchanges: ?after=N, or the Last-Event-ID it reconnects with.
std::optional<std::uint64_t> start_after(const request& req) {
  std::string_view target = req.target(), id = req["Last-Event-ID"];
  std::string_view value = id;
  if (target != "/events") {
    if (!target.starts_with("/events?after=")) return std::nullopt;
    value = target.substr(14);
  }
  std::uint64_t n = 0;
  if (value.empty()) return n;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || p != value.data() + value.size()) return std::nullopt;
  return n;
}

task<bool> write_chunk(beast::tcp_stream& stream, const std::string& text) {
  stream.expires_after(write_timeout);
  auto [ec, n] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(text)), use_nothrow);
  co_return !ec;
}

/// The journal's newest entries after `after`, as events; `last` becomes the newest seq sent
/// (or `after`).
std::string backlog(core::engine& e, std::uint64_t after, std::uint64_t& last) {
  auto entries = e.journal().since(after);
  std::size_t skip = entries.size() > backlog_limit ? entries.size() - backlog_limit : 0;
  std::string out;
  last = after;
  for (std::size_t i = skip; i < entries.size(); ++i) {
    out += e.feed().exchange_event(entries[i]);
    last = entries[i].seq;
  }
  return out;
}

// GCC 12 reports a mismatched operator delete for this coroutine's frame (Asio's awaitable frames
// bring a class-specific operator new and delete, which match): a false positive, silenced here only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
task<> stream_events(beast::tcp_stream& stream, service* s, const request& req, std::uint64_t after) {
  boost::system::error_code ignored;  // a smaller buffer only bounds memory sooner
  stream.socket().set_option(asio::socket_base::send_buffer_size(stream_send_buffer), ignored);
  auto& feed = s->engine->feed();
  auto ex = stream.get_executor();
  auto w = std::make_shared<waker>(ex);
  auto sub = feed.subscribe(queue_capacity, [w, ex] {
    asio::post(ex, [w] {
      w->pending = true;
      w->timer.cancel();
    });
  });
  if (!sub) {
    core::control_reply busy{503, protocol::json{{"error", "too many consoles are open (16)"}}.dump()};
    co_await send(stream, reply_of(req, busy), false);
    co_return;
  }
  subscription_guard guard{feed, sub};  // subscribed before the backlog is read: nothing falls between
  http::response<http::empty_body> res{http::status::ok, req.version()};
  res.set(http::field::content_type, "text/event-stream");
  harden(res.base());
  res.chunked(true);
  http::response_serializer<http::empty_body> sr{res};
  stream.expires_after(write_timeout);
  if (auto [ec, n] = co_await http::async_write_header(stream, sr, use_nothrow); ec) co_return;
  std::uint64_t last = 0;
  std::string out = ": fortisim live feed\n\n" + backlog(*s->engine, after, last);
  for (;;) {
    if (auto dropped = sub->take(out, last))
      out += "event: dropped\ndata: {\"dropped\":" + std::to_string(dropped) + "}\n\n";
    if (!out.empty() && !co_await write_chunk(stream, out)) co_return;
    out.clear();
    if (w->pending) {
      w->pending = false;
      continue;
    }
    w->timer.expires_after(heartbeat);
    auto [ec] = co_await w->timer.async_wait(use_nothrow);
    if (!ec) out = ": still here\n\n";  // a heartbeat: finds a browser that has gone
    w->pending = false;
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace

task<bool> serve_events(beast::tcp_stream& stream, service* s, const request& req) {
  auto after = start_after(req);
  if (!after) {
    core::control_reply bad{400, protocol::json{{"error", "GET /events takes ?after=SEQ (a number) only"}}.dump()};
    co_return co_await send(stream, reply_of(req, bad), req.keep_alive());
  }
  co_await stream_events(stream, s, req, *after);
  co_return false;
}

task<bool> serve_console_file(beast::tcp_stream& stream, const request& req) {
  std::string_view path = req.target();
  path = path.substr(0, path.find('?'));
  for (const auto& a : console_assets()) {
    if (a.path != path) continue;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, a.content_type);
    res.body().assign(a.body);
    co_return co_await send(stream, std::move(res), req.keep_alive());
  }
  core::control_reply missing{404, protocol::json{{"error", "the console has no file " + std::string(path)}}.dump()};
  co_return co_await send(stream, reply_of(req, missing), req.keep_alive());
}

}  // namespace fortisim::net
