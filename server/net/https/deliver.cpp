// One reply on the wire: the engine's delay, its fault, the reply written (at once when the
// socket takes it), and the exchange journaled with how it went.
#include "server/net/https/deliver.hpp"

#include "server/net/https/reply_head.hpp"
#include "server/net/io/deadline.hpp"

#include <boost/beast/core/error.hpp>

#include <poll.h>

#include <array>

namespace fortisim::net {

namespace beast = boost::beast;
using std::chrono::milliseconds;

namespace {

/// Sends the engine's reply: its head written into the connection's `head` buffer, then head and
/// body in one write (and so one TLS record). False if the client went away.
task<bool> send_reply(wire& w, unsigned version, bool keep_alive, std::string& head) {
  const auto& o = *w.outcome;
  bool body = core::has_body(o.status) && !o.head_only;
  write_head({o.status, o.content_type, o.allow, o.body.size(), version, keep_alive, http_date(), o.headers}, head);
  std::array<asio::const_buffer, 2> reply{asio::buffer(head), asio::buffer(o.body.data(), body ? o.body.size() : 0)};
  co_return co_await w.send(reply);
}

/// Whether the peer has closed its side (a FIN, or an error pending): a client that gave up
/// while its request was answered. Asked without waiting, before the reply is written: a write
/// to a closed peer succeeds locally, so only this tells that nobody heard it.
bool peer_closed(tcp_socket& socket) {
  ::pollfd p{socket.native_handle(), POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/// How the reply went, for the journal: the fault's and the writes' story. A fault that sends no
/// reply but bytes (garbage) sent what it meant to.
core::delivery delivery_of(const wire& w, bool gone_before) {
  if (w.write_error == beast::error::timeout) return core::delivery::timeout;
  if (w.write_error || gone_before) return core::delivery::client_gone;
  if (!core::sends_reply(w.outcome->act) && w.bytes_sent == 0) return core::delivery::not_sent;
  return core::delivery::sent;
}

/// Journals an exchange that ends before its outcome is known (the server stops during a delay, a
/// hang or a write): what had been written by then.
struct unfinished_exchange {
  core::engine& engine;
  core::http_outcome& outcome;
  const wire& w;
  bool finished = false;
  ~unfinished_exchange() {
    if (finished) return;
    try {
      engine.finish(outcome, w.write_error ? core::delivery::client_gone : core::delivery::not_sent, w.bytes_sent);
    } catch (...) {  // a destructor: the entry is lost rather than the process
    }
  }
};

}  // namespace

/// Plays the engine's outcome `o` on the wire (its delay, its fault, its reply) and journals how
/// it went. What the session does next.
task<after_fault> deliver(core::engine& engine, tls_stream& stream, wire& w, core::http_outcome& o, unsigned version,
                          bool keep_alive, std::string& head) {
  w.bytes_sent = 0;
  w.write_error = {};
  unfinished_exchange pending{engine, o, w};
  if (o.delay_ms > 0) co_await sleep_for(o.delay_ms);
  stream.next_layer().expires_after(milliseconds(w.write_timeout_ms));
  w.outcome = &o;
  bool gone_before = core::sends_reply(o.act) && peer_closed(stream.next_layer().socket());
  auto next = co_await execute(o.act, w);
  if (next == after_fault::reply) {
    engine.writing(o);  // from here until finish, journal readers wait for this entry
    if (!co_await send_reply(w, version, keep_alive, head)) next = after_fault::abort;
  }
  pending.finished = true;
  engine.finish(o, delivery_of(w, gone_before), w.bytes_sent);
  co_return next;
}

}  // namespace fortisim::net
