// One connection's life, as a coroutine that owns it: the engine's connection-stage verdict,
// then (when the scenario has TLS rules) a peek at the ClientHello for the TLS-stage verdict,
// the handshake, and HTTP/1.1 keep-alive requests, each answered or faulted as the engine says.

#include "server/core/observe/tls_failure.hpp"
#include "server/net/https/deliver.hpp"
#include "server/net/https/reply_head.hpp"
#include "server/net/https/request_arena.hpp"
#include "server/net/https/service.hpp"
#include "server/net/io/deadline.hpp"
#include "server/net/io/linger.hpp"
#include "server/net/io/log_failure.hpp"
#include "server/net/io/request_framing.hpp"
#include "server/net/tls/client_hello.hpp"
#include "server/net/tls/contexts.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <malloc.h>
#include <poll.h>

#include <array>
#include <atomic>

namespace fortisim::net {

namespace beast = boost::beast;
namespace http = beast::http;
using std::chrono::milliseconds;

namespace {

/// The most bytes of request headers (and of chunk extensions and trailers): more gets 431.
constexpr std::uint32_t header_limit = 16 * 1024;

/// A request's parser keeps its start line, fields and body in the connection's request_arena.
using arena_allocator = std::pmr::polymorphic_allocator<char>;
using request_body = http::basic_string_body<char, std::char_traits<char>, arena_allocator>;
using request_parser = http::request_parser<request_body, arena_allocator>;

struct session_state {
  service* s = nullptr;
  const tls_connection* tls = nullptr;
  std::string client = {};
  std::uint64_t connection = 0;
  std::string sni = {};
  std::string client_cert = {};     ///< "subject\nissuer" of the certificate the client presented
  core::stage_verdict shaped = {};  ///< a TLS-stage rule that shaped the handshake, journaled once it ends
  /// How far the connection got: what its record says if fortisim stops with it open.
  enum class step { connecting, handshake, requests } at = step::connecting;
  bool answered = false;   ///< a request was answered (a connection that ends with none is journaled so)
  bool recorded = false;   ///< its end is journaled already (a fault that ends it, entered before it acts)
  bool answering = false;  ///< a reply is being delivered, which journals itself however it ends
};

/// Whether the client has closed its side (or reset): readable below the low-water mark.
bool peer_hung_up(tcp_socket& socket) {
  pollfd p{socket.native_handle(), POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/// What the peek at a connection's first record found, and whether its time ran out first.
struct peeked_hello {
  client_hello_info info;
  bool timed_out = false;
};

/// Peeks at the ClientHello without consuming it (the handshake reads it again), within
/// `timeout_ms`. Waits for readability only: once the record's length is known, SO_RCVLOWAT makes
/// the socket readable when the whole record is there (no polling while a slow client sends it).
task<peeked_hello> peek_client_hello(tls_stream::next_layer_type& tcp, std::int64_t timeout_ms) {
  auto& socket = tcp.socket();
  std::string buf(16 * 1024 + 5, '\0');  // a record's largest size (RFC 8446 §5.1)
  client_hello_info info;
  socket_deadline deadline(co_await asio::this_coro::executor, socket, timeout_ms);
  int low_water = 1;
  std::size_t seen = 0;
  while (info.status == client_hello_info::state::need_more && !deadline.expired()) {
    auto [ec] = co_await socket.async_wait(tcp_socket::wait_read, use_nothrow);
    if (ec) break;
    boost::system::error_code rec;
    std::size_t n = socket.receive(asio::buffer(buf), tcp_socket::message_peek, rec);
    if (rec || (n == seen && peer_hung_up(socket))) break;  // readable with no more bytes: closed
    seen = n;
    info = parse_client_hello(std::string_view(buf.data(), n));
    if (info.status != client_hello_info::state::need_more) break;
    if (info.bytes_needed > buf.size()) {  // more than we peek at: the handshake takes it as it is
      info.status = client_hello_info::state::not_tls;
      break;
    }
    int want = static_cast<int>(info.bytes_needed);
    low_water = want;
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVLOWAT, &low_water, sizeof low_water);
  }
  if (low_water != 1) {
    low_water = 1;
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVLOWAT, &low_water, sizeof low_water);
  }
  co_return peeked_hello{std::move(info), deadline.expired()};
}

/// When the last connection closes, hands the memory its buffers took back to the system (glibc
/// keeps freed pages otherwise), at most once a second.
void give_memory_back() {
  static std::atomic<std::int64_t> last_ms{0};
  auto now = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  auto last = last_ms.load(std::memory_order_relaxed);
  if (now - last < 1000 || !last_ms.compare_exchange_strong(last, now)) return;
  ::malloc_trim(0);
}

/// Counts a request from the moment it is read until its answer is out; when the server drains,
/// the last one to finish stops the loops.
class in_flight {
 public:
  // seq_cst, with the nudge's load: a control call that started watching sees the new count.
  explicit in_flight(service& s) : s_(s) {
    s_.in_flight_count.fetch_add(1, std::memory_order_seq_cst);
    s_.engine->journal().nudge();  // GET /status?in_flight=N&wait_ms=...
  }
  ~in_flight() {
    bool last = s_.in_flight_count.fetch_sub(1, std::memory_order_seq_cst) == 1;
    s_.engine->journal().nudge();
    if (last && s_.draining) s_.stop_soon();
  }
  in_flight(const in_flight&) = delete;
  in_flight& operator=(const in_flight&) = delete;

 private:
  service& s_;
};

/// A request's header fields as the journal keeps them: "Name: value" lines, into `out`.
template <class Fields>
void header_lines(const Fields& fields, std::string& out) {
  out.clear();
  for (const auto& field : fields) out.append(field.name_string()).append(": ").append(field.value()).append("\n");
}

/// Reads one request (answering "Expect: 100-continue" before its body, as IIS does).
task<boost::system::error_code> read_request(tls_stream& stream, beast::flat_buffer& buffer, request_parser& parser) {
  if (auto ec = co_await skip_empty_lines(stream, buffer, header_limit)) co_return ec;
  // The header first: a client that sent "Expect: 100-continue" (curl does for bodies over
  // 1 KiB) waits for our go-ahead before it sends the body.
  auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
  // A coding but chunked last (gzip, identity): the body's end cannot be known, and read as none
  // it became a request of its own. Refused, and the connection closed.
  if (!ec) ec = framing_error(parser);
  if (!ec && !parser.is_done()) {
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      static constexpr std::string_view go_ahead = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(go_ahead), use_nothrow);
      ec = wec;
    }
    if (!ec) std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, use_nothrow);
  }
  co_return ec;
}

bool client_left(boost::system::error_code ec) {
  return ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated || ec == beast::error::timeout ||
         ec == asio::error::eof || ec == asio::error::connection_reset;
}

/// A request that could not be read whole, numbered, counted and journaled as any other (the
/// engine answers it without rules). A client still there gets an HTTP error (413, 431, 400) and
/// the connection ends; one that left or stalled in the middle of the request gets nothing.
task<> refuse_request(tls_stream& stream, session_state& st, wire& w, const request_parser& parser,
                      boost::system::error_code ec, core::http_outcome& o, std::string& head) {
  auto& engine = *st.s->engine;
  bool too_big = ec == http::error::body_limit;
  // Headers, chunk extensions and trailers all count against the header limit: the read buffer
  // holds no more than that (a trailer field of 64 KiB once made Beast throw out of the loop).
  bool headers_too_big = ec == http::error::header_limit || ec == http::error::buffer_overflow;
  bool left = client_left(ec) || ec == http::error::partial_message;
  bool stalled = ec == beast::error::timeout;
  bool unimplemented = ec == boost::system::errc::not_supported;
  std::string why = stalled ? "the request was not whole within " + std::to_string(st.s->cfg.idle_timeout_ms) +
                                  " ms (--idle-timeout-ms): the connection is closed"
                    : left ? "the client closed the connection in the middle of a request (" + ec.message() + ")"
                    : unimplemented ? unimplemented_codings(parser)
                                    : ec.message();
  // The start line and the header lines, as far as they were read (the parser's message keeps
  // what it had parsed).
  const auto& got = parser.get();
  std::string headers;
  header_lines(got, headers);
  core::http_request r{got.method_string(), got.target(), {}, st.client, st.sni, st.connection, headers};
  r.client_cert = st.client_cert;
  r.unreadable = why;
  r.unreadable_status = left ? 0 : too_big ? 413 : headers_too_big ? 431 : unimplemented ? 501 : 400;
  in_flight guard(*st.s);
  engine.handle(r, o);
  if (r.unreadable_status == 0) {
    engine.finish(o, stalled ? core::delivery::not_sent : core::delivery::client_gone, 0);
    co_return;
  }
  st.answering = true;  // its entry is the connection's last word
  co_await deliver(engine, stream, w, o, 11, false, head);
  co_await linger(stream);
}

/// Journals a connection that ended with no request after its handshake (or after its last
/// request, when it ended in an error): the client closed it (with what the OCSP staple said, the
/// likeliest reason a client that checks it leaves), sent nothing within the idle timeout, or
/// broke TLS (an alert, a record that does not decrypt).
void note_no_request(const session_state& st, boost::system::error_code ec, bool answered) {
  std::string what = ec == beast::error::timeout
                         ? "no request within " + std::to_string(st.s->cfg.idle_timeout_ms) + " ms (--idle-timeout-ms)"
                     : client_left(ec) ? "closed by the client after the handshake, before any request"
                     : answered        ? "ended after its requests: " + ec.message()
                                       : "ended after the handshake, before any request: " + ec.message();
  if (ec != beast::error::timeout && !answered && st.tls && !st.tls->stapled.empty() && st.tls->stapled != "good")
    what += " (the stapled OCSP response said " + std::string(st.tls->stapled) + ")";
  auto how = ec == beast::error::timeout ? core::delivery::timeout : core::delivery::client_gone;
  st.s->engine->note(core::stage::connection, st.connection, st.client, what, how, st.sni);
}

/// A request whose loop was destroyed while it was being read (fortisim stopped with it not
/// whole): numbered, counted and journaled as a request cut short, as the idle timeout's is, and
/// the connection's end with it.
struct cut_while_reading {
  session_state& st;
  const request_parser& parser;
  const beast::flat_buffer& buffer;
  core::http_outcome& o;
  bool reading = false;
  cut_while_reading(session_state& s, const request_parser& p, const beast::flat_buffer& b, core::http_outcome& out)
      : st(s), parser(p), buffer(b), o(out) {}
  cut_while_reading(const cut_while_reading&) = delete;
  cut_while_reading& operator=(const cut_while_reading&) = delete;
  ~cut_while_reading() {
    if (!reading || !st.s->torn_down || (!parser.got_some() && buffer.size() == 0)) return;
    try {
      const auto& got = parser.get();
      std::string headers;
      header_lines(got, headers);
      core::http_request r{got.method_string(), got.target(), {}, st.client, st.sni, st.connection, headers};
      r.client_cert = st.client_cert;
      r.unreadable = "the request was not whole when fortisim stopped: the connection is closed";
      r.unreadable_status = 0;
      st.s->engine->handle(r, o);
      st.s->engine->finish(o, core::delivery::not_sent, 0);
      st.recorded = true;
    } catch (...) {  // a destructor: the entry is lost rather than the process
    }
  }
};

/// Serves requests on an established TLS stream until the client or a fault ends it. Returns
/// whether the TLS session may be shut down cleanly (not after a reset or a hang).
task<bool> serve_http(tls_stream& stream, session_state& st, wire& w) {
  const auto& cfg = st.s->cfg;
  auto& tcp = stream.next_layer();
  // Unparsed bytes never exceed the header limit and a little: bodies are consumed as they come.
  beast::flat_buffer buffer(header_limit + 4096);
  std::string headers;                             // reused: the journal's copy of each request's header lines
  std::string head;                                // reused: each reply's status line and fields
  request_arena arena;                             // reused: each request's parser
  core::http_outcome o;                            // reused: each request's outcome, its reply body included
  chunk_extension_bound extensions(header_limit);  // together, as the headers: 431 past it
  for (;;) {
    arena.reset();
    arena_allocator in_arena(&arena);
    request_parser parser(std::piecewise_construct, std::make_tuple(in_arena), std::make_tuple(in_arena));
    parser.body_limit(cfg.body_limit);
    parser.header_limit(header_limit);
    extensions.watch(parser);
    tcp.expires_after(milliseconds(cfg.idle_timeout_ms));
    cut_while_reading cut(st, parser, buffer, o);
    cut.reading = true;
    auto ec = co_await read_request(stream, buffer, parser);
    cut.reading = false;
    if (ec && !parser.got_some()) {  // not a byte of another request came: no request to journal
      if (!st.answered || !client_left(ec)) note_no_request(st, ec, st.answered);
      co_return true;
    }
    if (ec) {
      co_await refuse_request(stream, st, w, parser, ec, o, head);
      co_return true;
    }
    in_flight guard(*st.s);
    st.answered = true;
    auto started = std::chrono::steady_clock::now();
    auto& req = parser.get();
    header_lines(req, headers);
    auto answer = [&] {
      st.s->engine->handle(
          {req.method_string(), req.target(), req.body(), st.client, st.sni, st.connection, headers, st.client_cert},
          o);
    };
    if (st.s->answerers)
      co_await on_pool(*st.s->answerers, answer);  // it may wait for the disk; this loop does not
    else
      answer();
    st.answering = true;  // until deliver returns: an exchange cut short by a stop has its own entry
    auto next = co_await deliver(*st.s->engine, stream, w, o, req.version(), req.keep_alive() && !st.s->draining, head);
    st.answering = false;
    switch (next) {
      case after_fault::close: co_return true;
      case after_fault::abort: co_return false;
      case after_fault::reply:
      case after_fault::carry_on: break;
    }
    o.reset();  // before waiting for the next request: an idle connection holds no large reply
    st.s->engine->counters().latency(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (!req.keep_alive() || st.s->draining) co_return true;
  }
}

/// A connection- or TLS-stage fault that ends the connection, in words as its client meets it: the
/// reason its rule's entry gives (curl's error alone does not tell a refusal's reset from the
/// refusals after it). Empty for one that shapes the handshake instead (tls_cert, tls_version).
std::string ending_fault_words(const core::fault& f) {
  namespace faults = core::faults;
  auto held = [](std::int64_t ms, std::string_view after) {
    return "held silently " + std::string(after) +
           (ms > 0 ? "for up to " + std::to_string(ms) + " ms, then closed" : "until the client left");
  };
  if (const auto* r = std::get_if<faults::refuse>(&f))
    return "reset; new connections refused (ECONNREFUSED) " +
           (r->for_ms > 0 ? "for " + std::to_string(r->for_ms) + " ms" : std::string("until POST /listener/open"));
  if (std::holds_alternative<faults::reset>(f)) return "reset (RST)";
  if (const auto* h = std::get_if<faults::hang>(&f)) return held(h->for_ms, "");
  if (const auto* t = std::get_if<faults::tls_stall>(&f)) return held(t->for_ms, "after its ClientHello ");
  if (const auto* a = std::get_if<faults::tls_alert>(&f))
    return "the fatal alert " + std::string(a->alert.name) + " instead of a ServerHello";
  return {};
}

/// Plays a connection- or TLS-stage verdict. One that ends the connection is journaled first, so
/// a client that met it finds its entry. False when the session ends here.
task<bool> play(core::stage at, const core::stage_verdict& verdict, session_state& st, wire& w) {
  auto words = ending_fault_words(verdict.act.what);
  bool settled = !verdict.rule.empty() && !words.empty();
  if (settled) st.s->engine->settle(at, verdict, st.client, st.sni, core::delivery::not_sent, words);
  st.recorded = settled;
  bool go_on = co_await execute(verdict.act.what, w) == after_fault::carry_on;
  if (!go_on && !verdict.rule.empty() && !settled)
    st.s->engine->settle(at, verdict, st.client, st.sni, core::delivery::not_sent);
  co_return go_on;
}

/// The TLS stage: peeks at the ClientHello (for its SNI) and plays the engine's TLS verdict.
/// False when the session ends here.
task<bool> tls_stage(tls_stream& stream, session_state& st, wire& w) {
  auto& engine = *st.s->engine;
  if (!engine.has_tls_rules()) co_return true;
  auto [hello, timed_out] = co_await peek_client_hello(stream.next_layer(), st.s->cfg.handshake_timeout_ms);
  // What is not a ClientHello meets no rule: the handshake refuses it, in the words it would
  // without TLS rules (plain HTTP, an unexpected message).
  if (hello.status == client_hello_info::state::not_tls) co_return true;
  if (hello.status != client_hello_info::state::complete) {  // closed, or no whole record in time
    using kind = core::tls_failure::kind;
    auto timeout_ms = st.s->cfg.handshake_timeout_ms;
    engine.note(core::stage::tls, st.connection, st.client,
                core::describe({timed_out ? kind::timeout : kind::closed, 0, timeout_ms, {}}),
                timed_out ? core::delivery::timeout : core::delivery::client_refused);
    co_return false;
  }
  st.sni = hello.sni;
  auto verdict = engine.on_client_hello(st.client, st.connection, st.sni);
  w.hello_bytes = hello.record_bytes;
  bool go_on = co_await play(core::stage::tls, verdict, st, w);
  w.hello_bytes = 0;
  if (go_on) st.shaped = std::move(verdict);  // its outcome is the handshake's
  co_return go_on;
}

/// What OpenSSL and Asio said of a failed handshake, in the journal's plain terms.
core::tls_failure failure_of(const boost::system::error_code& ec, std::int64_t timeout_ms) {
  using kind = core::tls_failure::kind;
  core::tls_failure f{kind::other, 0, timeout_ms, ec.message()};
  if (ec == beast::error::timeout)
    f.what = kind::timeout;
  else if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset)
    f.what = kind::closed;
  if (ec.category() != asio::error::get_ssl_category()) return f;
  int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  // A fatal alert from the peer is reported as SSL_AD_REASON_OFFSET + its description.
  if (reason > SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
    f.what = kind::peer_alert;
    f.alert = reason - SSL_AD_REASON_OFFSET;
  } else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    f.what = kind::no_client_certificate;
  } else if (reason == SSL_R_NO_SHARED_CIPHER) {
    f.what = kind::no_shared_cipher;
  } else if (reason == SSL_R_UNSUPPORTED_PROTOCOL) {
    f.what = kind::unsupported_version;
  } else if (reason == SSL_R_HTTP_REQUEST) {
    f.what = kind::plain_http;
  }
  return f;
}

/// The certificate the client presented: "subject | issuer" in RFC 2253 form, "" for none.
std::string presented_certificate(SSL* ssl) {
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), X509_free);
  if (!cert) return {};
  return pki::one_line(X509_get_subject_name(cert.get())) + '\n' + pki::one_line(X509_get_issuer_name(cert.get()));
}

/// The handshake, journaled when it fails (with the SNI and the reason in words) and, when the
/// server asks for client certificates, with what the client presented. False when it failed.
task<bool> handshake(tls_stream& stream, session_state& st, const tls_connection& tc) {
  auto& engine = *st.s->engine;
  const auto& cfg = st.s->cfg;
  stream.next_layer().expires_after(milliseconds(cfg.handshake_timeout_ms));
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_nothrow);
  if (st.sni.empty()) st.sni = tc.sni;
  bool shaped = !st.shaped.rule.empty();  // a rule's entry carries the client's verdict
  if (ec) {
    auto failure = failure_of(ec, cfg.handshake_timeout_ms);
    auto how =
        failure.what == core::tls_failure::kind::timeout ? core::delivery::timeout : core::delivery::client_refused;
    if (!shaped)
      engine.note(core::stage::tls, st.connection, st.client, core::describe(failure), how, st.sni);
    else
      engine.settle(core::stage::tls, st.shaped, st.client, st.sni, how, core::describe(failure));
    co_return false;
  }
  if (shaped) engine.settle(core::stage::tls, st.shaped, st.client, st.sni, core::delivery::handshake);
  if (cfg.client_cert != client_cert_mode::off) {
    st.client_cert = presented_certificate(stream.native_handle());
    engine.note_client_cert(st.connection, st.client, st.sni, st.client_cert);
  }
  co_return true;
}

}  // namespace

task<> accept_loop(service* s, tcp::acceptor* acceptor, std::atomic<std::uint64_t>* accepted) {
  auto loop = co_await asio::this_coro::executor;
  for (;;) {
    // The client's address as accept() gave it: a client that resets the connection before it is
    // served leaves a socket with no peer, and still gets its record.
    tcp::endpoint peer;
    auto [ec, socket] = co_await acceptor->async_accept(loop, peer, use_nothrow);
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;  // refusing or stopping
    if (ec) {
      // Out of descriptors and the like: wait a moment rather than spin.
      co_await sleep_for(50);
      continue;
    }
    accepted->fetch_add(1, std::memory_order_relaxed);
    if (s->engine->counters().open_connections() >= static_cast<std::int64_t>(s->cfg.max_connections)) {
      // Over the limit: closed at once (the client sees the connection end before TLS), numbered,
      // counted and journaled as every connection.
      s->engine->turn_away(peer.address().to_string(), "closed: " + std::to_string(s->cfg.max_connections) +
                                                           " connections open (--max-connections)");
      boost::system::error_code close_ec;
      socket.close(close_ec);
      continue;
    }
    asio::co_spawn(loop, run_session(std::move(socket), peer.address().to_string(), s),
                   [s](std::exception_ptr e) { log_failure(*s->engine, e, "session"); });
  }
}

namespace {

/// Journals a connection whose loop was destroyed with it open (fortisim stopped: its drain ended,
/// or ran out), so that every connection counted has its record. A session that ran to its end
/// (or failed) is destroyed before the service is torn down, and journaled its own end.
struct cut_by_stop {
  session_state& st;
  explicit cut_by_stop(session_state& s) : st(s) {}
  cut_by_stop(const cut_by_stop&) = delete;
  cut_by_stop& operator=(const cut_by_stop&) = delete;
  ~cut_by_stop() {
    if (!st.s->torn_down || st.recorded || st.answering) return;
    using step = session_state::step;
    auto& engine = *st.s->engine;
    std::string words = "closed as fortisim stopped, ";
    words += st.at == step::connecting  ? "before its handshake"
             : st.at == step::handshake ? "during the handshake"
             : st.answered              ? "after its requests"
                                        : "before any request";
    try {
      if (st.at == step::handshake && !st.shaped.rule.empty())
        engine.settle(core::stage::tls, st.shaped, st.client, st.sni, core::delivery::not_sent, words);
      else
        engine.note(st.at == step::handshake ? core::stage::tls : core::stage::connection, st.connection, st.client,
                    words, core::delivery::not_sent, st.sni);
    } catch (...) {  // a destructor: the entry is lost rather than the process
    }
  }
};

}  // namespace

task<> run_session(tcp_socket socket, std::string client, service* s) {
  session_state st{s};
  tls_connection tc;  // before the stream: the SSL object's callbacks point at it
  st.client = std::move(client);
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);  // fails only for a connection already reset: journaled below
  tls_stream stream(std::move(socket), s->tls);
  attach(stream.native_handle(), &tc);
  wire w{stream, *s->listeners, s->fault_certs, s->cfg.write_timeout_ms};
  auto& engine = *s->engine;

  auto verdict = engine.on_connection(st.client);
  engine.journal().nudge();  // GET /status?open=N&wait_ms=...
  struct closed {
    core::engine& e;
    ~closed() {
      if (e.counters().connection_closed() == 0) give_memory_back();
      e.journal().nudge();
    }
  } counted{engine};
  st.connection = verdict.connection;
  st.tls = &tc;
  cut_by_stop record{st};
  if (!co_await play(core::stage::connection, verdict, st, w)) co_return;
  st.at = session_state::step::handshake;
  if (!co_await tls_stage(stream, st, w)) co_return;
  if (!co_await handshake(stream, st, tc)) co_return;
  st.at = session_state::step::requests;
  if (!co_await serve_http(stream, st, w)) co_return;
  stream.next_layer().expires_after(milliseconds(2000));
  co_await stream.async_shutdown(use_nothrow);
}

}  // namespace fortisim::net
