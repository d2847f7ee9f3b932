#include "server/app/fortios_cli.hpp"

#include <algorithm>

namespace fortisim {

namespace {

/// Builds a block line by line, wrapping it in `config global` or the user's VDOM on a
/// multi-VDOM unit.
class block_writer {
 public:
  explicit block_writer(const fortios_target& t) : t_(t) {}
  void note(std::string words) { b_.push_back({std::move(words), ""}); }
  void command(std::string text, std::string source) { b_.push_back({std::move(text), std::move(source)}); }
  /// What follows is a global setting: `config global` on a multi-VDOM unit.
  void global() {
    if (!t_.multi_vdom || context_ == "global") return;
    leave();
    command("config global", "[doc] FortiOS administration guide, VDOMs: global settings under config global");
    context_ = "global";
  }
  /// What follows belongs to the user's VDOM: `config vdom`, `edit <vdom>` on a multi-VDOM unit.
  void vdom() {
    if (!t_.multi_vdom || context_ == "vdom") return;
    leave();
    command("config vdom", "[doc] FortiOS administration guide, VDOMs: per-VDOM settings under config vdom");
    command("edit " + t_.vdom, "[doc] the VDOM the commands that follow belong to (--user-vdom)");
    context_ = "vdom";
  }
  cli_block done() {
    leave();
    return std::move(b_);
  }

 private:
  void leave() {
    if (!context_.empty()) command("end", "[doc] leaves " + context_);
    context_.clear();
  }
  const fortios_target& t_;
  cli_block b_;
  std::string context_;
};

const char* const dns_reference = "[doc] FortiOS CLI reference, config system dns";

std::string release_text(fortios_release r) {
  switch (r) {
    case fortios_release::v6_4: return "6.4";
    case fortios_release::v7_0: return "7.0";
    case fortios_release::v7_2: return "7.2";
    case fortios_release::v7_4: return "7.4";
    case fortios_release::v7_6: return "7.6";
  }
  return "7.4";
}

/// DNS in clear text on port 53: `set dns-over-tls disable` before 7.0, `set protocol cleartext`
/// from 7.0 on; `unset` of the same setting to undo it.
void clear_text_dns(block_writer& w, fortios_release r, bool undo) {
  if (r == fortios_release::v6_4 && undo)
    w.command("    unset dns-over-tls", "[assumed] unset restores the default, disable [doc: the 6.4 guide below]");
  else if (r == fortios_release::v6_4)
    w.command("    set dns-over-tls disable",
              "[doc] FortiOS 6.4 administration guide, Important DNS CLI commands: dns-over-tls "
              "(no `protocol` setting before 7.0)");
  else
    w.command(undo ? "    unset protocol" : "    set protocol cleartext",
              r == fortios_release::v7_0
                  ? "[doc] FortiOS 7.0 CLI reference, config system dns: protocol (cleartext: DNS over port 53)"
                  : "[assumed] as in FortiOS 7.0's CLI reference (not checked against " + release_text(r) + "'s)");
}

void resolver(block_writer& w, const fortios_target& t) {
  w.note("1. The FortiGate's resolver: fortisim's DNS responder (or a lab resolver with the dnsmasq or");
  w.note("   unbound lines: then its address), in clear text on port 53: neither speaks DNS over TLS.");
  w.global();
  w.command("config system dns", dns_reference);
  if (!t.v4.empty()) {
    w.command("    set primary " + t.v4, dns_reference);
    w.command("    set secondary 0.0.0.0",
              "[assumed] 0.0.0.0 is no second resolver; `unset secondary` would restore FortiGuard's own "
              "[doc], which knows Fortinet's real addresses");
  }
  if (!t.v6.empty()) {
    w.command("    set ip6-primary " + t.v6, dns_reference);
    w.command("    unset ip6-secondary", "[assumed] no second IPv6 resolver");
  }
  clear_text_dns(w, t.release, false);
  w.command("end", dns_reference);
  if (t.v4.empty()) {
    w.note("   FortiOS also asks its IPv4 resolvers (primary, secondary), FortiGuard's by default: give");
    w.note("   lab-config fortisim's IPv4 address too (--address twice), or point them at a lab resolver.");
  }
  if (t.dns_port != 53) {
    w.note("   fortisim's DNS responder answers on port " + std::to_string(t.dns_port) +
           ", and FortiOS asks port 53: forward port");
    w.note("   53 of that address to it, or use a lab resolver with the lines below.");
  }
}

void unicast_fortiguard(block_writer& w, bool undo) {
  w.note(undo ? "2. FortiGuard anycast on again (the default since 6.2)."
              : "2. Unicast FortiGuard: anycast demands Fortinet's certificate names and a stapled OCSP answer.");
  w.global();
  const char* source = "[doc] FortiOS 6.2 and later, config system fortiguard: fortiguard-anycast";
  w.command("config system fortiguard", source);
  w.command(undo ? "    set fortiguard-anycast enable" : "    set fortiguard-anycast disable", source);
  w.command("end", source);
}

void quoted(std::string& out, const std::string& value) { out.append("\"").append(value).append("\""); }

/// The source of a command whose syntax Fortinet documents for `documented` releases: [doc] on
/// those, [assumed] (the same) on the others.
std::string documented_in(fortios_release r, std::initializer_list<fortios_release> documented,
                          const std::string& what) {
  std::string releases;
  for (auto d : documented) releases.append(releases.empty() ? "" : ", ").append(release_text(d));
  if (std::find(documented.begin(), documented.end(), r) != documented.end())
    return "[doc] FortiOS " + release_text(r) + " CLI reference, " + what;
  return "[assumed] as FortiOS " + releases + "'s CLI reference gives " + what;
}

void email_server(block_writer& w, const fortios_user& u, fortios_release r, bool undo) {
  auto source = documented_in(r, {fortios_release::v6_4, fortios_release::v7_2}, "config system email-server");
  w.global();
  w.command("config system email-server", source);
  if (undo) {
    w.command("    unset type", "[assumed] unset restores the default");
    w.command("    unset server", "[assumed] unset restores the default (FortiGuard's notification server)");
    w.command("    unset port", "[assumed] unset restores the default, 25");
  } else {
    w.command("    set type custom", source);
    std::string server = "    set server ";
    quoted(server, u.email_server);
    w.command(server, source);
    w.command("    set port " + std::to_string(u.email_port), source);
  }
  w.command("end", source);
}

void user_and_token(block_writer& w, const fortios_user& u, fortios_release r) {
  w.note("3. A user with the token: assigning it makes the FortiGate provision it with FortiCare");
  w.note("   (ProvisionRequest) and mail the activation code and QR code to --email-to.");
  if (!u.email_server.empty()) email_server(w, u, r, false);
  w.vdom();
  auto source = documented_in(r, {fortios_release::v7_0}, "config user local");
  std::string edit = "    edit ", passwd = "        set passwd ", token = "        set fortitoken ",
              email = "        set email-to ";
  quoted(edit, u.name);
  quoted(passwd, u.password);
  quoted(token, u.token);
  quoted(email, u.email_to);
  w.command("config user local", source);
  w.command(edit, source);
  w.command("        set type password", source);
  w.command(passwd, source);
  w.command("        set two-factor fortitoken", source);
  w.command(token,
            "[seen] assigning a token provisions it: ProvisionRequest, then \"sent activation code\" (KB 308115, "
            "KB 424201, a FortiOS 7.4.10 debug log)");
  w.command(email, source);
  w.command("    next", source);
  w.command("end", source);
}

void check(block_writer& w, bool undo) {
  w.note(undo ? "Forget the answers cached meanwhile."
              : "Forget the answers the FortiGate cached before the change; then see the name's address now.");
  w.global();
  w.command("diagnose test application dnsproxy 1", "[assumed] dnsproxy test 1 clears the DNS cache");
  if (undo) return;
  w.vdom();
  w.command("execute ping directregistration.fortinet.com", "[assumed] ping prints the address the name resolves to");
}

}  // namespace

std::optional<fortios_release> fortios_release_of(std::string_view text) {
  for (auto r : {fortios_release::v6_4, fortios_release::v7_0, fortios_release::v7_2, fortios_release::v7_4,
                 fortios_release::v7_6})
    if (text == release_text(r)) return r;
  return std::nullopt;
}

cli_block fortios_setup(const fortios_target& t) {
  block_writer w(t);
  resolver(w, t);
  unicast_fortiguard(w, false);
  if (t.user) user_and_token(w, *t.user, t.release);
  check(w, false);
  return w.done();
}

cli_block fortios_undo(const fortios_target& t) {
  block_writer w(t);
  w.note("Back to FortiOS's defaults [assumed: unset restores a setting's default]: FortiGuard's own");
  w.note("resolvers. If the unit had other values, set those instead: what 'show system dns' and");
  w.note("'show system fortiguard' printed before the setup (lab guide, section 4).");
  w.global();
  w.command("config system dns", dns_reference);
  if (!t.v4.empty()) {
    w.command("    unset primary", "[assumed] unset restores the default: FortiGuard's resolver");
    w.command("    unset secondary", "[assumed] unset restores the default: FortiGuard's resolver");
  }
  if (!t.v6.empty()) w.command("    unset ip6-primary", "[assumed] unset restores the default");
  clear_text_dns(w, t.release, true);
  w.command("end", dns_reference);
  unicast_fortiguard(w, true);
  if (t.user) {
    if (!t.user->email_server.empty()) email_server(w, *t.user, t.release, true);
    w.note("The lab user goes; the token stays imported (delete it with its licence if you wish).");
    w.vdom();
    std::string del = "    delete ";
    quoted(del, t.user->name);
    auto source = documented_in(t.release, {fortios_release::v7_0}, "config user local");
    w.command("config user local", source);
    w.command(del, source);
    w.command("end", source);
  }
  check(w, true);
  return w.done();
}

cli_block fortios_debug(const fortios_target& t) {
  block_writer w(t);
  w.note("FortiCare's side: forticldd and the FortiToken code [doc: the KB \"Troubleshooting FortiToken");
  w.note("activation\"; seen: a FortiOS 7.4.10 session, where debug stops by itself after 30 minutes].");
  w.note("The login's side: fnbamd, the authentication daemon, for the user's FortiToken code.");
  w.global();
  const char* kb = "[doc] KB \"Troubleshooting FortiToken activation\"; [seen] a FortiOS 7.4.10 session";
  w.command("diagnose debug reset", kb);
  w.command("diagnose debug console timestamp enable", kb);
  w.command("diagnose debug application forticldd 255", kb);
  w.command("diagnose fortitoken debug enable", kb);
  w.command("diagnose debug application fnbamd -1", "[doc] FortiOS troubleshooting: authentication, fnbamd");
  w.command("diagnose debug enable", kb);
  w.note("Then run what you test, e.g.:");
  w.note("  execute fortitoken-mobile import 0000-0000-0000-0000-0000");
  w.note("  execute fortitoken-mobile poll");
  w.note("  execute fortitoken activate FTK2000000000001");
  w.note("  diagnose fortitoken info");
  w.note("and log in as the user (the FortiToken code after the password). Debug off again:");
  w.note("  diagnose fortitoken debug disable");
  w.note("  diagnose debug application forticldd 0");
  w.note("  diagnose debug application fnbamd 0");
  w.note("  diagnose debug disable");
  w.note("  diagnose debug reset");
  return w.done();
}

void print_block(std::ostream& out, std::string_view heading, const cli_block& b, cli_style style) {
  if (style != cli_style::paste && !heading.empty()) out << "\n# ---- " << heading << " ----\n";
  std::size_t width = 0;
  for (const auto& l : b)
    if (!l.source.empty()) width = std::max(width, l.text.size());
  for (const auto& l : b) {
    if (l.source.empty()) {
      if (style == cli_style::annotated) out << "# " << l.text << "\n";
      continue;
    }
    out << l.text;
    if (style == cli_style::explain) out << std::string(width + 2 - l.text.size(), ' ') << "<- " << l.source;
    out << "\n";
  }
}

}  // namespace fortisim
