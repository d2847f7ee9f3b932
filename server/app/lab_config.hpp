#pragma once
// `fortisim lab-config`: what a lab writes on its side so that a FortiGate reaches fortisim: the
// FortiOS CLI block (its resolver in clear text, FortiGuard anycast off, the debug recipe of the
// KB "Troubleshooting FortiToken activation") and the same override as dnsmasq and unbound lines,
// for labs that keep their own resolver. Plain text on stdout; every Fortinet name comes from protocol/hosts.hpp.
//   fortisim lab-config --address 192.0.2.10 --dns-upstream 192.0.2.53
//   fortisim lab-config --address 192.0.2.10 --address 2001:db8::10 --no-upstream --format dnsmasq
//   fortisim lab-config --address 192.0.2.10 --dns-upstream 192.0.2.53 --fortios 6.4 --vdom multi --paste

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fortisim {

/// The options of `fortisim lab-config`, as given on the command line (checked by run_lab_config).
struct lab_config_options {
  /// --address: fortisim's address as the FortiGate reaches it; one IPv4 address (A lines, `set
  /// primary`) and/or one IPv6 address (AAAA lines, `set ip6-primary`), e.g. 192.0.2.10.
  std::vector<std::string> addresses;
  /// --dns-port: where fortisim's DNS responder (`serve --dns`) answers; FortiOS asks port 53.
  int dns_port = 53;
  /// --format: "fortios", "dnsmasq", "unbound" or "all".
  std::string format = "all";
  /// --dns-upstream: the lab's own resolver, for the serve line: every other name goes there (a
  /// FortiGate whose only resolver is fortisim still resolves NTP and the rest). Required unless
  /// --no-upstream says there is none.
  std::string dns_upstream;
  bool no_upstream = false;
  /// --names: "token" (the token path's names alone) or "all" (FortiGuard's too).
  std::string names = "token";
  /// --fortios: the release whose syntax to write ("6.4" … "7.6").
  std::string fortios = "7.4";
  /// --vdom: "single" or "multi"; --user-vdom: the VDOM that holds the user on a multi-VDOM unit.
  std::string vdom = "single";
  std::string user_vdom = "root";
  /// --token, with --email-to and optionally --email-server, --user, --password: a local user the
  /// token is assigned to, which makes the FortiGate provision it.
  std::string token, email_to, email_server, user = "fortisim-lab";
  std::optional<std::string> password;  ///< none: a random one
  /// --undo: the FortiOS block that puts back what the setup block changed, instead of it.
  bool undo = false;
  /// --paste: the FortiOS block without comments; --explain: each command with its source.
  bool paste = false, explain = false;
};

/// Registers the `lab-config` subcommand, filling `o`.
CLI::App* add_lab_config(CLI::App& app, lab_config_options& o);

/// Writes the blocks `o` asks for to `out` and returns 0; a bad option is one line on `err`
/// naming it, what was expected and an example, and returns 2.
int run_lab_config(const lab_config_options& o, std::ostream& out, std::ostream& err);

}  // namespace fortisim
