// The DNS responder (--dns): the real binary asked by dig over UDP and TCP on loopback, forwarding
// to a second fortisim, the journal, start-up failures, garbage; and the message logic alone,
// without sockets, under seeded mutations of a query.
#include "prelude.hpp"
#include "protocol/hosts.hpp"
#include "server/net/dns/message.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>
#include <random>

namespace {

/// `fortisim serve` options: the DNS responder on 127.0.0.1:0, `scenario`, one thread, and `more`.
std::vector<std::string> with_dns(const std::string& scenario, std::vector<std::string> more) {
  std::vector<std::string> args{"--dns", "127.0.0.1:0", "--scenario", scenario, "--threads", "1"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

/// A fortisim serving `scenario_json` (lab.json of its own folder) with the DNS responder on
/// 127.0.0.1:0 and `more` options.
struct dns_server {
  temp_folder scenario;
  served_binary p;
  dns_server(const std::string& name, const std::string& scenario_json, std::vector<std::string> more = {})
      : scenario("dns-" + name), p(with_dns(scenario.write("lab.json", scenario_json), std::move(more))) {}
  std::uint16_t port() const { return p.dns_port(); }
  std::uint16_t admin() const { return p.admin_port(); }
  /// dig's output for `args` (bounded: one try of 3 s, and `timeout` around it).
  std::string dig(const std::string& args) const {
    return run("timeout 10 dig @127.0.0.1 -p " + std::to_string(port()) + " +time=3 +tries=1 " + args + " 2>&1");
  }
  /// The journal's DNS entries.
  std::vector<json> journal() const {
    std::vector<json> out;
    for (auto& e : json::parse(control(admin(), "GET", "/journal").second))
      if (e["stage"] == "dns") out.push_back(e);
    return out;
  }
};

/// The status dig reports ("NOERROR", "NXDOMAIN", …), from `+noall +comments`.
std::string status_of(const std::string& dig_output) {
  auto at = dig_output.find("status: ");
  if (at == std::string::npos) return "no status in: " + dig_output;
  at += 8;
  return dig_output.substr(at, dig_output.find(',', at) - at);
}

/// A query as a client sends it: header (id, RD), one question.
std::vector<std::uint8_t> query_bytes(std::uint16_t id, const std::string& name, std::uint16_t type) {
  std::vector<std::uint8_t> q{
      static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id), 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  std::size_t start = 0;
  while (start < name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(static_cast<std::uint8_t>(dot - start));
    q.insert(q.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  for (std::uint8_t b :
       {std::uint8_t{0}, std::uint8_t(type >> 8), std::uint8_t(type), std::uint8_t{0}, std::uint8_t{1}})
    q.push_back(b);
  return q;
}

/// A UDP socket on 127.0.0.1 with a free port; closed in the destructor.
struct udp_socket {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::uint16_t port = bind_loopback(fd);
  ~udp_socket() { ::close(fd); }
  void send_to(std::uint16_t to, const std::vector<std::uint8_t>& bytes) const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(to);
    ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
};

/// Connects over TCP, sends `bytes`, and reads until the server closes (3 s at most).
void tcp_send(std::uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  timeval limit{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  CHECK(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
  char sink[512];
  while (::recv(fd, sink, sizeof sink, 0) > 0) {
  }
  ::close(fd);
}

/// The first line of `text` ("" if none).
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

TEST_SUITE("dns") {

TEST_CASE("dig gets every Fortinet name's A and AAAA over UDP and TCP, other names NXDOMAIN, each query journaled") {
  dns_server srv("answers", R"({"dns": {"names": ["lab.example.net"]}})",
                 {"--dns-answer", "192.0.2.10", "--dns-answer", "2001:db8::10"});
  REQUIRE(srv.p.ready()["dns"].get<std::string>().starts_with("127.0.0.1:"));
  for (const auto& name : protocol::fortinet_host_names()) {
    CAPTURE(name);
    CHECK(srv.dig(name + " A +short") == "192.0.2.10\n");
    CHECK(srv.dig(name + " A +short +tcp") == "192.0.2.10\n");
    CHECK(srv.dig(name + " AAAA +short") == "2001:db8::10\n");
  }
  CHECK(srv.dig("FDS1.Fortinet.COM. A +short") == "192.0.2.10\n");    // case-insensitive, absolute
  CHECK(srv.dig("Lab.Example.Net A +short +tcp") == "192.0.2.10\n");  // the scenario's name
  CHECK(srv.dig("fds1.fortinet.com A +noall +answer").find("\t60\tIN\tA\t192.0.2.10") != std::string::npos);
  CHECK(status_of(srv.dig("example.com A +noall +comments")) == "NXDOMAIN");
  CHECK(status_of(srv.dig("x.fds1.fortinet.com A +noall +comments +tcp")) == "NXDOMAIN");
  auto mx = srv.dig("fds1.fortinet.com MX +noall +comments +answer");
  CHECK(status_of(mx) == "NOERROR");
  CHECK(mx.find("ANSWER: 0") != std::string::npos);

  auto entries = srv.journal();
  REQUIRE(entries.size() == 3 * protocol::fortinet_host_names().size() + 6);
  CHECK(entries[0]["client_address"] == "127.0.0.1");
  CHECK(entries[0]["target"] == protocol::fortinet_host_names()[0]);
  CHECK(entries[0]["type"] == "A");
  CHECK(entries[0]["action"] == "A 192.0.2.10");
  CHECK(entries[2]["type"] == "AAAA");
  CHECK(entries[2]["action"] == "AAAA 2001:db8::10");
  auto& nx = entries[entries.size() - 3];
  CHECK(nx["target"] == "example.com");
  CHECK(nx["action"] == "NXDOMAIN");
  CHECK(entries.back()["type"] == "MX");
  CHECK(entries.back()["action"] == "NOERROR: no MX record");
}

TEST_CASE("--dns-names token: the token path's names answered, FortiGuard's treated as any other name") {
  dns_server srv("token-names", R"({"dns": {"names": ["lab.example.net"]}})", {"--dns-names", "token"});
  const auto& token = protocol::host_names_of(protocol::host_names::token);
  for (const auto& name : protocol::fortinet_host_names()) {
    CAPTURE(name);
    bool answered = std::find(token.begin(), token.end(), name) != token.end();
    CHECK(status_of(srv.dig(name + " A +noall +comments")) == (answered ? "NOERROR" : "NXDOMAIN"));
    if (answered) CHECK(srv.dig(name + " A +short +tcp") == "127.0.0.1\n");
  }
  CHECK(srv.dig("lab.example.net A +short") == "127.0.0.1\n");  // the scenario's names stay answered
  CHECK(srv.journal().back()["action"] == "A 127.0.0.1");
}

TEST_CASE("by default the answer is the --listen address, and AAAA without an IPv6 answer is NOERROR and empty") {
  dns_server srv("default", "{}");
  CHECK(srv.dig("directregistration.fortinet.com +short") == "127.0.0.1\n");
  auto aaaa = srv.dig("directregistration.fortinet.com AAAA +noall +comments +answer");
  CHECK(status_of(aaaa) == "NOERROR");
  CHECK(aaaa.find("ANSWER: 0") != std::string::npos);
  CHECK(srv.journal().back()["action"] == "NOERROR: no AAAA record");
  // The ready line says null when the responder is off.
  served_binary off({"--scenario", source + "/scenarios/default.json", "--threads", "1"});
  CHECK(off.ready()["dns"].is_null());
}

TEST_CASE("listening on a wildcard, the answer is this host's own address") {
  dns_server srv("wildcard", "{}", {"--listen", "0.0.0.0:0"});
  auto got = first_line(srv.dig("fds1.fortinet.com +short"));
  in_addr parsed{};
  CHECK(::inet_pton(AF_INET, got.c_str(), &parsed) == 1);
  // The address a route to a documentation address leaves from, as fortisim finds it.
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in probe{};
  probe.sin_family = AF_INET;
  probe.sin_port = htons(53);
  ::inet_pton(AF_INET, "192.0.2.1", &probe.sin_addr);
  std::string expected = "127.0.0.1";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&probe), sizeof probe) == 0) {
    sockaddr_in local{};
    socklen_t len = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    char text[INET_ADDRSTRLEN] = "";
    ::inet_ntop(AF_INET, &local.sin_addr, text, sizeof text);
    expected = text;
  }
  ::close(fd);
  CHECK(got == expected);
}

TEST_CASE("a reload takes the scenario's new dns.names") {
  dns_server srv("reload", R"({"dns": {"names": ["one.lab"]}})", {"--dns-answer", "192.0.2.10"});
  CHECK(srv.dig("one.lab +short") == "192.0.2.10\n");
  CHECK(status_of(srv.dig("two.lab +noall +comments")) == "NXDOMAIN");
  srv.scenario.write("lab.json", R"({"dns": {"names": ["two.lab"]}})");
  CHECK(control(srv.admin(), "POST", "/reload").first == 200);
  CHECK(srv.p.next_event("reload", 5s).value("ok", false));  // the control API's, logged too
  CHECK(srv.dig("two.lab +short") == "192.0.2.10\n");
  CHECK(status_of(srv.dig("one.lab +noall +comments")) == "NXDOMAIN");
  srv.scenario.write("lab.json", R"({"dns": {"names": ["three.lab"]}})");
  srv.p.signal(SIGHUP);
  CHECK(srv.p.next_event("reload", 5s).value("ok", false));  // logged once the new scenario is live
  CHECK(srv.dig("three.lab +short") == "192.0.2.10\n");
}

TEST_CASE("other names go to --dns-upstream over the same transport, and come back with its answer") {
  // The upstream: a second fortisim that knows lab.example.net, and answers with another address.
  dns_server upstream("upstream", R"({"dns": {"names": ["lab.example.net"]}})", {"--dns-answer", "192.0.2.20"});
  dns_server srv("forwarder", "{}",
                 {"--dns-answer", "192.0.2.10", "--dns-upstream", "127.0.0.1:" + std::to_string(upstream.port())});
  CHECK(srv.dig("lab.example.net +short") == "192.0.2.20\n");
  CHECK(srv.dig("lab.example.net +short +tcp") == "192.0.2.20\n");
  CHECK(srv.dig("fds1.fortinet.com +short") == "192.0.2.10\n");                 // its own names stay its own
  CHECK(status_of(srv.dig("nowhere.example +noall +comments")) == "NXDOMAIN");  // the upstream's NXDOMAIN
  // With an upstream, fortisim offers recursion (RA): dig does not warn.
  auto flags = srv.dig("fds1.fortinet.com +noall +comments");
  CHECK(flags.find("recursion requested but not available") == std::string::npos);

  auto mine = srv.journal();
  REQUIRE(mine.size() == 5);
  CHECK(mine[0]["target"] == "lab.example.net");
  CHECK(mine[0]["action"] == "forwarded: NOERROR");
  CHECK(mine[1]["action"] == "forwarded: NOERROR");
  CHECK(mine[2]["action"] == "A 192.0.2.10");
  CHECK(mine[3]["action"] == "forwarded: NXDOMAIN");
  CHECK(mine[4]["action"] == "A 192.0.2.10");
  auto theirs = upstream.journal();
  REQUIRE(theirs.size() == 3);
  CHECK(theirs[0]["action"] == "A 192.0.2.20");
  CHECK(theirs[2]["action"] == "NXDOMAIN");
}

TEST_CASE("an upstream that does not answer: SERVFAIL after 2 s, one that refuses: SERVFAIL at once") {
  udp_socket silent;  // bound, never answers; nothing listens on its port over TCP
  dns_server srv("silent", "{}", {"--dns-upstream", "127.0.0.1:" + std::to_string(silent.port)});
  auto started = std::chrono::steady_clock::now();
  CHECK(status_of(srv.dig("example.com +noall +comments")) == "SERVFAIL");
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(took >= 1900ms);
  CHECK(took < 3000ms);
  CHECK(status_of(srv.dig("example.com +noall +comments +tcp")) == "SERVFAIL");
  auto entries = srv.journal();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0]["action"] == "SERVFAIL: upstream did not answer within 2000 ms");
  CHECK(entries[1]["action"].get<std::string>().starts_with("SERVFAIL: upstream refused"));
}

TEST_CASE(
    "dns-broken.json: SERVFAIL, NXDOMAIN, another address, lost queries, TC then TCP, a delay, each with its rule") {
  std::ifstream file(std::string(FORTISIM_SOURCE_DIR) + "/scenarios/dns-broken.json");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  REQUIRE_FALSE(text.empty());
  dns_server srv("broken", text, {"--dns-answer", "192.0.2.10", "--dns-answer", "2001:db8::10"});
  // The first two AAAA queries get no answer at all; the third is answered.
  CHECK(srv.dig("push.fortinet.com AAAA +time=1").find("timed out") != std::string::npos);
  CHECK(srv.dig("push.fortinet.com AAAA +time=1 +tcp").find("2001:db8::10") == std::string::npos);
  CHECK(srv.dig("push.fortinet.com AAAA +short") == "2001:db8::10\n");
  for (const char* tcp : {"", " +tcp"}) {
    CAPTURE(tcp);
    CHECK(status_of(srv.dig("directregistration.fortinet.com +noall +comments" + std::string(tcp))) == "SERVFAIL");
    CHECK(status_of(srv.dig("globalftm.fortinet.net +noall +comments" + std::string(tcp))) == "NXDOMAIN");
    CHECK(srv.dig("FORTINET-CA2.fortinet.com. +short" + std::string(tcp)) == "192.0.2.66\n");  // any case
  }
  CHECK(srv.dig("fortinet-ca2.fortinet.com AAAA +short") == "2001:db8::10\n");  // its rule tests A only
  // Truncated over UDP: dig, told to ignore it, shows the TC flag and no answer; left to itself,
  // it asks again over TCP and gets the answer there.
  auto cut = srv.dig("fds1.fortinet.com A +ignore +noall +comments");
  CHECK(cut.find(" tc") != std::string::npos);
  CHECK(cut.find("ANSWER: 0") != std::string::npos);
  CHECK(srv.dig("fds1.fortinet.com A +short") == "192.0.2.10\n");
  auto started = std::chrono::steady_clock::now();
  CHECK(srv.dig("update.fortiguard.net +short") == "192.0.2.10\n");
  CHECK(std::chrono::steady_clock::now() - started >= 1400ms);

  auto entries = srv.journal();
  REQUIRE(entries.size() == 14);
  CHECK(entries[0]["rule"] == "first two AAAA lost");
  CHECK(entries[0]["action"] == "dropped: no answer");
  CHECK(entries[1]["rule"] == "first two AAAA lost");
  CHECK(entries[2]["rule"] == "");
  CHECK(entries[2]["action"] == "AAAA 2001:db8::10");
  CHECK(entries[3]["rule"] == "registration unresolvable");
  CHECK(entries[3]["action"] == "SERVFAIL");
  CHECK(entries[4]["action"] == "NXDOMAIN");
  CHECK(entries[5]["action"] == "A 192.0.2.66");
  CHECK(entries[5]["target"] == "FORTINET-CA2.fortinet.com");
  CHECK(entries[10]["rule"] == "FortiGuard truncated");
  CHECK(entries[10]["action"] == "truncated (TC): ask again over TCP");
  CHECK(entries[11]["action"] == "truncated (TC): ask again over TCP");
  CHECK(entries[12]["rule"] == "FortiGuard truncated");
  CHECK(entries[12]["action"] == "A 192.0.2.10");  // the retry over TCP
  CHECK(entries[13]["rule"] == "update slow");
  CHECK(entries[13]["action"] == "after 1500 ms: A 192.0.2.10");
  // Counted as every rule is: GET /rules and the metrics.
  auto rules = json::parse(control(srv.admin(), "GET", "/rules").second);
  for (const auto& r : rules)
    if (r["name"] == "first two AAAA lost") CHECK(r["fired"] == 2);
}

TEST_CASE("a DNS rule added at runtime: by client and query ordinal, every second query refused, removed again") {
  dns_server srv("runtime", "{}", {"--dns-answer", "192.0.2.10"});
  auto [status, body] = control(srv.admin(), "POST", "/rules",
                                R"({"name": "every second", "when": {"client_address": "127.0.0.1",
                                    "query": {"every": 2}}, "then": {"action": "dns_refused"}})");
  REQUIRE(status == 200);
  CHECK(status_of(srv.dig("fds1.fortinet.com +noall +comments")) == "NOERROR");
  CHECK(status_of(srv.dig("fds1.fortinet.com +noall +comments")) == "REFUSED");
  CHECK(status_of(srv.dig("fds1.fortinet.com +noall +comments +tcp")) == "NOERROR");
  CHECK(status_of(srv.dig("fds1.fortinet.com +noall +comments +tcp")) == "REFUSED");
  auto bad = control(srv.admin(), "POST", "/rules",
                     R"({"name": "mixed", "when": {"qname": "x.lab"}, "then": {"action": "status", "status": 500}})");
  CHECK(bad.first == 422);
  CHECK(bad.second.find("tests a DNS query") != std::string::npos);
  CHECK(control(srv.admin(), "DELETE", "/rules/every%20second").first == 200);
  CHECK(status_of(srv.dig("fds1.fortinet.com +noall +comments")) == "NOERROR");
  CHECK(status_of(srv.dig("fds1.fortinet.com +noall +comments")) == "NOERROR");
}

TEST_CASE("garbage over UDP and TCP gets FORMERR or nothing, and the responder goes on answering") {
  dns_server srv("garbage", "{}", {"--dns-answer", "192.0.2.10", "--quiet"});
  udp_socket client;
  std::mt19937 rng(2024);
  for (int i = 0; i < 500; ++i) {
    std::vector<std::uint8_t> junk(rng() % 200);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    if (!junk.empty()) client.send_to(srv.port(), junk);
  }
  // A query ldns cannot parse, whose header still allows a reply: FORMERR.
  auto torn = query_bytes(0x4242, "fds1.fortinet.com", 1);
  torn.resize(torn.size() - 3);
  client.send_to(srv.port(), torn);
  // Over TCP: a length over the limit ("ju" is 27253 bytes), then a length of 0.
  tcp_send(srv.port(), "junkjunkjunk");
  tcp_send(srv.port(), std::string("\0\0", 2));
  CHECK(srv.dig("fds1.fortinet.com +short") == "192.0.2.10\n");
  CHECK(srv.dig("fds1.fortinet.com +short +tcp") == "192.0.2.10\n");
  int formerr = 0, too_large = 0;
  for (const auto& e : srv.journal()) {
    formerr += e["action"].get<std::string>().starts_with("FORMERR");
    too_large += e["action"] == "dropped: a TCP message of 0 or over 4096 bytes";
  }
  CHECK(formerr > 0);
  CHECK(too_large == 2);
}

TEST_CASE("start-up failures of the DNS options print one line naming the cause and exit 2") {
  udp_socket holder;  // a UDP port another program holds
  for (auto& [args, words] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--dns", "nonsense"}, "--dns nonsense: expected ADDR:PORT"},
           {{"--dns", "127.0.0.1:" + std::to_string(holder.port)}, "already in use"},
           {{"--dns", "127.0.0.1:0", "--dns-answer", "banana"}, "--dns-answer banana: expected the IP address"},
           {{"--dns", "127.0.0.1:0", "--dns-answer", "192.0.2.1", "--dns-answer", "192.0.2.2"}, "a second IPv4"},
           {{"--dns", "127.0.0.1:0", "--dns-upstream", "dns.example"}, "--dns-upstream dns.example: expected"},
           {{"--dns-upstream", "192.0.2.53"}, "give it an address too"},
           {{"--dns", "127.0.0.1:0", "--dns-names", "fortiguard"}, "--dns-names fortiguard: expected all"},
           {{"--dns-names", "token"}, "give it an address too"},
       }) {
    args.insert(args.end(), {"--scenario", source + "/scenarios/default.json"});
    auto failed = expect_startup_failure(args, {words});
    CHECK(failed.status == 2);
    CHECK(std::count(failed.err.begin(), failed.err.end(), '\n') == 1);
  }
  // Its own address as an upstream, however written (an IPv4-mapped IPv6 address too): refused before
  // binding. The test holds the port itself, so "already in use" would be the answer were it after.
  int held = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(held >= 0);
  auto port = std::to_string(bind_loopback(held));
  auto looped = expect_startup_failure({"--dns", "127.0.0.1:" + port, "--dns-upstream", "[::ffff:127.0.0.1]:" + port,
                                        "--scenario", source + "/scenarios/default.json"},
                                       {"round in circles"});
  ::close(held);
  CHECK(looped.status == 2);
}

TEST_CASE("the message logic: answers, FORMERR, and no crash on 20,000 seeded mutations of a query") {
  net::dns::answer_addresses a{"192.0.2.10", "2001:db8::10"};
  std::vector<std::string> extra{"lab.example.net"};
  auto q = query_bytes(0x1234, "fds1.fortinet.com", 1);
  auto r = net::dns::resolve(q, extra, a, false);
  CHECK(r.next == net::dns::resolution::step::reply);
  CHECK(r.name == "fds1.fortinet.com");
  CHECK(r.type == "A");
  CHECK(r.action == "A 192.0.2.10");
  CHECK(net::dns::answer_rcode(r.wire, 0x1234) == "NOERROR");
  CHECK_FALSE(net::dns::answer_rcode(r.wire, 0x1235).has_value());  // another query's id
  CHECK(net::dns::resolve(query_bytes(1, "LAB.example.net", 255), extra, a, false).action ==
        "A 192.0.2.10, AAAA 2001:db8::10");
  auto nx = net::dns::resolve(query_bytes(7, "example.com", 1), extra, a, false);
  CHECK(net::dns::answer_rcode(nx.wire, 7) == "NXDOMAIN");
  CHECK(net::dns::resolve(query_bytes(7, "example.com", 1), extra, a, true).next ==
        net::dns::resolution::step::forward);
  CHECK(net::dns::answer_rcode(net::dns::servfail(q), 0x1234) == "SERVFAIL");
  CHECK(net::dns::resolve(r.wire, extra, a, false).action == "dropped: a response, not a query");
  CHECK(net::dns::resolve(std::vector<std::uint8_t>(5, 0), extra, a, false).next == net::dns::resolution::step::drop);

  std::mt19937 rng(42);
  int replies = 0;
  for (int i = 0; i < 20'000; ++i) {
    auto m = q;
    for (int k = rng() % 4; k >= 0; --k) m[rng() % m.size()] = static_cast<std::uint8_t>(rng());
    if (rng() % 5 == 0) m.resize(rng() % (m.size() + 1));
    if (rng() % 7 == 0)
      for (int k = rng() % 40; k > 0; --k) m.push_back(static_cast<std::uint8_t>(rng()));
    auto got = net::dns::resolve(m, extra, a, rng() % 2 == 0);
    if (got.next == net::dns::resolution::step::forward) continue;  // the upstream's answer decides
    if (got.action.empty()) FAIL_CHECK("no action for a message that is not forwarded");
    if (got.next != net::dns::resolution::step::reply) continue;
    ++replies;
    // Every reply is a well-formed response to that query's id.
    if (!net::dns::answer_rcode(got.wire, net::dns::message_id(m))) FAIL_CHECK("not a response: " << got.action);
  }
  CHECK(replies > 10'000);
}

TEST_CASE("an EDNS version above 0 gets BADVERS, and version 0 its answer") {
  dns_server s("badvers", R"({})");
  CHECK(status_of(s.dig("+edns=1 +noednsnegotiation +noall +comments fds1.fortinet.com A")) == "BADVERS");
  CHECK(status_of(s.dig("+edns=0 +noall +comments fds1.fortinet.com A")) == "NOERROR");
}

TEST_CASE("DNS over TCP shares fairly: one client holding 200 connections keeps no other client out") {
  dns_server s("fair", R"({})");
  auto port = s.port();
  std::vector<int> held;  // from 127.0.0.2: another client address on the loopback
  for (int i = 0; i < 200; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in from{}, to{};
    from.sin_family = to.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(0x7f000002);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
    held.push_back(fd);
  }
  int answered = 0;  // 50 real queries from 127.0.0.1, each on its own connection
  for (int i = 0; i < 50; ++i) {
    answered += status_of(s.dig("+tcp +noall +comments fds1.fortinet.com A")) == "NOERROR";
  }
  for (int fd : held) ::close(fd);
  CHECK(answered == 50);
}

}  // TEST_SUITE
