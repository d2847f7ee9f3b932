// fortisim lab-config: the FortiOS CLI block, and dnsmasq and unbound lines, that point a lab
// FortiGate's Fortinet names at fortisim. Every line a FortiGate is told carries a mark: [doc]
// where Fortinet documents it (the FortiOS CLI reference and admin guides for `config system dns`
// and `config system fortiguard`, the KB "Troubleshooting FortiToken activation" for the debug
// recipe), [assumed] where it does not.
#include "server/app/lab_config.hpp"

#include "protocol/hosts.hpp"

#include <CLI/CLI.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace fortisim {

namespace {

/// fortisim's address in each family, as canonical text; "" when not given.
struct lab_addresses {
  std::string v4, v6;
  /// The address a lab checks with dig: IPv4 when there is one.
  const std::string& any() const { return v4.empty() ? v6 : v4; }
};

const char* const expected_address =
    "expected the IP address the FortiGate reaches fortisim at, e.g. 192.0.2.10 or 2001:db8::10";

/// Takes one --address into `a`; returns why it cannot be one, or "" when it can.
std::string take_address(const std::string& text, lab_addresses& a) {
  in_addr v4{};
  in6_addr v6{};
  char canonical[INET6_ADDRSTRLEN] = {};
  bool unreachable = false;
  std::string* slot = nullptr;
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    std::uint32_t host = ntohl(v4.s_addr);
    unreachable = host == 0 || (host >> 24) == 127 || (host >> 28) == 0xE || host == 0xFFFFFFFF;
    ::inet_ntop(AF_INET, &v4, canonical, sizeof canonical);
    slot = &a.v4;
  } else if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    unreachable = IN6_IS_ADDR_UNSPECIFIED(&v6) || IN6_IS_ADDR_LOOPBACK(&v6) || IN6_IS_ADDR_MULTICAST(&v6) ||
                  IN6_IS_ADDR_V4MAPPED(&v6);
    ::inet_ntop(AF_INET6, &v6, canonical, sizeof canonical);
    slot = &a.v6;
  } else {
    return "--address " + text + ": " + expected_address + " (not a host name, a port or a prefix)";
  }
  if (unreachable)
    return "--address " + text +
           ": no FortiGate reaches fortisim there (an unspecified, loopback, multicast, broadcast or "
           "IPv4-mapped address); " +
           expected_address;
  if (!slot->empty())
    return "--address " + text + ": a second " + (slot == &a.v4 ? "IPv4" : "IPv6") +
           " address; give at most one IPv4 address and one IPv6 address";
  *slot = canonical;
  return "";
}

/// Whether `text` is an IP address, with a port or without: "192.0.2.53", "192.0.2.53:5353",
/// "2001:db8::53", "[2001:db8::53]:5353".
bool is_resolver_address(const std::string& text) {
  unsigned char bytes[16];
  auto is = [&](const std::string& host, int family) { return ::inet_pton(family, host.c_str(), bytes) == 1; };
  auto port_ok = [](const std::string& p) {
    return !p.empty() && p.size() <= 5 && std::all_of(p.begin(), p.end(), ::isdigit) && std::stoi(p) >= 1 &&
           std::stoi(p) <= 65535;
  };
  if (is(text, AF_INET) || is(text, AF_INET6)) return true;
  if (text.starts_with('[')) {
    auto close = text.find("]:");
    return close != std::string::npos && is(text.substr(1, close - 1), AF_INET6) && port_ok(text.substr(close + 2));
  }
  auto colon = text.rfind(':');
  return colon != std::string::npos && is(text.substr(0, colon), AF_INET) && port_ok(text.substr(colon + 1));
}

/// What every format starts with: what this is for, the names, how fortisim serves them.
void header(std::ostream& out, const lab_addresses& a, int dns_port, const std::string& upstream) {
  out << "# fortisim lab-config: the lab's side of a DNS override that sends a FortiGate's FortiCare and\n"
      << "# FortiGuard names to fortisim, at";
  if (!a.v4.empty()) out << " " << a.v4 << " (A)";
  if (!a.v4.empty() && !a.v6.empty()) out << " and";
  if (!a.v6.empty()) out << " " << a.v6 << " (AAAA)";
  out << ". The names:\n";
  for (const auto& name : protocol::fortinet_host_names()) out << "#   " << name << "\n";
  const char* any = a.v6.empty() ? "0.0.0.0" : "[::]";
  out << "# fortisim's own DNS responder answers them; on fortisim's host:\n"
      << "#   fortisim serve --listen " << any << ":443 --dns " << any << ":" << dns_port;
  for (const auto* address : {&a.v4, &a.v6})
    if (!address->empty()) out << " --dns-answer " << *address;
  if (!upstream.empty()) out << " --dns-upstream " << upstream;
  out << "\n";
  if (upstream.empty())
    out << "# (--no-upstream: other names get NXDOMAIN. A FortiGate whose only resolver is fortisim then\n"
        << "# resolves nothing else: no NTP, no FortiGuard updates.)\n";
  out << "# and check from the lab network: dig @" << a.any()
      << (dns_port == 53 ? "" : " -p " + std::to_string(dns_port)) << " directregistration.fortinet.com\n"
      << "# Marks: [doc] Fortinet documents it; [seen] a published FortiGate session shows it; [assumed]\n"
      << "# neither: check it on your FortiOS release.\n"
      << "# Step by step, and what success and each failure look like: docs/lab-guide.md\n";
}

/// The FortiGate's resolver and FortiGuard settings: the CLI to paste.
void fortios(std::ostream& out, const lab_addresses& a, int dns_port) {
  out << "\n# ---- FortiOS CLI: paste on the FortiGate ('#' lines are comments) ----\n"
      << "# 1. The FortiGate's resolver: fortisim's DNS responder (or a lab resolver with the dnsmasq or\n"
      << "#    unbound lines: then its address), in clear text on port 53 [doc]: neither speaks the DNS\n"
      << "#    over TLS that FortiOS uses with FortiGuard's resolvers [doc].\n"
      << "config system dns\n";
  if (!a.v4.empty()) out << "    set primary " << a.v4 << "\n    set secondary 0.0.0.0\n";
  if (!a.v6.empty()) out << "    set ip6-primary " << a.v6 << "\n    unset ip6-secondary\n";
  out << "    set protocol cleartext\nend\n";
  if (!a.v4.empty())
    out << "#    secondary 0.0.0.0: no second resolver [assumed]. Not \"unset secondary\": that restores\n"
        << "#    the default, FortiGuard's own resolver [doc], which knows Fortinet's real addresses.\n";
  else
    out << "#    FortiOS also asks its IPv4 resolvers (primary, secondary), FortiGuard's by default [doc]:\n"
        << "#    give lab-config fortisim's IPv4 address too (--address twice), or point them at a lab\n"
        << "#    resolver that has the dnsmasq or unbound lines.\n";
  if (dns_port != 53)
    out << "#    fortisim's DNS responder answers on port " << dns_port << ", and FortiOS asks port 53 [doc]:\n"
        << "#    forward port 53 of that address to it, or use a lab resolver with the lines below.\n";
  out << "# 2. Unicast FortiGuard: anycast demands Fortinet's certificate names and a stapled OCSP \"good\"\n"
      << "#    answer, which no lab server can give [doc].\n"
      << "config system fortiguard\n"
      << "    set fortiguard-anycast disable\n"
      << "end\n"
      << "# 3. Forget the answers the FortiGate cached before the change [assumed: dnsproxy test 1 clears\n"
      << "#    the DNS cache]; then see which address the name resolves to now [assumed: ping prints it].\n"
      << "diagnose test application dnsproxy 1\n"
      << "execute ping directregistration.fortinet.com\n";
}

/// What puts back what fortios() changed: FortiOS's defaults [assumed: `unset` restores a
/// setting's default], FortiGuard anycast on again [doc: the default since 6.2], the cache cleared.
void fortios_undo(std::ostream& out, const lab_addresses& a) {
  out << "\n# ---- FortiOS CLI, undo: paste on the FortiGate to put back what the setup block changed ----\n"
      << "# Back to FortiOS's defaults [assumed: unset restores a setting's default]: FortiGuard's own\n"
      << "# resolvers over DNS over TLS. If the unit had other values, set those instead: what\n"
      << "# 'show system dns' and 'show system fortiguard' printed before the setup (lab guide, section 4).\n"
      << "config system dns\n";
  if (!a.v4.empty()) out << "    unset primary\n    unset secondary\n";
  if (!a.v6.empty()) out << "    unset ip6-primary\n";
  out << "    unset protocol\nend\n"
      << "config system fortiguard\n"
      << "    set fortiguard-anycast enable\n"
      << "end\n"
      << "diagnose test application dnsproxy 1\n";
}

/// The debug recipe of the KB "Troubleshooting FortiToken activation", as a FortiOS 7.4.10
/// session ran it, and how to turn it off.
void fortios_debug(std::ostream& out) {
  out << "\n# ---- FortiOS debug: what forticldd and the FortiToken code do, on the console ----\n"
      << "# [doc: the KB \"Troubleshooting FortiToken activation\"; seen: a published FortiOS 7.4.10\n"
      << "# session, where debug stops by itself after 30 minutes]\n"
      << "diagnose debug reset\n"
      << "diagnose debug console timestamp enable\n"
      << "diagnose debug application forticldd 255\n"
      << "diagnose fortitoken debug enable\n"
      << "diagnose debug enable\n"
      << "# Then run what you test [doc], e.g.:\n"
      << "#   execute fortitoken-mobile import 0000-0000-0000-0000-0000\n"
      << "#   execute fortitoken-mobile poll\n"
      << "#   execute fortitoken activate FTK2000000000001\n"
      << "#   diagnose fortitoken info\n"
      << "# Debug off again [doc; seen]:\n"
      << "#   diagnose fortitoken debug disable\n"
      << "#   diagnose debug application forticldd 0\n"
      << "#   diagnose debug disable\n"
      << "#   diagnose debug reset\n";
}

/// dnsmasq: one address= per name and family, and local= so that other types stay local.
void dnsmasq(std::ostream& out, const lab_addresses& a) {
  out << "\n# ---- dnsmasq: for a lab resolver that runs dnsmasq (e.g. /etc/dnsmasq.d/fortisim.conf) ----\n"
      << "# Each name, and every name under it, answers fortisim's address. local= keeps the queries of\n"
      << "# other types for these names (e.g. AAAA without an IPv6 address) from going upstream to\n"
      << "# Fortinet's real addresses, as dnsmasq 2.86 and later would do. Other names resolve as before.\n";
  for (const auto& name : protocol::fortinet_host_names()) {
    for (const auto* address : {&a.v4, &a.v6})
      if (!address->empty()) out << "address=/" << name << "/" << *address << "\n";
    out << "local=/" << name << "/\n";
  }
}

/// unbound: a redirect zone per name, with its A and/or AAAA record.
void unbound(std::ostream& out, const lab_addresses& a) {
  out << "\n# ---- unbound: for a lab resolver that runs unbound (e.g. /etc/unbound/unbound.conf.d/fortisim.conf) "
         "----\n"
      << "# Each name, and every name under it (redirect), answers fortisim's address; other types get\n"
      << "# no answer rather than Fortinet's real ones. Other names resolve as before.\n"
      << "server:\n";
  for (const auto& name : protocol::fortinet_host_names()) {
    out << "    local-zone: \"" << name << ".\" redirect\n";
    if (!a.v4.empty()) out << "    local-data: \"" << name << ". A " << a.v4 << "\"\n";
    if (!a.v6.empty()) out << "    local-data: \"" << name << ". AAAA " << a.v6 << "\"\n";
  }
}

}  // namespace

CLI::App* add_lab_config(CLI::App& app, lab_config_options& o) {
  auto* lab = app.add_subcommand(
      "lab-config",
      "Print the FortiOS CLI block, and dnsmasq and unbound lines, that point a lab FortiGate at fortisim");
  lab->add_option("--address", o.addresses,
                  "fortisim's IP address as the FortiGate reaches it (required); once more for the other family")
      ->allow_extra_args(false);
  lab->add_option("--dns-port", o.dns_port, "Where fortisim's DNS responder (serve --dns) answers")
      ->capture_default_str();
  lab->add_option("--format", o.format, "fortios, dnsmasq, unbound or all")->capture_default_str();
  lab->add_option("--dns-upstream", o.dns_upstream,
                  "The lab's own resolver (ADDR[:PORT]) for the serve line: every other name goes there");
  lab->add_flag("--no-upstream", o.no_upstream, "There is no lab resolver: other names get NXDOMAIN");
  lab->add_flag("--undo", o.undo, "Print the FortiOS block that puts back what the setup block changed");
  return lab;
}

int run_lab_config(const lab_config_options& o, std::ostream& out, std::ostream& err) {
  auto refuse = [&err](const std::string& line) {
    err << "fortisim: lab-config " << line << std::endl;
    return 2;
  };
  if (o.addresses.empty())
    return refuse("needs --address: " + std::string(expected_address) +
                  ", as in: fortisim lab-config --address 192.0.2.10");
  lab_addresses a;
  for (const auto& text : o.addresses)
    if (auto why = take_address(text, a); !why.empty()) return refuse(why);
  if (o.dns_port < 1 || o.dns_port > 65535)
    return refuse("--dns-port " + std::to_string(o.dns_port) + ": expected a port from 1 to 65535, e.g. 53");
  const std::string& f = o.format;
  if (f != "all" && f != "fortios" && f != "dnsmasq" && f != "unbound")
    return refuse("--format " + f + ": expected fortios, dnsmasq, unbound or all");
  if (o.undo && f != "all" && f != "fortios")
    return refuse("--undo prints the FortiOS block alone: give no --format, or --format fortios");
  if (o.undo) {
    fortios_undo(out, a);
    return (out << std::flush) ? 0 : 2;
  }
  if (o.dns_upstream.empty() && !o.no_upstream)
    return refuse(
        "needs --dns-upstream, the lab's resolver for every other name (NTP, FortiGuard), or --no-upstream, as in: "
        "fortisim lab-config --address 192.0.2.10 --dns-upstream 192.0.2.53");
  if (!o.dns_upstream.empty() && o.no_upstream) return refuse("give --dns-upstream or --no-upstream: not both");
  if (!o.dns_upstream.empty() && !is_resolver_address(o.dns_upstream))
    return refuse("--dns-upstream " + o.dns_upstream + ": expected the resolver's IP address, e.g. 192.0.2.53 or " +
                  "192.0.2.53:5353");
  for (const auto* own : {&a.v4, &a.v6})
    if (!own->empty() && (o.dns_upstream == *own || o.dns_upstream.starts_with(*own + ":") ||
                          o.dns_upstream.starts_with("[" + *own + "]")))
      return refuse("--dns-upstream " + o.dns_upstream +
                    " is fortisim's own address: give the lab's other resolver, or --no-upstream");
  header(out, a, o.dns_port, o.dns_upstream);
  if (f == "all" || f == "fortios") {
    fortios(out, a, o.dns_port);
    fortios_debug(out);
  }
  if (f == "all" || f == "dnsmasq") dnsmasq(out, a);
  if (f == "all" || f == "unbound") unbound(out, a);
  out << std::flush;
  return out ? 0 : 2;
}

}  // namespace fortisim
