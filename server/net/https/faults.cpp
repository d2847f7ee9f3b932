// The wire part of every fault, one overload each; `execute` visits. A fault with no overload here
// acts only through the reply (pass, delay, and those whose shapes_reply is true, which the
// engine's reply_faults.cpp executes) and is sent as a reply: one whose sends_reply is false must
// have its overload.
#include "server/net/https/faults.hpp"

#include "server/net/https/reply_head.hpp"
#include "server/net/io/deadline.hpp"
#include "server/net/io/listeners.hpp"
#include "server/net/tls/contexts.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <random>
#include <utility>

namespace fortisim::net {

namespace beast = boost::beast;
namespace faults = core::faults;
using std::chrono::milliseconds;

void reset(tcp_socket& socket) {
  boost::system::error_code ec;
  socket.set_option(asio::socket_base::linger(true, 0), ec);  // close sends RST
  socket.close(ec);
}

const pki::cert_and_key& fault_certificates::get(const std::string& kind) {
  std::lock_guard lock(mutex_);
  if (auto it = made_.find(kind); it != made_.end()) return it->second;
  if (!lab_ca_) lab_ca_ = pki::ensure_lab_ca(data_dir_, type_);
  pki::cert_and_key made;
  if (kind == "wrong_name")
    made = pki::make_server_cert(*lab_ca_, {"wrong-name.fortisim.invalid"}, -3600, 86400, type_);
  else if (kind == "expired")
    made = pki::make_server_cert(*lab_ca_, pki::lab_host_names(), -30 * 86400, -86400, type_);
  else
    made = pki::make_server_cert(pki::make_ca("fortisim unknown CA", 1, type_), pki::lab_host_names(), -3600, 86400,
                                 type_);
  return made_.emplace(kind, std::move(made)).first->second;
}

task<bool> wire::send(std::span<const asio::const_buffer> bytes) {
  // At once when the socket takes it all (the journal then records it before anything else runs
  // on this thread), else the rest with a wait, within the write timeout.
  boost::system::error_code ec;
  auto sealed = stream.sealed();
  const std::size_t taken = stream.write_now(bytes, ec);
  std::size_t counted = 0;  // at once, when the socket took it all
  if (!ec && !stream.unsent()) bytes_sent += counted = taken;
  std::array<asio::const_buffer, 8> rest{};
  std::size_t count = 0, n = taken;
  for (const auto& b : bytes) {  // the buffers past the n bytes taken
    std::size_t skip = std::min(n, b.size());
    n -= skip;
    if (b.size() > skip && count < rest.size()) rest[count++] = asio::buffer(b + skip);
  }
  std::size_t more = 0;  // of the rest, the bytes that went out (on an error too: those before it)
  if (!ec && (count > 0 || stream.unsent())) {
    stream.next_layer().expires_after(milliseconds(write_timeout_ms));
    if (count == 0) {
      auto [fec, fn] = co_await stream.async_write_some(std::array<asio::const_buffer, 0>{}, use_nothrow);
      ec = fec;
    } else {
      auto [wec, wn] = co_await asio::async_write(stream, std::span(rest.data(), count), use_nothrow);
      ec = wec;
      more = wn;
    }
  }
  std::size_t went = taken + more;
  if (ec) {
    // The client left part way: the share of the reply that left this machine, to within a TLS
    // record's overhead. What OpenSSL or the socket took is not (a client that read 200 KB was
    // journaled with 3 MB, the rest still in the server's send buffer).
    auto made = stream.sealed() - sealed;
    if (made > 0)
      went = static_cast<std::size_t>(static_cast<double>(went) * static_cast<double>(stream.delivered_since(sealed)) /
                                      static_cast<double>(made));
  }
  bytes_sent = bytes_sent - counted + went;
  if (ec && !write_error) write_error = ec;
  co_return !ec;
}

namespace {

tcp_socket& socket_of(wire& w) { return w.stream.next_layer().socket(); }

/// Consumes a peeked ClientHello, so that closing does not reset the connection.
void consume(tcp_socket& socket, std::size_t bytes) {
  std::string sink(bytes, '\0');
  boost::system::error_code ec;
  asio::read(socket, asio::buffer(sink), ec);
}

task<bool> send(wire& w, std::string_view bytes) {
  asio::const_buffer buffer = asio::buffer(bytes);
  co_return co_await w.send({&buffer, 1});
}

/// A response head as a client would receive it, for the faults that bend the framing.
std::string raw_head(const core::http_outcome& o, std::uint64_t content_length) {
  std::string head;
  write_head({o.status, o.content_type, o.allow, content_length, 11, true, http_date(), o.headers}, head);
  return head;
}

int tls_version_number(const std::string& v) {
  if (v == "1.0") return TLS1_VERSION;
  if (v == "1.1") return TLS1_1_VERSION;
  if (v == "1.2") return TLS1_2_VERSION;
  return TLS1_3_VERSION;
}

// ---- connection stage (reset and hang act at any stage) ----

task<after_fault> run(const faults::refuse& f, wire& w) {
  // Later connections are refused once every worker stopped listening; this one, already
  // accepted, is reset.
  w.listeners.refuse(f.for_ms);
  co_await w.listeners.settled();
  reset(socket_of(w));
  co_return after_fault::abort;
}

task<after_fault> run(const faults::reset&, wire& w) {
  reset(socket_of(w));
  co_return after_fault::abort;
}

task<after_fault> run(const faults::hang& f, wire& w) {
  consume(socket_of(w), w.hello_bytes);
  co_await hold_silently(socket_of(w), f.for_ms);
  co_return after_fault::abort;
}

// ---- TLS stage ----

task<after_fault> run(const faults::tls_alert& f, wire& w) {
  auto& socket = socket_of(w);
  consume(socket, w.hello_bytes);
  // A fatal alert record (TLS 1.2 framing, as servers answer a ClientHello).
  const std::uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, f.alert.code};
  auto& tcp = w.stream.next_layer();
  tcp.expires_after(milliseconds(w.write_timeout_ms));
  co_await asio::async_write(tcp, asio::buffer(alert), use_nothrow);
  boost::system::error_code ec;
  socket.shutdown(tcp_socket::shutdown_send, ec);
  tcp.expires_after(milliseconds(1000));
  char sink[512];
  co_await tcp.async_read_some(asio::buffer(sink), use_nothrow);  // let the client close first
  co_return after_fault::abort;
}

task<after_fault> run(const faults::tls_stall& f, wire& w) { co_return co_await run(faults::hang{f.for_ms}, w); }

task<after_fault> run(const faults::tls_cert& f, wire& w) {
  const auto& bad = w.certs.get(f.cert);
  keep_context(w.stream.native_handle());  // the SNI callback must not swap it for the host's leaf
  SSL_use_certificate(w.stream.native_handle(), bad.cert.get());
  SSL_use_PrivateKey(w.stream.native_handle(), bad.key.get());
  co_return after_fault::carry_on;
}

task<after_fault> run(const faults::tls_version& f, wire& w) {
  SSL* ssl = w.stream.native_handle();
  keep_context(ssl);  // a host context would bring back the security level set below
  int lo = TLS1_3_VERSION, hi = TLS1_VERSION;
  for (const auto& v : f.versions) {
    lo = std::min(lo, tls_version_number(v));
    hi = std::max(hi, tls_version_number(v));
  }
  if (lo < TLS1_2_VERSION) {
    SSL_set_security_level(ssl, 0);  // OpenSSL 3 refuses TLS 1.0/1.1 above level 0
    SSL_set_cipher_list(ssl, "DEFAULT:@SECLEVEL=0");
  }
  SSL_set_min_proto_version(ssl, lo);
  SSL_set_max_proto_version(ssl, hi);
  co_return after_fault::carry_on;
}

// ---- HTTP stage ----

task<after_fault> run(const faults::close&, wire&) { co_return after_fault::close; }

task<after_fault> run(const faults::garbage& f, wire& w) {
  std::mt19937_64 rng(w.outcome->garbage_seed);
  std::string junk(f.bytes, '\0');
  for (auto& c : junk) c = static_cast<char>(rng() & 0xff);
  co_await send(w, junk);
  co_return after_fault::close;
}

task<after_fault> run(const faults::truncate& f, wire& w) {
  const auto& o = *w.outcome;
  co_await send(w, raw_head(o, o.body.size()) + o.body.substr(0, std::min<std::size_t>(f.bytes, o.body.size())));
  co_return after_fault::close;
}

task<after_fault> run(const faults::lie_length& f, wire& w) {
  const auto& o = *w.outcome;
  co_await send(w, raw_head(o, f.content_length) + o.body);
  co_return after_fault::close;
}

task<after_fault> run(const faults::dribble& f, wire& w) {
  const auto& o = *w.outcome;
  std::string raw = raw_head(o, o.body.size()) + o.body;
  // A tenth of a second's worth at a time.
  std::size_t chunk = std::max<std::size_t>(1, f.bytes_per_second / 10);
  auto pause = std::max<std::int64_t>(1, static_cast<std::int64_t>(chunk * 1000 / f.bytes_per_second));
  for (std::size_t at = 0; at < raw.size(); at += chunk) {
    if (!co_await send(w, std::string_view(raw).substr(at, chunk))) co_return after_fault::abort;
    if (at + chunk < raw.size()) co_await sleep_for(pause);
  }
  co_return after_fault::carry_on;
}

/// Faults that do nothing on the wire: pass and delay (the session waits delay_ms), and the
/// reply-shaping faults. At the HTTP stage the reply is sent; before it, the session goes on.
template <class F>
task<after_fault> run(const F&, wire& w) {
  static_assert(F::sends_reply, "a fault that sends no reply acts on the wire: it needs a run() overload");
  co_return w.outcome ? after_fault::reply : after_fault::carry_on;
}

/// DNS faults act on the DNS responder's queries (server/net/dns/faults.cpp), never here.
template <class F>
requires std::is_base_of_v<core::faults::dns_fault, F> task<after_fault> run(const F&, wire& w) {
  co_return w.outcome ? after_fault::reply : after_fault::carry_on;
}

}  // namespace

task<after_fault> execute(const core::fault& f, wire& w) {
  return std::visit([&w](const auto& x) { return run(x, w); }, f);
}

}  // namespace fortisim::net
