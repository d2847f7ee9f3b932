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
#include <array>
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
  auto v4 = lab_config("--address 192.0.2.10 --format dnsmasq --names all");
  auto v6 = lab_config("--address 2001:db8::10 --format dnsmasq --names all");
  auto both = lab_config("--address 192.0.2.10 --address 2001:db8::10 --format dnsmasq --names all");
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
  auto v4 = lab_config("--address 192.0.2.10 --format unbound --names all");
  auto v6 = lab_config("--address 2001:db8::10 --format unbound --names all");
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
  for (const auto& name : protocol::host_names_of(protocol::host_names::token))
    CHECK(r.out.find("#   " + name + "\n") != std::string::npos);
  CHECK(r.out.find("#   fds1.fortinet.com\n") == std::string::npos);  // FortiGuard's names only with --names all
  CHECK(r.out.find("fortisim serve --listen 0.0.0.0:443 --dns 0.0.0.0:5353 --dns-answer 192.0.2.10 "
                   "--dns-names token --dns-upstream 192.0.2.53\n") != std::string::npos);
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

TEST_CASE("lab-config --names: the token path's names by default, FortiGuard's too with --names all") {
  auto token = lab_config("--address 192.0.2.10 --format dnsmasq");
  auto all = lab_config("--address 192.0.2.10 --format dnsmasq --names all");
  REQUIRE(token.status == 0);
  const auto& token_names = protocol::host_names_of(protocol::host_names::token);
  for (const auto& name : protocol::fortinet_host_names()) {
    bool on_token_path = std::find(token_names.begin(), token_names.end(), name) != token_names.end();
    CHECK(has_line(token.out, "address=/" + name + "/192.0.2.10") == on_token_path);
    CHECK(has_line(all.out, "address=/" + name + "/192.0.2.10"));
  }
  CHECK(token.out.find("--dns-names token") != std::string::npos);
  CHECK(all.out.find("--dns-names") == std::string::npos);  // serve answers every name by default
}

/// The rows of the lab guide's table of FortiOS syntax per release: "| FortiOS 6.4 | `setup line` |
/// `undo line` | source |" as {release, setup line, undo line}.
std::vector<std::array<std::string, 3>> documented_syntax() {
  std::vector<std::array<std::string, 3>> rows;
  std::istringstream in(read_file(source + "/docs/lab-guide.md"));
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("| FortiOS ")) continue;
    std::vector<std::string> cells;
    std::istringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) {
      auto first = cell.find_first_not_of(" `"), last = cell.find_last_not_of(" `");
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    }
    REQUIRE(cells.size() >= 3);
    rows.push_back({cells[0].substr(std::string("FortiOS ").size()), cells[1], cells[2]});
  }
  return rows;
}

TEST_CASE("lab-config --fortios: each release's resolver syntax, as the lab guide's table gives it") {
  auto rows = documented_syntax();
  REQUIRE(rows.size() == 5);
  for (const auto& row : rows) {  // no structured binding: CAPTURE's lambda cannot take one (clang 14)
    const std::string &release = row[0], &setup = row[1], &undo = row[2];
    CAPTURE(release);
    auto r = lab_config("--address 192.0.2.10 --fortios " + release + " --paste");
    auto u = lab_config("--address 192.0.2.10 --fortios " + release + " --undo --paste");
    REQUIRE(r.status == 0);
    CHECK(has_line(r.out, "    " + setup));
    CHECK(has_line(u.out, "    " + undo));
    bool v64 = release == "6.4";
    CHECK(has_line(r.out, "    set protocol cleartext") == !v64);  // no `protocol` before 7.0
    CHECK(has_line(r.out, "    set dns-over-tls disable") == v64);
  }
}

TEST_CASE("lab-config --paste: FortiOS commands alone, each block closed, and --explain: each with its source") {
  std::string args = "--address 192.0.2.10 --token FTKMOB1234567890 --email-to lab@example.net --password s3cret";
  auto paste = lab_config(args + " --paste");
  auto explain = lab_config(args + " --explain");
  REQUIRE(paste.status == 0);
  REQUIRE(explain.status == 0);
  int depth = 0;
  for (const auto& line : config_lines(paste.out)) {
    if (line.starts_with("config ")) ++depth;
    if (line == "end") --depth;
    CHECK(depth >= 0);
  }
  CHECK(depth == 0);
  CHECK(paste.out.find('#') == std::string::npos);
  CHECK(paste.out.find("\n\n") == std::string::npos);
  CHECK(paste.out.find("diagnose debug enable") == std::string::npos);  // the debug recipe is not a paste
  for (const char* line : {"config user local", "    edit \"fortisim-lab\"", "        set passwd \"s3cret\"",
                           "        set two-factor fortitoken", "        set fortitoken \"FTKMOB1234567890\"",
                           "        set email-to \"lab@example.net\"", "    next"})
    CHECK_MESSAGE(has_line(paste.out, line), line);
  CHECK(paste.out.find("email-server") == std::string::npos);  // the unit's own, unless --email-server
  // --explain: the same commands, each followed by its mark and source.
  std::size_t commands = 0;
  std::istringstream in(explain.out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.starts_with('#')) continue;
    ++commands;
    auto arrow = line.find("<- [");
    CHECK_MESSAGE(arrow != std::string::npos, line);
    bool marked = line.find("<- [doc]", arrow) == arrow || line.find("<- [seen]", arrow) == arrow ||
                  line.find("<- [assumed]", arrow) == arrow;
    CHECK_MESSAGE(marked, line);
  }
  CHECK(commands > config_lines(paste.out).size());  // the debug recipe's commands too
}

TEST_CASE("lab-config --vdom multi: system settings in config global, the user in its VDOM") {
  auto r = lab_config(
      "--address 192.0.2.10 --vdom multi --user-vdom lab --token FTKMOB1234567890 --email-to lab@example.net "
      "--email-server smtp.lab.example:2525 --paste");
  REQUIRE(r.status == 0);
  CHECK(r.out.starts_with("config global\nconfig system dns\n"));
  CHECK(r.out.find("config system email-server\n    set type custom\n    set server \"smtp.lab.example\"\n    set port "
                   "2525\nend\n") != std::string::npos);
  auto vdom = r.out.find("end\nconfig vdom\nedit lab\nconfig user local\n");
  CHECK(vdom != std::string::npos);
  CHECK(r.out.find("config system", vdom) == std::string::npos);  // nothing global inside the VDOM
  auto v6 = lab_config(
      "--address 192.0.2.10 --token FTKMOB1234567890 --email-to lab@example.net "
      "--email-server [2001:db8::25]:587 --paste");
  CHECK(v6.out.find("    set server \"2001:db8::25\"\n    set port 587\n") != std::string::npos);
  auto bare = lab_config(
      "--address 192.0.2.10 --token FTKMOB1234567890 --email-to lab@example.net "
      "--email-server 2001:db8::25 --paste");
  CHECK(bare.out.find("    set server \"2001:db8::25\"\n    set port 25\n") != std::string::npos);
  auto single = lab_config("--address 192.0.2.10 --paste");
  CHECK(single.out.find("config global") == std::string::npos);
  CHECK(single.out.find("config vdom") == std::string::npos);
  auto undo = lab_config(  // an undo needs no --email-to
      "--address 192.0.2.10 --vdom multi --token FTKMOB1234567890 --email-server smtp.lab.example --undo --paste");
  REQUIRE(undo.status == 0);
  CHECK(undo.out.find("config system email-server\n    unset type\n    unset server\n    unset port\nend\n") !=
        std::string::npos);
  CHECK(undo.out.find("config vdom\nedit root\nconfig user local\n    delete \"fortisim-lab\"\nend\nend\n") !=
        std::string::npos);
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
           {"--address 192.0.2.10 --undo --format dnsmasq", "print the FortiOS block alone"},
           {"--address 192.0.2.10 --paste --format unbound", "print the FortiOS block alone"},
           {"--address 192.0.2.10 --paste --explain", "--paste or --explain: not both"},
           {"--address 192.0.2.10 --names fortiguard", "--names fortiguard: expected token or all"},
           {"--address 192.0.2.10 --fortios 6.0", "--fortios 6.0: expected 6.4, 7.0, 7.2, 7.4 or 7.6"},
           {"--address 192.0.2.10 --vdom split", "--vdom split: expected single or multi"},
           {"--address 192.0.2.10 --user-vdom 'a b'", "--user-vdom a b: expected a VDOM name"},
           {"--address 192.0.2.10 --token FTKMOB0000000001", "--token needs --email-to"},
           {"--address 192.0.2.10 --token FTK2000000000001 --email-to a@b.c", "expected an FTKMOB serial"},
           {"--address 192.0.2.10 --email-to a@b.c", "go with --token"},
           {"--address 192.0.2.10 --token FTKMOB0000000001 --email-to 'a\"b@c'", "--email-to a\"b@c: expected"},
           {"--address 192.0.2.10 --token FTKMOB0000000001 --email-to a@b.c --password 'pa?ss'",
            "--password: expected"},
           {"--address 192.0.2.10 --token FTKMOB0000000001 --email-to a@b.c --password ''", "--password: expected"},
           {"--address 192.0.2.10 --token FTKMOB0000000001 --email-to a@b.c --email-server 'a:1:2'",
            "--email-server a:1:2: expected"},
           {"--address 192.0.2.10 --token \"$(printf 'FTKMOB\\n000000001')\" --email-to a@b.c",
            "--token FTKMOB?000000001"},
           {"--address 192.0.2.10 --user bob", "go with --token"},
           {"--address 192.0.2.10 --user-vdom lab", "--user-vdom goes with --vdom multi"},
           {"--address 192.0.2.10 --token FTKMOB0000000001 --email-to a@b.c --email-server smtp:99999",
            "--email-server smtp:99999: expected HOST[:PORT]"},
           {"--address 192.0.2.10 --token FTKMOB0000000001 --email-to a@b.c --user 'x\"y'", "--user x\"y: expected"},
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
  auto conf = dir.write("fortisim.conf", lab_config("--address 192.0.2.10 --format dnsmasq --names all").out);
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
  auto conf = dir.write("fortisim.conf",
                        lab_config("--address 192.0.2.10 --address 2001:db8::10 --format unbound --names all").out);
  CHECK(run("'" + checkconf + "' '" + conf + "' 2>&1").find("no errors") != std::string::npos);
}

TEST_CASE("unbound takes the unbound lines: libunbound answers A and AAAA for every name, nothing else") {
  if (run("/usr/bin/python3 -c 'import unbound; print(\"ok\")' 2>/dev/null") != "ok\n")
    return skip_test("Debian's python3-unbound is not installed (scripts/packages.txt lists it)");
  temp_folder dir("lab-unbound");
  auto conf = dir.write("fortisim.conf",
                        lab_config("--address 192.0.2.10 --address 2001:db8::10 --format unbound --names all").out);
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
