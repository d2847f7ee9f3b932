#pragma once
// A scenario: the world fortisim answers from (licences, tokens, locks, the clock) and the rules
// that inject faults. Loaded and validated once into this plain value; the engine compiles it.
// The file format is documented in scenarios/README.md and scenarios/schema.json.

#include "protocol/errors.hpp"
#include "protocol/messages.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace fortisim::core {

/// A string test in a rule: "exact", {"prefix": "FG"}, {"suffix": "-0010"}, {"contains": ..},
/// {"regex": "^FG4H"}, or {"any_of": ["a", "b"]}.
struct matcher {
  enum class kind { equals, prefix, suffix, contains, regex, any_of };
  kind how = kind::equals;
  std::string value;
  std::vector<std::string> values;
  std::shared_ptr<const std::regex> re;
  bool matches(std::string_view s) const;
};

/// An ordinal test, 1-based: 3, or {"min": 1, "max": 2}, or {"every": 3} (3rd, 6th, ...).
struct ordinal_range {
  std::uint64_t min = 1;
  std::uint64_t max = UINT64_MAX;
  std::uint64_t every = 0;
  bool contains(std::uint64_t n) const;
};

/// When a fault happens: the layer a rule acts at, fixed by its actions.
enum class stage { connection, tls, http };

/// Every action a rule can take. Names are the scenario file's "action" values.
enum class action_kind {
  pass,            ///< answer from the FortiCare model, as if no rule matched
  delay,           ///< wait delay_ms, then answer from the model
  refuse,          ///< stop listening: clients get ECONNREFUSED (for_ms, first_ms, or until told)
  reset,           ///< reset the connection (RST): on accept, after the ClientHello, or after the request
  hang,            ///< never answer (for_ms, or until the client gives up), at any stage like reset
  tls_alert,       ///< answer the ClientHello with a fatal TLS alert
  tls_stall,       ///< read the ClientHello, never answer it
  tls_cert,        ///< handshake with a bad certificate: wrong_name, expired, unknown_ca
  tls_version,     ///< offer only the listed TLS versions
  status,          ///< any HTTP status with a body
  close,           ///< read the request, close without a reply
  truncate,        ///< the reply's headers, part of its body, then close
  garbage,         ///< random bytes, then close
  dribble,         ///< the reply at bytes_per_second
  lie_length,      ///< a Content-Length that is not the body's length, then close
  malformed_json,  ///< a well-framed 200 whose JSON body is cut short
  error,           ///< the operation's reply carrying a FortiCare error (and/or member errors)
  reply,           ///< a whole reply body given in the scenario, echoing request fields
};
std::string_view action_name(action_kind k);
stage stage_of(action_kind k);

/// One error for one HA member of the request's __clustered_sns.
struct member_error {
  std::string sn;
  protocol::error_value error;
};

/// What a rule does. Only the fields of its kind are meaningful.
struct action {
  action_kind kind = action_kind::pass;
  std::int64_t delay_ms = 0;     ///< any HTTP-stage action: wait this long first
  std::int64_t for_ms = 0;       ///< refuse, hang, tls_stall: how long (0: indefinitely)
  std::int64_t first_ms = 0;     ///< refuse: from the scenario's start, for this long
  std::string alert = "handshake_failure";  ///< tls_alert
  std::string cert;              ///< tls_cert: "wrong_name", "expired", "unknown_ca"
  std::vector<std::string> versions;        ///< tls_version: e.g. ["1.3"]
  int status = 200;              ///< status
  std::string body;              ///< status
  std::string content_type = "text/html; charset=utf-8";  ///< status
  std::uint64_t bytes = 0;       ///< truncate: body bytes sent; garbage: byte count; dribble: bytes/s
  std::uint64_t content_length = 0;  ///< lie_length
  std::optional<protocol::error_value> error;  ///< error: the top-level error
  std::vector<member_error> members;           ///< error: per-member errors
  protocol::ordered_json reply;                ///< reply: the body, "{{d.field}}" echoes the request
};

/// What a rule matches. Every present test must hold; absent tests match anything.
struct rule_when {
  std::optional<matcher> endpoint;        ///< "process", "mobile", or a path matcher
  std::optional<matcher> type;            ///< the request's __type ("ActivationLicenseRequest" or full)
  std::optional<protocol::operation> operation;  ///< "activation_license", "polling", ...
  std::vector<std::pair<std::string, matcher>> fields;  ///< any other key: a field of "d"
  std::optional<matcher> cluster_member;  ///< any __clustered_sns[].sn
  std::optional<matcher> token;           ///< any tokens[].token
  std::optional<matcher> sni;             ///< the TLS server name
  std::optional<matcher> client_address;  ///< the peer's IP address
  std::optional<ordinal_range> connection;  ///< the connection's ordinal since the scenario loaded
  std::optional<ordinal_range> request;     ///< the request's ordinal since the scenario loaded
  bool empty() const {
    return !endpoint && !type && !operation && fields.empty() && !cluster_member && !token && !sni &&
           !client_address && !connection && !request;
  }
};

/// One fault rule: first match wins; `then` is played in order, the last repeating (or cycling).
struct rule {
  std::string name;
  rule_when when;
  std::vector<action> then;
  bool cycle = false;                  ///< true: then[] cycles; false: its last entry repeats
  std::optional<std::uint64_t> times;  ///< the rule fires at most this many times
  double probability = 1.0;            ///< chance to fire on a match, drawn from the seeded generator
  core::stage stage = core::stage::http;
};

/// A licence the scenario declares (PROTOCOL.md §1 flow 1).
struct license_spec {
  std::string activation_code;
  std::string license;                    ///< "EFTM" + 12 digits; derived from the code if absent
  std::vector<std::string> tokens;        ///< explicit token serials, or
  int token_count = 5;                    ///< this many derived "FTKMOB…" serials
  std::optional<std::int64_t> valid_until;  ///< unix seconds; past it an unredeemed code gets 14
  std::vector<std::string> bound_to;      ///< device or HA cluster serials it is already bound to
};

/// What an unknown but well-formed licence code gets.
struct unknown_code_policy {
  bool accept = false;          ///< true: a new licence; false: error 10 (card not found)
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
  std::optional<std::int64_t> expire;  ///< unix seconds; default now + activation_expiry
  std::string issuer;
  std::string mobile_id;        ///< already bound to this phone
};

/// A hardware token (FortiToken-200) and its one-time activation lock (flow 5).
struct hardware_token_spec {
  std::string token;
  std::string secret;       ///< raw 20 bytes (given as 40 hex); derived if absent
  bool lock_consumed = false;
  std::string activated_by;  ///< the device that consumed it, for the journal
};

/// A loaded, validated scenario file.
struct scenario {
  std::string name;
  std::string description;
  std::string file;
  std::uint64_t seed = 1;
  std::optional<std::int64_t> clock_start_ms;  ///< virtual "now" at load; absent: the real time
  double clock_rate = 1.0;
  std::vector<license_spec> licenses;
  unknown_code_policy unknown_codes;
  bool trial_available = true;
  int trial_token_count = 2;
  std::int64_t activation_expiry_s = 3 * 24 * 3600;  ///< FortiOS default: 3 days
  std::vector<mobile_token_spec> mobile_tokens;
  std::vector<hardware_token_spec> hardware_tokens;
  bool accept_unknown_hardware = false;
  std::vector<rule> rules;
  protocol::message_names names = protocol::default_message_names();
  protocol::error_table errors;
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
/// Reads and parses a scenario file.
load_result load_scenario_file(const std::string& path);
/// Parses "2026-01-31" or "2026-01-31T12:00:00Z" (or a unix number) into unix seconds.
std::optional<std::int64_t> parse_time(const protocol::json& j);

}  // namespace fortisim::core
