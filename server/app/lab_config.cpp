// fortisim lab-config: the FortiOS CLI blocks (fortios_cli.cpp writes them, each command with its
// source), and dnsmasq and unbound lines, that point a lab FortiGate's Fortinet names at fortisim:
// by default only the token path's names (--names token), FortiGuard's too with --names all.
#include "server/app/lab_config.hpp"

#include "server/app/fortios_cli.hpp"

#include "protocol/hosts.hpp"

#include <CLI/CLI.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <random>

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
void header(std::ostream& out, const lab_addresses& a, int dns_port, const std::string& upstream,
            protocol::host_names which) {
  bool token = which == protocol::host_names::token;
  out << "# fortisim lab-config: the lab's side of a DNS override that sends a FortiGate's "
      << (token ? "token path" : "FortiCare and FortiGuard") << "\n# names to fortisim, at";
  if (!a.v4.empty()) out << " " << a.v4 << " (A)";
  if (!a.v4.empty() && !a.v6.empty()) out << " and";
  if (!a.v6.empty()) out << " " << a.v6 << " (AAAA)";
  out << ". The names:\n";
  for (const auto& name : protocol::host_names_of(which)) out << "#   " << name << "\n";
  if (token)
    out << "# (--names token: FortiGuard's other names, for updates and licences, still resolve to Fortinet;\n"
        << "# --names all sends them to fortisim too [inferred: which name serves the token path])\n";
  const char* any = a.v6.empty() ? "0.0.0.0" : "[::]";
  out << "# fortisim's own DNS responder answers them; on fortisim's host:\n"
      << "#   fortisim serve --listen " << any << ":443 --dns " << any << ":" << dns_port;
  for (const auto* address : {&a.v4, &a.v6})
    if (!address->empty()) out << " --dns-answer " << *address;
  if (token) out << " --dns-names token";
  if (!upstream.empty()) out << " --dns-upstream " << upstream;
  out << "\n";
  if (upstream.empty())
    out << "# (--no-upstream: other names get NXDOMAIN. A FortiGate whose only resolver is fortisim then\n"
        << "# resolves nothing else: no NTP, no FortiGuard updates.)\n";
  out << "# and check from the lab network: dig @" << a.any()
      << (dns_port == 53 ? "" : " -p " + std::to_string(dns_port)) << " directregistration.fortinet.com\n"
      << "# Marks: [doc] Fortinet documents it; [seen] a published FortiGate session shows it; [inferred]\n"
      << "# concluded from those; [assumed] none of these: check it on your FortiOS release.\n"
      << "# Step by step, and what success and each failure look like: docs/lab-guide.md\n";
}

/// dnsmasq: one address= per name and family, and local= so that other types stay local.
void dnsmasq(std::ostream& out, const lab_addresses& a, protocol::host_names which) {
  out << "\n# ---- dnsmasq: for a lab resolver that runs dnsmasq (e.g. /etc/dnsmasq.d/fortisim.conf) ----\n"
      << "# Each name, and every name under it, answers fortisim's address. local= keeps the queries of\n"
      << "# other types for these names (e.g. AAAA without an IPv6 address) from going upstream to\n"
      << "# Fortinet's real addresses, as dnsmasq 2.86 and later would do. Other names resolve as before.\n";
  for (const auto& name : protocol::host_names_of(which)) {
    for (const auto* address : {&a.v4, &a.v6})
      if (!address->empty()) out << "address=/" << name << "/" << *address << "\n";
    out << "local=/" << name << "/\n";
  }
}

/// unbound: a redirect zone per name, with its A and/or AAAA record.
void unbound(std::ostream& out, const lab_addresses& a, protocol::host_names which) {
  out << "\n# ---- unbound: for a lab resolver that runs unbound (e.g. /etc/unbound/unbound.conf.d/fortisim.conf) "
         "----\n"
      << "# Each name, and every name under it (redirect), answers fortisim's address; other types get\n"
      << "# no answer rather than Fortinet's real ones. Other names resolve as before.\n"
      << "server:\n";
  for (const auto& name : protocol::host_names_of(which)) {
    out << "    local-zone: \"" << name << ".\" redirect\n";
    if (!a.v4.empty()) out << "    local-data: \"" << name << ". A " << a.v4 << "\"\n";
    if (!a.v6.empty()) out << "    local-data: \"" << name << ". AAAA " << a.v6 << "\"\n";
  }
}

}  // namespace

CLI::App* add_lab_config(CLI::App& app, lab_config_options& o) {
  auto* lab = app.add_subcommand(
      "lab-config",
      "Print the FortiOS CLI blocks, and dnsmasq and unbound lines, that point a lab FortiGate at fortisim");
  lab->add_option("--address", o.addresses,
                  "fortisim's IP address as the FortiGate reaches it (required); once more for the other family")
      ->allow_extra_args(false);
  lab->add_option("--dns-port", o.dns_port, "Where fortisim's DNS responder (serve --dns) answers")
      ->capture_default_str();
  lab->add_option("--format", o.format, "fortios, dnsmasq, unbound or all")->capture_default_str();
  lab->add_option("--names", o.names,
                  "token: the token path's names alone (FortiGuard's still resolve to Fortinet); all: FortiGuard's too")
      ->capture_default_str();
  lab->add_option("--dns-upstream", o.dns_upstream,
                  "The lab's own resolver (ADDR[:PORT]) for the serve line: every other name goes there");
  lab->add_flag("--no-upstream", o.no_upstream, "There is no lab resolver: other names get NXDOMAIN");
  lab->add_option("--fortios", o.fortios, "The FortiOS release whose syntax to write: 6.4, 7.0, 7.2, 7.4 or 7.6")
      ->capture_default_str();
  lab->add_option("--vdom", o.vdom, "single, or multi: system settings in config global, the user in --user-vdom")
      ->capture_default_str();
  lab->add_option("--user-vdom", o.user_vdom, "With --vdom multi: the VDOM that holds the user")->capture_default_str();
  lab->add_option(
      "--token", o.token,
      "An FTKMOB serial the FortiGate imported: adds a local user with it, which makes the unit provision it");
  lab->add_option("--email-to", o.email_to, "With --token: where the FortiGate mails the activation code");
  lab->add_option("--email-server", o.email_server, "With --token: the lab's SMTP relay, HOST[:PORT]");
  lab->add_option("--user", o.user, "With --token: the local user's name")->capture_default_str();
  lab->add_option("--password", o.password, "With --token: the local user's password (default: a random one)");
  lab->add_flag("--undo", o.undo, "Print the FortiOS block that puts back what the setup block changed");
  lab->add_flag("--paste", o.paste, "Print the FortiOS block alone, without comment lines, to paste");
  lab->add_flag("--explain", o.explain, "Print each FortiOS command with its source: [doc], [seen] or [assumed]");
  return lab;
}

namespace {

/// 16 random letters and digits, for a lab user's password.
std::string random_password() {
  std::random_device random;
  const char* alphabet = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  for (int i = 0; i < 16; ++i) out += alphabet[random() % 55];
  return out;
}

/// Whether `text` is safe inside a FortiOS quoted value: printable ASCII, no quote, backslash or
/// '?' (the CLI answers '?' with help instead of typing it).
bool plain_value(const std::string& text, std::size_t max) {
  return !text.empty() && text.size() <= max && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return c > ' ' && c < 0x7F && c != '"' && c != '\\' && c != '\'' && c != '?';
  });
}

/// `text` as a refusal may quote it: at most 64 bytes, control bytes as '?', so the refusal stays
/// one line.
std::string shown(const std::string& text) {
  std::string out = text.substr(0, 64);
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < ' ' || c == 0x7F) c = '?';
  return text.size() > 64 ? out + "…" : out;
}

/// --email-server HOST, HOST:PORT, an IPv6 address, or [IPv6]:PORT into `u`; "" when it is one.
std::string take_email_server(const std::string& given, fortios_user& u) {
  auto bad = "--email-server " + shown(given) + ": expected HOST[:PORT], e.g. smtp.lab.example:25 or [2001:db8::25]:25";
  std::string host = given, port;
  if (given.starts_with('[')) {
    auto close = given.find(']');
    if (close == std::string::npos) return bad;
    host = given.substr(1, close - 1);
    if (close + 1 < given.size()) {
      if (given[close + 1] != ':') return bad;
      port = given.substr(close + 2);
      if (port.empty()) return bad;
    }
  } else if (std::count(given.begin(), given.end(), ':') == 1) {
    host = given.substr(0, given.find(':'));
    port = given.substr(given.find(':') + 1);
    if (port.empty()) return bad;
  }
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) || std::stoi(port) < 1 ||
        std::stoi(port) > 65535)
      return bad;
    u.email_port = std::stoi(port);
  }
  in6_addr v6{};
  bool ipv6_form = host.find(':') != std::string::npos;  // "2001:db8::25", bare or in brackets
  if (!plain_value(host, 63) || host.find_first_of("[]") != std::string::npos ||
      (ipv6_form && ::inet_pton(AF_INET6, host.c_str(), &v6) != 1))
    return bad;
  u.email_server = host;
  return "";
}

/// The user of --token and its companions; "" when they are right, else the refusal. An undo needs
/// the user's name alone.
std::string take_user(const lab_config_options& o, fortios_target& t) {
  if (o.token.empty()) {
    if (!o.email_to.empty() || !o.email_server.empty() || o.password || o.user != "fortisim-lab")
      return "--email-to, --email-server, --user and --password go with --token, the token to assign";
    return "";
  }
  if (!o.token.starts_with("FTKMOB") || o.token.size() != 16 ||
      !std::all_of(o.token.begin() + 6, o.token.end(), ::isdigit))
    return "--token " + shown(o.token) + ": expected an FTKMOB serial the FortiGate imported, e.g. FTKMOB0000000001";
  if (!plain_value(o.user, 64))
    return "--user " + shown(o.user) + ": expected a name of 1 to 64 characters without spaces, quotes or '?'";
  fortios_user u{o.user, "", o.token, o.email_to, "", 25};
  if (!o.email_server.empty())
    if (auto why = take_email_server(o.email_server, u); !why.empty()) return why;
  if (!o.undo) {
    if (o.email_to.empty())
      return "--token needs --email-to, where the FortiGate mails the activation code, e.g. lab@example.net";
    if (o.email_to.find('@') == std::string::npos || !plain_value(o.email_to, 63))
      return "--email-to " + shown(o.email_to) +
             ": expected an address of at most 63 characters without spaces, quotes or '?', e.g. lab@example.net";
    if (o.password && !plain_value(*o.password, 128))
      return "--password: expected 1 to 128 printable characters without spaces, quotes or '?'";
    u.password = o.password ? *o.password : random_password();
  }
  t.user = std::move(u);
  return "";
}

/// The FortiOS options into `t`; "" when they are right, else the refusal.
std::string take_fortios(const lab_config_options& o, fortios_target& t) {
  auto release = fortios_release_of(o.fortios);
  if (!release) return "--fortios " + o.fortios + ": expected 6.4, 7.0, 7.2, 7.4 or 7.6";
  t.release = *release;
  if (o.vdom != "single" && o.vdom != "multi") return "--vdom " + o.vdom + ": expected single or multi";
  t.multi_vdom = o.vdom == "multi";
  if (!plain_value(o.user_vdom, 31)) return "--user-vdom " + shown(o.user_vdom) + ": expected a VDOM name, e.g. root";
  if (!t.multi_vdom && o.user_vdom != "root") return "--user-vdom goes with --vdom multi";
  t.vdom = o.user_vdom;
  return take_user(o, t);
}

/// The checks every run makes before it prints; "" when the options are right.
std::string check_resolver(const lab_config_options& o, const lab_addresses& a) {
  if (o.dns_upstream.empty() && !o.no_upstream)
    return "needs --dns-upstream, the lab's resolver for every other name (NTP, FortiGuard), or --no-upstream, as "
           "in: fortisim lab-config --address 192.0.2.10 --dns-upstream 192.0.2.53";
  if (!o.dns_upstream.empty() && o.no_upstream) return "give --dns-upstream or --no-upstream: not both";
  if (!o.dns_upstream.empty() && !is_resolver_address(o.dns_upstream))
    return "--dns-upstream " + o.dns_upstream + ": expected the resolver's IP address, e.g. 192.0.2.53 or " +
           "192.0.2.53:5353";
  for (const auto* own : {&a.v4, &a.v6})
    if (!own->empty() && (o.dns_upstream == *own || o.dns_upstream.starts_with(*own + ":") ||
                          o.dns_upstream.starts_with("[" + *own + "]")))
      return "--dns-upstream " + o.dns_upstream +
             " is fortisim's own address: give the lab's other resolver, or --no-upstream";
  return "";
}

}  // namespace

int run_lab_config(const lab_config_options& o, std::ostream& out, std::ostream& err) {
  auto refuse = [&err](std::string line) {
    for (auto& c : line)  // one line, whatever a value held
      if (static_cast<unsigned char>(c) < ' ' || c == 0x7F) c = '?';
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
  if (o.names != "token" && o.names != "all") return refuse("--names " + o.names + ": expected token or all");
  auto which = o.names == "all" ? protocol::host_names::all : protocol::host_names::token;
  bool fortios_only = o.undo || o.paste || o.explain;
  if (fortios_only && f != "all" && f != "fortios")
    return refuse("--undo, --paste and --explain print the FortiOS block alone: give no --format, or --format fortios");
  if (o.paste && o.explain) return refuse("give --paste or --explain: not both");
  fortios_target t;
  t.v4 = a.v4;
  t.v6 = a.v6;
  t.dns_port = o.dns_port;
  if (auto why = take_fortios(o, t); !why.empty()) return refuse(why);
  auto style = o.paste ? cli_style::paste : o.explain ? cli_style::explain : cli_style::annotated;
  if (o.undo) {
    print_block(out, "FortiOS CLI, undo: paste on the FortiGate to put back what the setup block changed",
                fortios_undo(t), style);
    return (out << std::flush) ? 0 : 2;
  }
  if (auto why = check_resolver(o, a); !why.empty()) return refuse(why);
  if (style == cli_style::annotated) header(out, a, o.dns_port, o.dns_upstream, which);
  if (f == "all" || f == "fortios") {
    print_block(out, "FortiOS CLI: paste on the FortiGate ('#' lines are comments; --paste leaves them out)",
                fortios_setup(t), style);
    if (!o.paste)
      print_block(out, "FortiOS debug: what forticldd, the FortiToken code and fnbamd do, on the console",
                  fortios_debug(t), style);
  }
  if (style == cli_style::annotated && (f == "all" || f == "dnsmasq")) dnsmasq(out, a, which);
  if (style == cli_style::annotated && (f == "all" || f == "unbound")) unbound(out, a, which);
  out << std::flush;
  return out ? 0 : 2;
}

}  // namespace fortisim
