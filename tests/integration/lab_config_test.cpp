// fortisim lab-config, the real binary: each format for an IPv4 and an IPv6 address, every Fortinet
// name, and bad options refused with exit 2; then the dnsmasq and unbound lines read by the
// resolvers themselves (dnsmasq --test and a dnsmasq answering on loopback; libunbound through
// Debian's python3-unbound, and unbound-checkconf of the unbound package), each a test case of its
// own that ctest reports as skipped when its tool is missing (a failure with FORTISIM_REQUIRE_TOOLS).
#include "prelude.hpp"
#include "protocol/hosts.hpp"

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sstream>

namespace {

struct outcome {
  int status = -1;
  std::string out, err;
};

/// `fortisim lab-config ARGS` (with the lab resolver 192.0.2.53 unless ARGS say otherwise): its
/// exit status, stdout and stderr.
outcome lab_config(std::string args) {
  temp_folder dir("lab-config");
  outcome o;
  if (args.find("upstream") == std::string::npos && args.find("--undo") == std::string::npos)
    args += " --dns-upstream 192.0.2.53";
  o.out = run(std::string("'") + FORTISIM_BINARY + "' lab-config " + args + " 2>'" + dir.file("err") +
              "'; echo \"exit $?\"");
  auto last = o.out.rfind("exit ");
  REQUIRE(last != std::string::npos);
  o.status = std::stoi(o.out.substr(last + 5));
  o.out.erase(last);
  o.err = read_file(dir.file("err"));
  return o;
}

/// The lines that are neither blank nor comments.
std::vector<std::string> config_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto start = line.find_first_not_of(' ');
    if (start != std::string::npos && line[start] != '#') out.push_back(line);
  }
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  auto lines = config_lines(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

/// The full path of a program on PATH (or in /usr/sbin), or "".
std::string program(const std::string& name) {
  auto path = run("PATH=\"$PATH:/usr/sbin:/sbin\" command -v " + name + " 2>/dev/null");
  while (!path.empty() && path.back() == '\n') path.pop_back();
  return path;
}

/// A UDP port on 127.0.0.1 that was free a moment ago, for a resolver that cannot bind port 0.
std::uint16_t free_udp_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_SUITE("lab config") {

TEST_CASE("lab-config --format fortios: the resolver in clear text, unicast FortiGuard, the debug recipe (IPv4)") {
  auto r = lab_config("--address 192.0.2.10 --format fortios");
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out.find("config system dns\n    set primary 192.0.2.10\n    set secondary 0.0.0.0\n"
                   "    set protocol cleartext\nend\n") != std::string::npos);
  CHECK(r.out.find("config system fortiguard\n    set fortiguard-anycast disable\nend\n") != std::string::npos);
  for (const char* line :
       {"diagnose debug reset", "diagnose debug console timestamp enable", "diagnose debug application forticldd 255",
        "diagnose fortitoken debug enable", "diagnose debug enable", "diagnose test application dnsproxy 1"})
    CHECK_MESSAGE(has_line(r.out, line), line);
  // What must not run on a paste: the import (it needs your code) and turning debug off again.
  CHECK(r.out.find("#   execute fortitoken-mobile import 0000-0000-0000-0000-0000\n") != std::string::npos);
  CHECK(r.out.find("#   diagnose debug disable\n") != std::string::npos);
  CHECK_FALSE(has_line(r.out, "diagnose debug disable"));
  // Nothing but FortiOS commands outside comments; no other family, no resolver lines.
  for (const auto& line : config_lines(r.out)) {
    bool fortios = line.starts_with("config ") || line.starts_with("    set ") || line.starts_with("    unset ") ||
                   line == "end" || line.starts_with("diagnose ") || line.starts_with("execute ");
    CHECK_MESSAGE(fortios, line);
  }
  CHECK(r.out.find("ip6-primary") == std::string::npos);
  CHECK(r.out.find("address=/") == std::string::npos);
  CHECK(r.out.find("local-zone") == std::string::npos);
  // Every line a FortiGate is told about is marked documented or assumed.
  CHECK(r.out.find("[doc]") != std::string::npos);
  CHECK(r.out.find("[assumed]") != std::string::npos);
}

TEST_CASE("lab-config --format fortios with an IPv6 address: ip6-primary, in canonical form") {
  auto r = lab_config("--address 2001:DB8:0::10 --format fortios");
  REQUIRE(r.status == 0);
  CHECK(r.out.find("config system dns\n    set ip6-primary 2001:db8::10\n    unset ip6-secondary\n"
                   "    set protocol cleartext\nend\n") != std::string::npos);
  CHECK_FALSE(has_line(r.out, "    set primary 2001:db8::10"));
  CHECK(r.out.find("also asks its IPv4 resolvers") != std::string::npos);
  CHECK(r.out.find("--dns-answer 2001:db8::10") != std::string::npos);
}

TEST_CASE("lab-config --format dnsmasq: address= and local= for every Fortinet name, A and AAAA") {
  auto v4 = lab_config("--address 192.0.2.10 --format dnsmasq");
  auto v6 = lab_config("--address 2001:db8::10 --format dnsmasq");
  auto both = lab_config("--address 192.0.2.10 --address 2001:db8::10 --format dnsmasq");
  REQUIRE(v4.status == 0);
  REQUIRE(v6.status == 0);
  REQUIRE(both.status == 0);
  const auto& names = protocol::fortinet_host_names();
  for (const auto& name : names) {
    CHECK(has_line(v4.out, "address=/" + name + "/192.0.2.10"));
    CHECK(has_line(v4.out, "local=/" + name + "/"));
    CHECK(has_line(v6.out, "address=/" + name + "/2001:db8::10"));
    CHECK(has_line(both.out, "address=/" + name + "/192.0.2.10"));
    CHECK(has_line(both.out, "address=/" + name + "/2001:db8::10"));
  }
  CHECK(config_lines(v4.out).size() == 2 * names.size());
  CHECK(config_lines(v6.out).size() == 2 * names.size());
  CHECK(config_lines(both.out).size() == 3 * names.size());
  CHECK(v4.out.find("config system") == std::string::npos);
}

TEST_CASE("lab-config --format unbound: a redirect zone and its A or AAAA record for every Fortinet name") {
  auto v4 = lab_config("--address 192.0.2.10 --format unbound");
  auto v6 = lab_config("--address 2001:db8::10 --format unbound");
  REQUIRE(v4.status == 0);
  REQUIRE(v6.status == 0);
  const auto& names = protocol::fortinet_host_names();
  for (const auto& name : names) {
    for (const auto* r : {&v4, &v6}) CHECK(has_line(r->out, "    local-zone: \"" + name + ".\" redirect"));
    CHECK(has_line(v4.out, "    local-data: \"" + name + ". A 192.0.2.10\""));
    CHECK(has_line(v6.out, "    local-data: \"" + name + ". AAAA 2001:db8::10\""));
  }
  CHECK(config_lines(v4.out).front() == "server:");
  CHECK(config_lines(v4.out).size() == 1 + 2 * names.size());
  CHECK(v6.out.find(". A ") == std::string::npos);
}

TEST_CASE("lab-config (all): the names, how to serve them, then FortiOS, dnsmasq and unbound in that order") {
  auto r = lab_config("--address 192.0.2.10 --dns-port 5353");
  REQUIRE(r.status == 0);
  for (const auto& name : protocol::fortinet_host_names()) CHECK(r.out.find("#   " + name + "\n") != std::string::npos);
  CHECK(r.out.find("fortisim serve --listen 0.0.0.0:443 --dns 0.0.0.0:5353 --dns-answer 192.0.2.10 "
                   "--dns-upstream 192.0.2.53\n") != std::string::npos);
  CHECK(r.out.find("dig @192.0.2.10 -p 5353 directregistration.fortinet.com") != std::string::npos);
  CHECK(r.out.find("answers on port 5353, and FortiOS asks port 53") != std::string::npos);
  CHECK(r.out.find("docs/lab-guide.md") != std::string::npos);
  auto fortios = r.out.find("# ---- FortiOS CLI");
  auto debug = r.out.find("# ---- FortiOS debug");
  auto dnsmasq = r.out.find("# ---- dnsmasq");
  auto unbound = r.out.find("# ---- unbound");
  CHECK(fortios < debug);
  CHECK(debug < dnsmasq);
  CHECK(dnsmasq < unbound);
  CHECK(unbound != std::string::npos);
}

TEST_CASE("lab-config: the serve line relays other names to the lab's resolver, or says why it cannot") {
  auto none = run(std::string("'") + FORTISIM_BINARY + "' lab-config --address 192.0.2.10 2>&1; echo \"exit $?\"");
  CHECK(none.find("needs --dns-upstream, the lab's resolver for every other name") != std::string::npos);
  CHECK(none.ends_with("exit 2\n"));
  auto with = lab_config("--address 192.0.2.10 --dns-upstream [2001:db8::53]:5353 --format fortios");
  REQUIRE(with.status == 0);
  CHECK(with.out.find(" --dns-upstream [2001:db8::53]:5353\n") != std::string::npos);
  auto without = lab_config("--address 192.0.2.10 --no-upstream --format fortios");
  REQUIRE(without.status == 0);
  CHECK(without.out.find("--dns-upstream") == std::string::npos);
  CHECK(without.out.find("resolves nothing else") != std::string::npos);
}

TEST_CASE("lab-config --undo: the FortiOS block that puts back what the setup block changed") {
  auto r = lab_config("--address 192.0.2.10 --address 2001:db8::10 --undo");
  REQUIRE(r.status == 0);
  CHECK(r.out.find("config system dns\n    unset primary\n    unset secondary\n    unset ip6-primary\n"
                   "    unset protocol\nend\n") != std::string::npos);
  CHECK(r.out.find("config system fortiguard\n    set fortiguard-anycast enable\nend\n") != std::string::npos);
  CHECK(has_line(r.out, "diagnose test application dnsproxy 1"));
  CHECK_FALSE(has_line(r.out, "    set primary 192.0.2.10"));  // nothing of the setup itself
  CHECK(r.out.find("[assumed") != std::string::npos);
}

TEST_CASE("lab-config refuses what a FortiGate cannot use: one line naming the option, exit 2, no output") {
  struct bad {
    std::string args, says;
  };
  for (const auto& b : std::vector<bad>{
           {"", "needs --address"},
           {"--address directregistration.fortinet.com", "--address directregistration.fortinet.com: expected the IP"},
           {"--address 192.0.2.10:53", "not a host name, a port or a prefix"},
           {"--address 192.0.2.0/24", "not a host name, a port or a prefix"},
           {"--address 192.0.2", "expected the IP address"},
           {"--address 0.0.0.0", "no FortiGate reaches fortisim there"},
           {"--address 127.0.0.1", "no FortiGate reaches fortisim there"},
           {"--address ::1", "no FortiGate reaches fortisim there"},
           {"--address 224.0.0.1", "no FortiGate reaches fortisim there"},
           {"--address ::ffff:192.0.2.10", "IPv4-mapped"},
           {"--address 192.0.2.10 --address 192.0.2.11", "a second IPv4 address"},
           {"--address 192.0.2.10 --format yaml", "--format yaml: expected fortios, dnsmasq, unbound or all"},
           {"--address 192.0.2.10 --dns-port 0", "--dns-port 0: expected a port from 1 to 65535"},
           {"--address 192.0.2.10 --dns-port 70000", "--dns-port 70000"},
           {"--address 192.0.2.10 --no-upstream --dns-upstream 192.0.2.53", "not both"},
           {"--address 192.0.2.10 --dns-upstream 192.0.2.10:53", "is fortisim's own address"},
           {"--address 192.0.2.10 --undo --format dnsmasq", "--undo prints the FortiOS block alone"},
           {"--address 192.0.2.10 --dns-upstream resolver.lab", "--dns-upstream resolver.lab: expected the resolver"},
           {"--address 192.0.2.10 --dns-upstream 192.0.2.53:0", "expected the resolver's IP address"},
       }) {
    CAPTURE(b.args);
    auto r = lab_config(b.args);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("fortisim: lab-config "));
    CHECK(r.err.find(b.says) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("dnsmasq takes the dnsmasq lines: --test, then it answers A, keeps AAAA local, and leaves other names") {
  auto dnsmasq = program("dnsmasq");
  if (dnsmasq.empty())
    return skip_test("dnsmasq is not installed (apt-get install dnsmasq-base; scripts/packages.txt lists it)");
  temp_folder dir("lab-dnsmasq");
  auto conf = dir.write("fortisim.conf", lab_config("--address 192.0.2.10 --format dnsmasq").out);
  CHECK(run("'" + dnsmasq + "' --test --conf-file='" + conf + "' 2>&1").find("syntax check OK") != std::string::npos);

  // A dnsmasq of its own on loopback, no upstream: a query that leaves local data gets REFUSED.
  std::string port, answer;
  for (int attempt = 0; attempt < 3 && answer.empty(); ++attempt) {
    port = std::to_string(free_udp_port());
    process d({dnsmasq, "--no-daemon", "--no-resolv", "--no-hosts", "--listen-address=127.0.0.1", "--bind-interfaces",
               "--port=" + port, "--conf-file=" + conf, "--pid-file=", "--user=", "--log-facility=-"});
    // It says "started" on stderr once it listens; a port taken in between ends it first: another one.
    if (d.stderr_line_with("started, version", 10s).empty()) continue;
    auto dig = [&port](const std::string& q) {
      return run("timeout 10 dig @127.0.0.1 -p " + port + " +time=2 +tries=1 " + q + " 2>&1");
    };
    answer = dig("+short fds1.fortinet.com A");
    for (const auto& name : protocol::fortinet_host_names()) CHECK(dig("+short " + name + " A") == "192.0.2.10\n");
    auto aaaa = dig("directregistration.fortinet.com AAAA");
    CHECK(aaaa.find("status: NOERROR") != std::string::npos);
    CHECK(aaaa.find("ANSWER: 0") != std::string::npos);
    CHECK(dig("example.com A").find("status: REFUSED") != std::string::npos);
  }
  CHECK(answer == "192.0.2.10\n");
}

TEST_CASE("unbound-checkconf takes the unbound lines") {
  auto checkconf = program("unbound-checkconf");
  if (checkconf.empty())
    return skip_test("unbound-checkconf is not installed (the unbound package; scripts/packages.txt lists it)");
  temp_folder dir("lab-unbound-checkconf");
  auto conf =
      dir.write("fortisim.conf", lab_config("--address 192.0.2.10 --address 2001:db8::10 --format unbound").out);
  CHECK(run("'" + checkconf + "' '" + conf + "' 2>&1").find("no errors") != std::string::npos);
}

TEST_CASE("unbound takes the unbound lines: libunbound answers A and AAAA for every name, nothing else") {
  if (run("/usr/bin/python3 -c 'import unbound; print(\"ok\")' 2>/dev/null") != "ok\n")
    return skip_test("Debian's python3-unbound is not installed (scripts/packages.txt lists it)");
  temp_folder dir("lab-unbound");
  auto conf =
      dir.write("fortisim.conf", lab_config("--address 192.0.2.10 --address 2001:db8::10 --format unbound").out);
  // Resolved inside libunbound from the local zones alone: no network.
  // (address_list reads every record as IPv4: the raw bytes go through inet_ntop by family.)
  std::string script =
      dir.write("resolve.py",
                "import socket, sys, unbound\n"
                "ctx = unbound.ub_ctx()\n"
                "assert ctx.config(sys.argv[1]) == 0\n"
                "for name in sys.argv[2:]:\n"
                "    for t, f in ((unbound.RR_TYPE_A, socket.AF_INET), (unbound.RR_TYPE_AAAA, socket.AF_INET6)):\n"
                "        s, r = ctx.resolve(name, t, unbound.RR_CLASS_IN)\n"
                "        data = [socket.inet_ntop(f, bytes(d)) for d in r.data.raw] if r.havedata else ['-']\n"
                "        print(name, s, r.rcode, ' '.join(data))\n");
  std::string names, expected;
  for (const auto& name : protocol::fortinet_host_names()) {
    names += " " + name;
    expected += name + " 0 0 192.0.2.10\n" + name + " 0 0 2001:db8::10\n";
  }
  CHECK(run("timeout 20 /usr/bin/python3 '" + script + "' '" + conf + "'" + names + " 2>&1") == expected);
}

}  // TEST_SUITE
