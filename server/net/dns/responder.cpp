// The DNS responder on the wire: one UDP socket and one TCP listener on the same port, on worker
// 0's loop. Each datagram is answered at once (or handed to a coroutine that asks the upstream);
// each TCP connection is a coroutine that answers framed queries one after another until it goes
// idle. What to answer is decided by dns::resolve (dns_message.cpp); every query is journaled.
#include "server/net/dns/responder.hpp"

#include "protocol/formats.hpp"
#include "protocol/hosts.hpp"
#include "server/net/io/config.hpp"
#include "server/net/io/deadline.hpp"
#include "server/net/io/listeners.hpp"
#include "server/net/io/log_failure.hpp"

namespace fortisim::net {

namespace beast = boost::beast;
using std::chrono::milliseconds;

namespace {

/// How long the upstream has to answer a forwarded query before the client gets SERVFAIL.
constexpr std::int64_t upstream_timeout_ms = 2000;
/// How long a TCP connection may wait for its next query (RFC 7766 §6.2.3 suggests seconds): short,
/// so that idle connections give their places back soon.
constexpr std::int64_t tcp_idle_ms = 3000;
constexpr std::int64_t tcp_write_ms = 5000;
/// The largest query taken over TCP: real queries are tens of bytes; a larger message ends the connection.
constexpr std::size_t tcp_query_limit = 4096;
/// Bounds on what one client can make fortisim hold: datagrams waiting (for the upstream or a
/// rule's delay), and TCP connections.
constexpr int max_waiting = 256;
constexpr int max_tcp_sessions = 64;
/// TCP connections one client address may hold at once: one client cannot keep the others out.
constexpr int max_tcp_sessions_per_client = 8;

/// Sends the upstream's answer, or SERVFAIL (the question echoed) when there is none.
void relay(std::span<const std::uint8_t> query, upstream_answer& a, dns::resolution& r) {
  if (!a.wire.empty()) {
    r.wire = std::move(a.wire);
    r.action = "forwarded: " + a.what;
  } else {
    r.wire = dns::servfail(query);
    r.action = "SERVFAIL: " + a.what;
  }
  r.next = r.wire.empty() ? dns::resolution::step::drop : dns::resolution::step::reply;
}

/// Why binding failed, with a word about port 53, which a local resolver often holds.
startup_error dns_bind_error(const boost::system::error_code& ec, const udp::endpoint& where) {
  std::string line = bind_failure(ec, endpoint_text(where), "--dns");
  if (ec == boost::system::errc::address_in_use && where.port() == 53)
    line +=
        " (on port 53 it is often a local resolver such as systemd-resolved or dnsmasq: give --dns the "
        "address the lab reaches, e.g. 192.0.2.1:53)";
  return startup_error(line);
}

}  // namespace

dns_responder::dns_responder(asio::io_context& loop, dns_settings settings, std::shared_ptr<core::engine> engine)
    : loop_(loop), settings_(std::move(settings)), engine_(std::move(engine)), udp_(loop), tcp_(loop) {
  refuse_own_upstream(settings_.listen);  // before binding: a busy port must not hide the mistake
  bind(settings_.listen);
  endpoint_ = udp_.local_endpoint();
  refuse_own_upstream(endpoint_);  // the port the system chose for port 0
}

void dns_responder::refuse_own_upstream(const udp::endpoint& own) const {
  const auto& up = settings_.upstream;
  if (up && own.port() != 0 && up->port() == own.port() &&
      (up->address() == own.address() || (own.address().is_unspecified() && up->address().is_loopback())))
    throw startup_error("--dns-upstream " + endpoint_text(*up) +
                        " is fortisim's own --dns: queries would go round in circles; give another resolver");
}

void dns_responder::bind(const udp::endpoint& where) {
  // UDP first: with port 0 it picks the port, and TCP takes the same one. Should another program
  // hold that port for TCP, pick again. (No SO_REUSEADDR on UDP: on Linux it would let us share a
  // port another resolver holds, and split its queries.)
  for (int attempt = 0;; ++attempt) {
    boost::system::error_code ec;
    udp_.open(where.protocol(), ec);
    if (!ec) udp_.bind(where, ec);
    if (ec) throw dns_bind_error(ec, where);
    udp::endpoint bound = udp_.local_endpoint(ec);
    tcp::endpoint stream_where(bound.address(), bound.port());
    if (!ec) tcp_.open(stream_where.protocol(), ec);
    if (!ec) tcp_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) tcp_.bind(stream_where, ec);
    if (!ec) tcp_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) return;
    if (where.port() != 0 || attempt == 10) throw dns_bind_error(ec, bound);
    boost::system::error_code ignored;
    udp_.close(ignored);
    tcp_.close(ignored);
  }
}

void dns_responder::start() {
  asio::co_spawn(loop_, udp_loop(), [e = engine_](std::exception_ptr ex) { log_failure(*e, ex, "DNS over UDP"); });
  asio::co_spawn(loop_, tcp_accept_loop(),
                 [e = engine_](std::exception_ptr ex) { log_failure(*e, ex, "DNS over TCP"); });
  auto names = protocol::host_names_of(settings_.names);
  auto scenario = engine_->current_scenario();  // alive while its names are read (a reload may come)
  names.insert(names.end(), scenario->dns_names.begin(), scenario->dns_names.end());
  auto address = [](const std::string& a) { return a.empty() ? protocol::json(nullptr) : protocol::json(a); };
  engine_->notice("dns", {{"listen", endpoint_text(endpoint_)},
                          {"a", address(settings_.answers.v4)},
                          {"aaaa", address(settings_.answers.v6)},
                          {"upstream", settings_.upstream ? endpoint_text(*settings_.upstream) : "none (NXDOMAIN)"},
                          {"names", names}});
}

dns::resolution dns_responder::resolve(std::span<const std::uint8_t> message) const {
  try {
    auto scenario = engine_->current_scenario();  // a reload brings its names
    return dns::resolve(message, scenario->dns_names, settings_.answers, settings_.upstream.has_value(),
                        settings_.names);
  } catch (const std::exception& e) {  // out of memory: this query goes unanswered, the next may not
    dns::resolution r;
    r.action = std::string("dropped: ") + e.what();
    return r;
  }
}

std::pair<std::string, std::int64_t> dns_responder::apply_rules(const std::string& client,
                                                                std::span<const std::uint8_t> message,
                                                                dns::resolution& r, bool over_tcp) const {
  if (r.name.empty()) return {};  // no question read: nothing for a rule to test
  std::string qname = r.name;
  std::transform(qname.begin(), qname.end(), qname.begin(), protocol::ascii_lower);
  // A name with bytes ldns escapes ("evil\.lab" is one label) is no host name: no qname test
  // matches it (a suffix ".lab" must not), while rules that test no name still apply.
  if (qname.find('\\') != std::string::npos) qname.clear();
  auto verdict = engine_->on_dns_query(client, qname, r.type);
  if (verdict.rule.empty()) return {};
  try {
    return {verdict.rule, apply_dns_fault(verdict.act.what, message, r, settings_.upstream.has_value(), over_tcp)};
  } catch (const std::exception& e) {  // out of memory: this query goes unanswered
    r.next = dns::resolution::step::drop;
    r.action = std::string("dropped: ") + e.what();
    return {verdict.rule, 0};
  }
}

void dns_responder::journal(const std::string& client, const dns::resolution& r, std::string_view rule) const {
  engine_->note_dns(client, r.name, r.type, r.action, rule);
}

task<> dns_responder::udp_loop() {
  std::vector<std::uint8_t> buffer(65535);  // the largest datagram: none is cut
  for (;;) {
    udp::endpoint client;
    auto [ec, n] = co_await udp_.async_receive_from(asio::buffer(buffer), client, use_nothrow);
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;  // stopping
    if (ec) {
      co_await sleep_for(5);  // out of memory and the like: nothing was received; do not spin
      continue;
    }
    std::span<const std::uint8_t> message(buffer.data(), n);
    std::string who = client.address().to_string();
    dns::resolution r = resolve(message);
    auto [rule, delay_ms] = apply_rules(who, message, r, false);
    if (r.next == dns::resolution::step::forward || delay_ms > 0) {
      if (waiting_ < max_waiting) {
        ++waiting_;
        asio::co_spawn(
            loop_, answer_udp_later({message.begin(), message.end()}, client, std::move(r), std::move(rule), delay_ms),
            [this](std::exception_ptr e) {
              --waiting_;
              log_failure(*engine_, e, "DNS forwarding");
            });
        continue;
      }
      upstream_answer none{{}, "too many queries waiting (" + std::to_string(max_waiting) + ")"};
      relay(message, none, r);
    }
    journal(who, r, rule);
    if (r.next == dns::resolution::step::reply) co_await udp_.async_send_to(asio::buffer(r.wire), client, use_nothrow);
  }
}

task<> dns_responder::answer_udp_later(std::vector<std::uint8_t> query, udp::endpoint client, dns::resolution r,
                                       std::string rule, std::int64_t delay_ms) {
  if (delay_ms > 0) co_await sleep_for(delay_ms);
  if (r.next == dns::resolution::step::forward) {
    auto answer = co_await ask_upstream(*settings_.upstream, query, upstream_timeout_ms);
    relay(query, answer, r);
  }
  if (delay_ms > 0) r.action = "after " + std::to_string(delay_ms) + " ms: " + r.action;
  journal(client.address().to_string(), r, rule);
  if (r.next == dns::resolution::step::reply) co_await udp_.async_send_to(asio::buffer(r.wire), client, use_nothrow);
}

task<> dns_responder::tcp_accept_loop() {
  for (;;) {
    tcp::endpoint peer;  // as accept() gave it: a connection reset since has no peer
    auto [ec, socket] = co_await tcp_.async_accept(peer, use_nothrow);
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;  // stopping
    if (ec) {
      co_await sleep_for(50);  // out of descriptors and the like: back off rather than spin
      continue;
    }
    auto client = peer.address();
    if (tcp_sessions_ >= max_tcp_sessions || tcp_per_client_[client] >= max_tcp_sessions_per_client) {
      if (auto it = tcp_per_client_.find(client); it != tcp_per_client_.end() && it->second == 0)
        tcp_per_client_.erase(it);
      continue;  // closed as it goes out of scope
    }
    ++tcp_sessions_;
    ++tcp_per_client_[client];
    asio::co_spawn(loop_, tcp_session(std::move(socket), client.to_string()), [this, client](std::exception_ptr e) {
      --tcp_sessions_;
      if (--tcp_per_client_[client] == 0) tcp_per_client_.erase(client);
      log_failure(*engine_, e, "DNS over TCP session");
    });
  }
}

task<> dns_responder::tcp_session(tcp::socket socket, std::string client) {
  beast::tcp_stream stream(std::move(socket));
  std::vector<std::uint8_t> query;
  for (;;) {
    stream.expires_after(milliseconds(tcp_idle_ms));
    if (auto rec = co_await read_framed(stream, query, tcp_query_limit)) {
      if (rec == asio::error::message_size) {
        dns::resolution r;
        r.action = "dropped: a TCP message of 0 or over " + std::to_string(tcp_query_limit) + " bytes";
        journal(client, r);
      }
      co_return;  // the client closed, went idle, or broke the framing
    }
    dns::resolution r = resolve(query);
    auto [rule, delay_ms] = apply_rules(client, query, r, true);
    if (delay_ms > 0) co_await sleep_for(delay_ms);
    if (r.next == dns::resolution::step::forward) {
      auto answer = co_await ask_upstream(tcp::endpoint(settings_.upstream->address(), settings_.upstream->port()),
                                          query, upstream_timeout_ms);
      relay(query, answer, r);
    }
    if (delay_ms > 0) r.action = "after " + std::to_string(delay_ms) + " ms: " + r.action;
    journal(client, r, rule);
    // A rule's drop: no answer, the connection kept open, as a resolver that never answers (the
    // client times out, or asks again). Otherwise a response or a torn header: nothing to say.
    if (r.next != dns::resolution::step::reply && !rule.empty()) continue;
    if (r.next != dns::resolution::step::reply) co_return;
    stream.expires_after(milliseconds(tcp_write_ms));
    if (co_await write_framed(stream, r.wire)) co_return;
  }
}

}  // namespace fortisim::net
