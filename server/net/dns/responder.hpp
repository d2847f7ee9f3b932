#pragma once
// Private to server/net: the DNS responder (fortisim serve --dns ADDR:PORT), so that a lab
// FortiGate can use fortisim as its resolver (docs/protocol.md §6). It answers A and AAAA for
// every Fortinet name (protocol/hosts.hpp) and the scenario's "dns.names" with fortisim's address,
// and NXDOMAIN for other names, or relays them to --dns-upstream over the transport they came by.
// UDP and TCP, on worker 0's loop; every query is journaled (stage "dns"). The messages are
// ldns's (dns_message.cpp); this side moves bytes: dns.cpp the sockets, dns_upstream.cpp the
// upstream resolver, dns_settings.cpp the options.

#include "server/core/engine/engine.hpp"
#include "server/net/dns/message.hpp"
#include "server/net/io/endpoint.hpp"

#include <boost/beast/core/tcp_stream.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace fortisim::net {

struct server_config;

/// The DNS responder's options, checked: --dns, --dns-answer, --dns-upstream.
struct dns_settings {
  udp::endpoint listen;                   ///< --dns 127.0.0.1:0: UDP and TCP on one port (0: a free one)
  dns::answer_addresses answers;          ///< --dns-answer, else fortisim's own address (dns_settings.cpp)
  std::optional<udp::endpoint> upstream;  ///< --dns-upstream 192.0.2.53[:53]; none: NXDOMAIN for other names
  protocol::host_names names = protocol::host_names::all;  ///< --dns-names: the Fortinet names answered
};

/// The DNS options of `cfg`, or nothing when --dns is not given. `listen` is the --listen
/// endpoint: unless it is a wildcard, its address is the default answer; else this host's primary
/// address (the one a route to 192.0.2.1 leaves from), else 127.0.0.1. Throws startup_error.
std::optional<dns_settings> dns_settings_of(const server_config& cfg, const tcp::endpoint& listen);

/// The responder: a UDP socket and a TCP listener on one port of one loop. Its coroutines run on
/// that loop only, so its counters need no lock.
class dns_responder {
 public:
  /// Binds UDP and TCP on `settings.listen`. Throws startup_error naming --dns and the fix.
  dns_responder(asio::io_context& loop, dns_settings settings, std::shared_ptr<core::engine> engine);
  dns_responder(const dns_responder&) = delete;
  dns_responder& operator=(const dns_responder&) = delete;

  /// Starts answering (before the loop's thread runs) and logs the settings.
  void start();
  /// Where it answers, with the port it got.
  udp::endpoint endpoint() const { return endpoint_; }

 private:
  task<> udp_loop();
  /// A UDP query whose answer waits: for a rule's delay, then for the upstream when forwarded.
  task<> answer_udp_later(std::vector<std::uint8_t> query, udp::endpoint client, dns::resolution r, std::string rule,
                          std::int64_t delay_ms);
  task<> tcp_accept_loop();
  task<> tcp_session(tcp::socket socket, std::string client);
  void bind(const udp::endpoint& where);
  /// Refuses an upstream that is this responder itself (queries would loop).
  void refuse_own_upstream(const udp::endpoint& own) const;
  dns::resolution resolve(std::span<const std::uint8_t> message) const;
  /// The scenario's DNS rules applied to `r`: the rule that fired ("" for none) and the delay it asks.
  std::pair<std::string, std::int64_t> apply_rules(const std::string& client, std::span<const std::uint8_t> message,
                                                   dns::resolution& r, bool over_tcp) const;
  void journal(const std::string& client, const dns::resolution& r, std::string_view rule = {}) const;

  asio::io_context& loop_;
  dns_settings settings_;
  std::shared_ptr<core::engine> engine_;
  udp::socket udp_;
  tcp::acceptor tcp_;
  udp::endpoint endpoint_;
  int waiting_ = 0;                                  ///< UDP queries waiting for the upstream or a delay
  int tcp_sessions_ = 0;                             ///< open TCP connections
  std::map<asio::ip::address, int> tcp_per_client_;  ///< open TCP connections by client address
};

/// Applies a DNS-stage rule's action `f` to `r`, the usual resolution of `query`: an NXDOMAIN,
/// SERVFAIL or REFUSED answer, none (drop), other addresses, an empty answer with the TC bit over
/// UDP (over TCP nothing changes); for a delay, `r` is left alone and the wait in ms returned.
/// dns/faults.cpp
std::int64_t apply_dns_fault(const core::fault& f, std::span<const std::uint8_t> query, dns::resolution& r,
                             bool forwarding, bool over_tcp);

/// What the upstream resolver said to one query.
struct upstream_answer {
  std::vector<std::uint8_t> wire;  ///< its answer, carrying the client's id; empty when there is none
  std::string what;                ///< its response code ("NOERROR"), or why none ("upstream did not answer")
};

/// Asks `upstream` over UDP from a new socket (a random source port) under a new random id, so
/// only its answer to this query is taken; waits `timeout_ms` at most.
task<upstream_answer> ask_upstream(udp::endpoint upstream, std::vector<std::uint8_t> query, std::int64_t timeout_ms);
/// The same over a new TCP connection, for a query that came over TCP.
task<upstream_answer> ask_upstream(tcp::endpoint upstream, std::vector<std::uint8_t> query, std::int64_t timeout_ms);

/// Reads one DNS message framed for TCP (a two-byte length, then the message; RFC 1035 §4.2.2).
/// A length of 0 or over `limit` gives asio::error::message_size (with `message` holding nothing).
task<boost::system::error_code> read_framed(boost::beast::tcp_stream& stream, std::vector<std::uint8_t>& message,
                                            std::size_t limit);
/// Writes one DNS message framed for TCP.
task<boost::system::error_code> write_framed(boost::beast::tcp_stream& stream, std::span<const std::uint8_t> message);

}  // namespace fortisim::net
