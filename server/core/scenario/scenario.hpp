#pragma once
// A scenario: the world fortisim answers from (licences, tokens, locks, the clock) and the rules
// that inject faults. Loaded and validated once into this plain value (scenario_load.cpp for the
// world, rule_parse.cpp for rules, fault_parse.cpp for their faults, protocol_parse.cpp for the
// protocol table); the engine compiles it. The file format is documented in scenarios/README.md
// and scenarios/schema.json.

#include "protocol/errors.hpp"
#include "protocol/formats.hpp"
#include "protocol/hosts.hpp"
#include "protocol/messages.hpp"
#include "protocol/otp.hpp"
#include "server/core/scenario/faults.hpp"
#include "server/core/scenario/matcher.hpp"

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace fortisim::core {

/// What a rule matches. Every present test must hold; absent tests match anything.
struct rule_when {
  std::optional<matcher> endpoint;                      ///< "process", "mobile", or a path matcher
  std::optional<matcher> type;                          ///< the request's __type ("ActivationLicenseRequest" or full)
  std::uint8_t operations = 0;                          ///< a bit per protocol::operation named (0: any)
  std::vector<std::pair<std::string, matcher>> fields;  ///< any other key: a field of "d"
  std::optional<matcher> cluster_member;                ///< any __clustered_sns[].sn
  std::optional<matcher> token;                         ///< any tokens[].token
  std::optional<matcher> sni;                           ///< the TLS server name
  std::optional<matcher> client_address;                ///< the peer's IP address
  std::optional<ordinal_range> connection;              ///< the connection's ordinal since the scenario loaded
  std::optional<ordinal_range> request;                 ///< the request's ordinal since the scenario loaded
  std::optional<matcher> qname;                         ///< DNS: the question's name, lower case, no trailing dot
  std::optional<matcher> qtype;                         ///< DNS: the question's type ("A", "AAAA", ...)
  std::optional<ordinal_range> query;                   ///< DNS: the query's ordinal since the scenario loaded
  bool empty() const {
    return !endpoint && !type && !operations && fields.empty() && !cluster_member && !token && !sni &&
           !client_address && !connection && !request && !qname && !qtype && !query;
  }
};

/// A response header a scenario adds or replaces (a value) or removes (no value).
struct header_edit {
  std::string name;
  std::optional<std::string> value;
};
using header_edits = std::vector<header_edit>;
/// `lines` ("Name: value\r\n" each) with `edits` applied in order: each edit first removes the
/// lines of its name, in any case, then adds its own. http_parse.cpp
std::string edited_headers(std::string_view lines, const header_edits& edits);

/// One fault rule: first match wins; `then` is played in order, the last repeating (or cycling).
struct rule {
  std::string name;
  rule_when when;
  std::vector<action> then;
  bool cycle = false;                  ///< true: then[] cycles; false: its last entry repeats
  std::optional<std::uint64_t> times;  ///< the rule fires at most this many times
  double probability = 1.0;            ///< chance to fire on a match, drawn from the seeded generator
  core::stage stage = core::stage::http;
  header_edits headers;   ///< what the replies it shapes carry besides the scenario's headers
  protocol::json source;  ///< the rule as written (GET /rules shows it)
};

/// A licence the scenario declares (docs/protocol.md §1 flow 1).
struct license_spec {
  std::string activation_code;
  std::string license;                      ///< "EFTM" + 12 digits; derived from the code if absent
  std::vector<std::string> tokens;          ///< explicit token serials, or
  int token_count = 5;                      ///< this many derived "FTKMOB…" serials
  std::optional<std::int64_t> valid_until;  ///< unix seconds; past it an unredeemed code gets 14
  std::vector<std::string> bound_to;        ///< device or HA cluster serials it is already bound to
  std::string registered_to;                ///< the serial it is registered to (default: bound_to's first)
};

/// A token's activation code fixed by the scenario ({"token": …, "activation_code": "EE…"} in a
/// licence's tokens): every provisioning of the token answers it, so a capture can be replayed.
struct pinned_code {
  std::string token;
  std::string activation_code;  ///< the user's 16 base32 characters
};

/// Who may provision a licence's tokens ("clusters": {"licence_use": …}, docs/protocol.md §4.4).
enum class licence_use {
  registered_listed,  ///< a request whose serials include the one it is registered to (KB 424201, inferred)
  any_member,         ///< a request from any member of the cluster it is bound to
  registered_serial,  ///< a request from the serial it is registered to, and no other
};

/// How FortiCare treats HA clusters (docs/protocol.md §4.4).
struct cluster_policy {
  licence_use use = licence_use::registered_listed;
  /// Serials FortiCare does not know as registered: their member entry says "Product is not registered".
  std::vector<std::string> not_registered;
};

/// What an unknown but well-formed licence code gets.
struct unknown_code_policy {
  bool accept = false;  ///< true: a new licence; false: error 10 (card not found)
  int token_count = 5;
  std::optional<std::int64_t> valid_until;  ///< of those new licences (in the past: error 14)
};

/// An FTM token provisioned without a FortiGate, ready for the phone (flow 3).
struct mobile_token_spec {
  std::string token;
  std::string license;
  std::string activation_code;  ///< the user's 16 base32 characters; derived if absent
  std::string secret;           ///< raw 20 bytes (given as 40 hex); derived if absent
  int digits = 6;
  int period = 60;
  protocol::otp_type type = protocol::otp_type::totp;
  std::uint64_t counter = 0;           ///< HOTP: the counter it starts at
  std::optional<std::int64_t> expire;  ///< unix seconds; default now + activation_expiry
  std::string issuer;
  std::string mobile_id;  ///< already bound to this phone
};

/// A hardware token (FortiToken-200) and its one-time activation lock (flow 5).
struct hardware_token_spec {
  std::string token;
  std::string secret;  ///< raw 20 bytes (given as 40 hex); derived if absent
  bool lock_consumed = false;
  std::string activated_by;  ///< the device that consumed it, for the journal
};

/// What a stapled OCSP response says about the certificate served ("tls": {"ocsp": "revoked"});
/// none: no response is stapled.
enum class ocsp_status { good, revoked, unknown, none };

/// The scenario's TLS side: "tls": {"ocsp": "good", "hosts": {"fds1.fortinet.com": {"ocsp":
/// "revoked"}}}. Read at every handshake, so a reload takes effect on the next connection.
struct tls_settings {
  ocsp_status ocsp = ocsp_status::good;                    ///< every host not listed, and clients that send no SNI
  std::vector<std::pair<std::string, ocsp_status>> hosts;  ///< canonical host name, its status
  /// The status for the SNI `host`, compared as host names are (case-insensitively).
  ocsp_status ocsp_for(std::string_view host) const {
    for (const auto& [name, status] : hosts)
      if (protocol::same_host_name(name, host)) return status;
    return ocsp;
  }
};

/// A loaded, validated scenario file.
/// The response headers an IIS/ASP.NET web service sends besides Content-Type, Date and
/// Content-Length, in IIS's order [assumed: no capture shows the real service's headers;
/// docs/protocol.md]: fortisim sends them unless a scenario says "http": {"iis_headers": false}.
inline constexpr std::pair<std::string_view, std::string_view> iis_headers[] = {
    {"Cache-Control", "private"},
    {"Server", "Microsoft-IIS/10.0"},
    {"X-AspNet-Version", "4.0.30319"},
    {"X-Powered-By", "ASP.NET"},
};
/// `iis_headers` as header lines, "Name: value\r\n" each.
std::string default_http_headers();

struct scenario {
  std::string name;
  std::string description;
  std::string file;
  std::uint64_t seed = 1;
  std::optional<std::int64_t> clock_start_ms;  ///< virtual "now" at load; absent: the real time
  double clock_rate = 1.0;
  std::vector<license_spec> licenses;
  std::vector<pinned_code> pinned_codes;
  cluster_policy clusters;
  /// A phone's mobile_id longer than 16 bytes (iOS sends a 36-character UUID): keyed by its first
  /// 16 bytes (true, assumed), or refused with error 40.
  bool long_mobile_id_first_16 = true;
  /// The app's FortiToken Cloud path, POST /api/v1/token/activation, answered as /Mobile
  /// ("phone": {"fortitoken_cloud": true}; off by default: fortisim is not FortiToken Cloud).
  bool fortitoken_cloud_path = false;
  unknown_code_policy unknown_codes;
  bool trial_available = true;
  int trial_token_count = 2;
  std::int64_t activation_expiry_s = 3 * 24 * 3600;  ///< FortiOS default: 3 days
  std::vector<mobile_token_spec> mobile_tokens;
  std::vector<hardware_token_spec> hardware_tokens;
  bool accept_unknown_hardware = false;
  /// Names the DNS responder (--dns) answers besides the Fortinet ones ("dns": {"names": […]}),
  /// canonical: lower case, no trailing dot, e.g. "lab.example.net".
  std::vector<std::string> dns_names;
  tls_settings tls;
  /// The headers every reply on the HTTPS port carries besides Content-Type, Allow, Connection, Date
  /// and Content-Length, as header lines ("Name: value\r\n" each): IIS's by default, then the
  /// scenario's "http" section.
  std::string http_headers = default_http_headers();
  /// Paths looked up without case, as IIS does [assumed]: /softtoken/provisioning.asmx/process is
  /// /SoftToken/Provisioning.asmx/Process ("http": {"case_insensitive_paths": false} turns it off).
  bool case_insensitive_paths = true;
  std::vector<rule> rules;
  protocol::message_names names = protocol::default_message_names();
  protocol::error_table errors;
  protocol::status_words status_words;
};

/// One problem in a scenario file: "file: $.licenses[0].valid_until: expected a date".
struct problem {
  std::string path;
  std::string reason;
};

struct load_result {
  std::optional<scenario> value;
  std::vector<problem> problems;
  std::string file;
  /// Every problem on its own line: "<file>: <path>: <reason>".
  std::string describe() const;
};

/// Parses and validates scenario text (JSON, comments allowed). Reports every problem found.
load_result parse_scenario(std::string_view text, std::string file_label);
/// The largest scenario file read (64 MiB): a larger one is refused by its size, unread.
inline constexpr std::int64_t scenario_file_limit = std::int64_t{64} << 20;
/// What sits at a path, by its stat mode, in words: "a FIFO", "a folder", "a socket", "a device", "a file".
std::string kind_of(mode_t mode);
/// Reads and parses `path`. Anything but a regular file (a FIFO, a device, a socket, a folder) is
/// refused with the reason and never waited on: the file is opened without blocking and checked
/// before a byte is read.
load_result load_scenario_file(const std::string& path);
/// Parses one rule as a scenario's `rules[]` entry would be, against `s`'s protocol table (for
/// rules added at runtime): the rule, or every problem with its JSON path.
std::variant<rule, std::vector<problem>> parse_rule(const protocol::json& j, const scenario& s);
/// The times fortisim takes, in unix seconds: 1970-01-01 to 9999-12-31T23:59:59Z. Scenarios,
/// the stored state and POST /clock are held to them, so the virtual clock never leaves them.
inline constexpr std::int64_t first_time_s = 0;
inline constexpr std::int64_t last_time_s = 253402300799;
/// A mobile token's activation code at the start: the one the scenario gives it, else derived from
/// the seed and its serial.
protocol::activation_bytes start_code(const scenario& s, const mobile_token_spec& m);
/// Parses "2026-01-31" or "2026-01-31T12:00:00Z" (or a unix number) into unix seconds; nothing
/// for a time outside first_time_s to last_time_s.
std::optional<std::int64_t> parse_time(const protocol::json& j);

}  // namespace fortisim::core
