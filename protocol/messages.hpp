#pragma once
// The SoftToken messages (docs/protocol.md §3, §4): envelope, requests, replies, and their JSON
// codecs (requests.cpp, replies.cpp). Replies are written in the captured field order.

#include "protocol/errors.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fortisim::protocol {

/// fortisim's one JSON type. Objects keep their members in a vector, in document order: fewer
/// allocations than std::map on the per-request parse (engine_bench: 6.4-7.9 -> 4.9 us), and
/// replies, scenarios and logs keep the order they were written in.
using json = nlohmann::ordered_json;

/// The two endpoints (docs/protocol.md §2): the FortiGate's, and the phone app's.
inline constexpr std::string_view process_path = "/SoftToken/Provisioning.asmx/Process";
inline constexpr std::string_view mobile_path = "/SoftToken/Provisioning.asmx/Mobile";
/// Where the app activates a FortiToken Cloud token [seen: kliu2python/taas sends the /Mobile
/// request shape there]; answered as /Mobile when the scenario says "phone": {"fortitoken_cloud": true}.
inline constexpr std::string_view cloud_activation_path = "/api/v1/token/activation";

/// The most entries a request's list may give (`tokens`, `__clustered_sns`); more is an invalid
/// field (992), answered before the model is asked [assumed: FortiCare's own bound is not known].
/// A poll of 262,000 one-letter tokens in a 1 MiB body made a 30 MB reply and held a worker a
/// second; 20,000 leaves a 2 MB reply, and room for the largest FortiGate's tokens.
inline constexpr std::size_t max_list_entries = 20000;

/// The operations fortisim speaks. The first three are seen on the wire; provision and
/// hardware_activation are assumed (docs/protocol.md §4.4).
enum class operation { activation_license, polling, mobile_provision, provision, hardware_activation };
inline constexpr std::size_t operation_count = 5;

/// The `__type` names of every operation's request and reply. The defaults are the seen names
/// and fortisim's assumed ones; a scenario overrides any of them ("protocol.types"), so a lab that
/// captures the real names corrects fortisim without a rebuild.
struct message_names {
  std::array<std::string, operation_count> request;
  std::array<std::string, operation_count> response;
  std::optional<operation> find(std::string_view request_type) const;
};
const message_names& default_message_names();
/// "activation_license", "polling", ... as used in scenario files.
std::string_view operation_name(operation op);
std::optional<operation> operation_from_name(std::string_view name);

/// Every field of `d` the requests of docs/protocol.md carry: what a scenario rule may test by
/// name (a rule's `when` refuses other names, the commonest typo; `when.fields` takes any).
inline constexpr std::array<std::string_view, 13> request_field_names{"__type",
                                                                      "__version",
                                                                      "serial_number",
                                                                      "__device_version",
                                                                      "__device_build",
                                                                      "__clustered_sns",
                                                                      "license_activation_code",
                                                                      "tokens",
                                                                      "mobile_id",
                                                                      "token_activation_code",
                                                                      "registration_id",
                                                                      "os_ver",
                                                                      "reg_id"};

/// Where and why a request's JSON does not have the expected form, e.g.
/// {"d.license_activation_code", "expected a string"}.
struct field_error {
  std::string path;
  std::string reason;
};

/// The fields every FortiGate request carries (docs/protocol.md §3). Missing ones are empty.
struct envelope {
  std::string type;
  std::string version;
  std::string serial_number;
  std::string device_version;
  std::string device_build;
  std::vector<std::string> clustered_sns;
  friend bool operator==(const envelope&, const envelope&) = default;
};

struct activation_license_request {
  envelope env;
  std::string license_activation_code;
  friend bool operator==(const activation_license_request&, const activation_license_request&) = default;
};

struct polling_request {
  envelope env;
  std::vector<std::string> tokens;
  friend bool operator==(const polling_request&, const polling_request&) = default;
};

/// The phone's request: no FortiGate envelope [seen]. Newer apps add the push id and their own
/// version and build [seen: a public tool imitating the iOS app].
struct mobile_provision_request {
  std::string type;
  std::string version;                ///< `__version`, "5" from newer apps
  std::string mobile_id;              ///< 16 characters, or a 36-character UUID on iOS
  std::string token_activation_code;  ///< the 8 code bytes as 16 lowercase hex digits
  std::string registration_id;        ///< the push id; polling shows it as reg_id ("reg_id" also read)
  std::string device_version;         ///< e.g. "4.9.9_IOS"; polling shows it as os_ver ("os_ver" also read)
  std::string device_build;
  friend bool operator==(const mobile_provision_request&, const mobile_provision_request&) = default;
};

/// One token a FortiGate uploads (docs/protocol.md §4.4, as FortiOS 7.4.10 sent it [seen]): the
/// FortiGate makes the seed; FortiCare makes the activation code.
struct provisioned_token {
  std::string token;
  std::string seed;              ///< 40 hex digits (either case): the 20-byte secret; "": FortiCare derives one
  std::int64_t code_expire = 0;  ///< minutes the activation code lasts; 0 when absent
  std::string type = "totp";
  int period = 60;
  int digits = 6;
  std::string activation_code;  ///< optional: a code the client chose (16 lowercase hex) [assumed]
  friend bool operator==(const provisioned_token&, const provisioned_token&) = default;
};

struct provision_request {
  envelope env;
  std::vector<provisioned_token> tokens;
  friend bool operator==(const provision_request&, const provision_request&) = default;
};

struct hardware_activation_request {
  envelope env;
  std::vector<std::string> tokens;
  friend bool operator==(const hardware_activation_request&, const hardware_activation_request&) = default;
};

using request = std::variant<activation_license_request, polling_request, mobile_provision_request, provision_request,
                             hardware_activation_request>;

/// The envelope fields of `d`, liberal: absent fields stay empty, numbers are taken as strings.
std::optional<field_error> decode_envelope(const json& d, envelope& out);
/// Decodes `d` as the request of `op`; a wrong type or a missing required field is an error.
std::variant<request, field_error> decode_request(operation op, const json& d);
/// {"d": {...}} for a request, fields in the order a FortiGate sends them.
json encode(const request& r);

// ---- replies ----

/// One HA member in a reply's `__clustered_sns`: {"sn": ..., "error": null | "Product is not
/// registered"} — a plain string, not an error object [seen: KB 308115].
struct member_status {
  std::string sn;
  std::optional<std::string> error;
  friend bool operator==(const member_status&, const member_status&) = default;
};

/// The envelope echo that starts every FortiGate reply.
struct reply_head {
  std::string type;
  std::string version;
  std::string serial_number;
  std::string device_version;
  std::string device_build;
  std::vector<member_status> members;
  friend bool operator==(const reply_head&, const reply_head&) = default;
};
/// The echo of `env` under `response_type`; members sorted by serial, ascending [seen once].
reply_head head_for(const envelope& env, std::string response_type);
/// The same written into `out`, whose strings keep their storage (a reply reused request after request).
void fill_head(const envelope& env, std::string_view response_type, reply_head& out);

/// One entry of a licence's `tokens` [assumed shape: {"token", "license"}].
struct license_token {
  std::string token;
  std::string license;
  friend bool operator==(const license_token&, const license_token&) = default;
};

struct activation_license_response {
  reply_head head;
  std::string license_activation_code;
  std::string license;                               ///< "" on error
  std::optional<std::vector<license_token>> tokens;  ///< null on error
  std::optional<error_value> error;
  friend bool operator==(const activation_license_response&, const activation_license_response&) = default;
};

/// What a poll reply's `status` says for each state of a token, and for a token FortiCare does not
/// know (docs/protocol.md §4.2): the words of FortiOS's `diagnose fortitoken info` by default; a
/// scenario's `protocol.status_words` renames them.
struct status_words {
  std::string fresh = "new";                              ///< [doc]
  std::string provisioning = "provisioning";              ///< [doc; seen in the 7.4.10 log]
  std::string provisioned = "provisioned";                ///< [doc]
  std::string timed_out = "provision timeout";            ///< [doc]
  std::string unknown = "token not exist in FortiGuard";  ///< [inferred from FortiOS's status text]
  friend bool operator==(const status_words&, const status_words&) = default;
};

/// A token in a polling reply; fields after `license` are assumed (§4.2).
struct polled_token {
  std::string token;
  std::string license;
  std::string status;  ///< one of status_words
  std::string os_ver;
  std::string reg_id;
  std::int64_t activation_expire = 0;
  friend bool operator==(const polled_token&, const polled_token&) = default;
};

struct polling_response {
  reply_head head;
  std::vector<polled_token> tokens;
  std::optional<error_value> error;
  friend bool operator==(const polling_response&, const polling_response&) = default;
};

/// The phone's reply, every field of §4.3 in the real service's order.
struct mobile_provision_response {
  std::string type;
  std::string version;
  std::string device_version;
  std::string device_build;
  std::string mobile_id_hash;
  std::string seed;
  std::string token;
  std::string image_file;
  std::string pin_required;
  std::string pin_require_type;
  int pin_length = 0;
  int counter = 0;
  std::string encryption_key;
  std::string issuer;
  std::optional<error_value> error;
  friend bool operator==(const mobile_provision_response&, const mobile_provision_response&) = default;
};

/// One token of a provisioning reply, fields in the captured order [seen]. A token that failed
/// has every field but `token` and `error` null.
struct provisioned_result {
  std::string token;
  std::optional<std::string> license;
  std::optional<std::string> token_activation_code;  ///< the user's 16 base32 characters
  std::optional<std::string> qr_code;                ///< base64 PNG of a QR code of that code
  std::optional<std::int64_t> code_expire;           ///< minutes, as the FortiGate sent it
  std::optional<error_value> error;
  friend bool operator==(const provisioned_result&, const provisioned_result&) = default;
};

/// `result` is 2 when tokens were provisioned, 0 on error [seen: the FortiOS 7.4.10 log, KB 308115].
struct provision_response {
  reply_head head;
  std::vector<provisioned_result> tokens;
  int result = 0;
  std::optional<error_value> error;
  friend bool operator==(const provision_response&, const provision_response&) = default;
};

/// One token of a hardware activation reply [assumed shape, §4.5].
struct token_result {
  std::string token;
  std::string seed;  ///< 40 hex digits, "" when refused
  std::optional<error_value> error;
  friend bool operator==(const token_result&, const token_result&) = default;
};

struct hardware_activation_response {
  reply_head head;
  std::vector<token_result> tokens;
  std::optional<error_value> error;
  friend bool operator==(const hardware_activation_response&, const hardware_activation_response&) = default;
};

/// A reply carrying only the envelope echo and an error: for malformed bodies and unknown types.
struct error_response {
  reply_head head;
  error_value error;
  friend bool operator==(const error_response&, const error_response&) = default;
};

using response = std::variant<activation_license_response, polling_response, mobile_provision_response,
                              provision_response, hardware_activation_response, error_response>;

/// Appends {"d": {...}} to `out`, compact, in the captured field order, `result` 0 even on error
/// [seen, KB 241195] (2 for a successful provisioning). Writes the text directly: no JSON tree on the per-request path.
void encode_to(const response& r, std::string& out);
/// The same as a JSON value (for tests and tools).
json encode(const response& r);
/// Decodes a reply of `op` (what a client of fortisim reads); used by tests and tools.
std::variant<response, field_error> decode_response(operation op, const json& d);

/// The reply `__type` for a request `__type`: "…Request" becomes "…Response" [assumed for
/// unknown types; seen for the known ones].
std::string response_type_for(std::string_view request_type);

}  // namespace fortisim::protocol
