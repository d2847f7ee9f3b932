// The DNS responder's options into settings: where it answers, what address it answers with, and
// where other names go. Every bad value is a startup_error naming the option and the fix.
#include "server/net/dns/responder.hpp"
#include "server/net/io/config.hpp"
#include "server/net/io/endpoint.hpp"

#include <algorithm>

namespace fortisim::net {

namespace {

/// The address this host's traffic towards `probe` leaves from: a UDP socket is connected there,
/// which picks a route and a source address without sending anything. 192.0.2.1 and 2001:db8::1
/// are documentation addresses (RFC 5737, RFC 3849): no host has them, any default route leads there.
std::optional<std::string> primary_address(const char* probe) {
  asio::io_context loop;
  udp::socket socket(loop);
  boost::system::error_code ec;
  auto target = asio::ip::make_address(probe, ec);
  if (!ec) socket.open(target.is_v6() ? udp::v6() : udp::v4(), ec);
  if (!ec) socket.connect(udp::endpoint(target, 53), ec);
  if (ec) return std::nullopt;  // no route: no network, or no IPv6
  auto local = socket.local_endpoint(ec).address();
  if (ec || local.is_unspecified() || (local.is_v6() && local.to_v6().is_link_local())) return std::nullopt;
  return local.to_string();
}

/// Without --dns-answer: the --listen address unless it is a wildcard; else this host's primary
/// address (IPv4, and IPv6 too when listening on [::], which takes both); else 127.0.0.1.
dns::answer_addresses default_answers(const asio::ip::address& listen) {
  dns::answer_addresses a;
  if (!listen.is_unspecified()) {
    std::string text = listen.to_string();
    if (dns::is_answer_address(text, listen.is_v6())) (listen.is_v6() ? a.v6 : a.v4) = text;
    return a;
  }
  a.v4 = primary_address("192.0.2.1").value_or("127.0.0.1");
  if (listen.is_v6()) a.v6 = primary_address("2001:db8::1").value_or("");
  return a;
}

dns::answer_addresses given_answers(const std::vector<std::string>& given) {
  dns::answer_addresses a;
  for (const auto& text : given) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(text, ec);
    if (ec || address.is_unspecified() || !dns::is_answer_address(address.to_string(), address.is_v6()))
      throw startup_error("--dns-answer " + text +
                          ": expected the IP address clients reach fortisim at, e.g. 192.0.2.10 (for A) or "
                          "2001:db8::10 (for AAAA)");
    auto& slot = address.is_v6() ? a.v6 : a.v4;
    if (!slot.empty())
      throw startup_error("--dns-answer " + text + ": a second " + (address.is_v6() ? "IPv6" : "IPv4") +
                          " address; give at most one IPv4 address (for A) and one IPv6 address (for AAAA)");
    slot = address.to_string();
  }
  return a;
}

/// "192.0.2.53", "192.0.2.53:5353", "2001:db8::53" or "[2001:db8::53]:53"; port 53 by default.
udp::endpoint upstream_endpoint(const std::string& text) {
  std::string full = text;
  auto colons = std::count(text.begin(), text.end(), ':');
  if (text.starts_with('[') ? text.ends_with(']') : colons == 0)
    full += ":53";
  else if (!text.starts_with('[') && colons > 1)
    full = "[" + text + "]:53";
  tcp::endpoint ep;
  try {
    ep = parse_endpoint(full, "--dns-upstream");
  } catch (const startup_error&) {
    ep = {};
  }
  if (ep.port() == 0 || ep.address().is_unspecified())
    throw startup_error("--dns-upstream " + text +
                        ": expected a resolver's ADDR[:PORT], e.g. 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53");
  auto address = ep.address();  // ::ffff:127.0.0.1 is 127.0.0.1: compared as such with --dns
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  return {address, ep.port()};
}

}  // namespace

std::optional<dns_settings> dns_settings_of(const server_config& cfg, const tcp::endpoint& listen) {
  if (!cfg.dns) {
    if (!cfg.dns_answers.empty() || cfg.dns_upstream || cfg.dns_names != "all")
      throw startup_error(
          "--dns-answer, --dns-upstream and --dns-names set up the DNS responder: give it an address too, e.g. "
          "--dns 0.0.0.0:53");
    return std::nullopt;
  }
  dns_settings s;
  auto where = parse_endpoint(*cfg.dns, "--dns");
  s.listen = {where.address(), where.port()};
  s.answers = cfg.dns_answers.empty() ? default_answers(listen.address()) : given_answers(cfg.dns_answers);
  if (cfg.dns_upstream) s.upstream = upstream_endpoint(*cfg.dns_upstream);
  if (cfg.dns_names != "all" && cfg.dns_names != "token")
    throw startup_error("--dns-names " + cfg.dns_names +
                        ": expected all (every Fortinet name) or token (the token path's names alone)");
  s.names = cfg.dns_names == "token" ? protocol::host_names::token : protocol::host_names::all;
  return s;
}

}  // namespace fortisim::net
