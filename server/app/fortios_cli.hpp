#pragma once
// The FortiOS CLI that `fortisim lab-config` prints: each command with the mark of its source
// ([doc] Fortinet documents it, [seen] a published FortiGate session shows it, [assumed] neither),
// written per FortiOS release where the syntax differs. Printed three ways: with the comments that
// say why (the default), bare for pasting (--paste), or each command beside its source (--explain).

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace fortisim {

/// The FortiOS releases whose syntax lab-config knows. 6.4 has `set dns-over-tls` where 7.0 and
/// later have `set protocol` under `config system dns` [doc: each release's CLI reference].
enum class fortios_release { v6_4, v7_0, v7_2, v7_4, v7_6 };

/// "6.4", "7.0", … "7.6"; nothing for another text.
std::optional<fortios_release> fortios_release_of(std::string_view text);

/// One line of a block: a command with its source, or a comment (`source` empty).
struct cli_line {
  std::string text;    ///< "    set protocol cleartext", or a comment's words without "# "
  std::string source;  ///< "[doc] FortiOS 7.0 CLI reference, config system dns"; "" for a comment
};
using cli_block = std::vector<cli_line>;

/// The user whose token assignment makes the FortiGate provision it (ProvisionRequest).
struct fortios_user {
  std::string name;          ///< the local user, e.g. "fortisim-lab"
  std::string password;      ///< its password
  std::string token;         ///< an FTKMOB serial the FortiGate imported, e.g. FTKMOB0000000001
  std::string email_to;      ///< where FortiOS mails the activation code
  std::string email_server;  ///< the lab's SMTP relay ("" keeps the unit's email server)
  int email_port = 25;
};

/// What the blocks are written for.
struct fortios_target {
  fortios_release release = fortios_release::v7_4;
  bool multi_vdom = false;  ///< system settings inside `config global`, the user inside its VDOM
  std::string vdom = "root";
  std::string v4, v6;  ///< fortisim's addresses ("" when not given)
  int dns_port = 53;
  std::optional<fortios_user> user;
};

/// The resolver and FortiGuard settings, the user and its token when given, and the check.
cli_block fortios_setup(const fortios_target& t);
/// What puts back what fortios_setup changed.
cli_block fortios_undo(const fortios_target& t);
/// The debug recipe: FortiCare's side (forticldd, fortitoken) and the login's (fnbamd).
cli_block fortios_debug(const fortios_target& t);

enum class cli_style {
  annotated,  ///< comments as "# …" lines, commands as they are
  paste,      ///< commands alone: no comment line
  explain,    ///< commands alone, each with "<- [mark] source" (to read, not to paste)
};

/// Writes `b` under a heading ("" none; never in paste style).
void print_block(std::ostream& out, std::string_view heading, const cli_block& b, cli_style style);

}  // namespace fortisim
