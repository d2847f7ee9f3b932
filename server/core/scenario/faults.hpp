#pragma once
// Every fault a rule can inject, one type each, held in one std::variant. A fault is its struct
// here, its parser (fault_parse.cpp), its executor (server/net/https/faults.cpp for what happens on
// the wire; server/core/engine/reply_faults.cpp for what shapes the reply), its entry in
// scenarios/schema.json, and its test. Nothing else names it.
//
// Each struct declares what it is, at compile time, and every list of faults is derived from that:
//   name          its name in a scenario file
//   at            the stage it acts at
//   sends_reply   whether the client gets an HTTP reply after it (false: the journal records
//                 status 0, the model is not asked, and it needs a wire executor of its own)
//   shapes_reply  whether the engine writes or bends the reply (it then needs a shaper in
//                 reply_faults.cpp)

#include "protocol/errors.hpp"
#include "protocol/messages.hpp"

#include <array>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace fortisim::core {

/// When a fault happens: on accept, after the ClientHello, or after the request is read; or to a
/// query the DNS responder (--dns) got.
enum class stage { connection, tls, http, dns };
inline constexpr int stage_count = 4;
std::string_view stage_name(stage s);  ///< "connection", "tls", "http", "dns"

/// Where a fault may act: one stage, or (reset, hang) whichever stage its rule's `when` needs.
enum class acts_at { connection, tls, http, dns, any };

/// What a reply says of one HA member of the request's __clustered_sns: a plain string such as
/// "Product is not registered" [seen].
struct member_error {
  std::string sn;
  std::string error;
};

/// A TLS alert by name and number (RFC 8446 §6).
struct tls_alert_name {
  std::string_view name;
  std::uint8_t code;
};
inline constexpr std::array<tls_alert_name, 8> tls_alerts{{{"handshake_failure", 40},
                                                           {"protocol_version", 70},
                                                           {"internal_error", 80},
                                                           {"unrecognized_name", 112},
                                                           {"access_denied", 49},
                                                           {"insufficient_security", 71},
                                                           {"decode_error", 50},
                                                           {"illegal_parameter", 47}}};

namespace faults {

constexpr std::int64_t day_ms = 24LL * 3600 * 1000;

/// Answer from the FortiCare model, as if no rule matched. {"action": "pass"}
struct pass {
  static constexpr std::string_view name = "pass";
  static constexpr acts_at at = acts_at::http;
  static constexpr bool sends_reply = true;
  static constexpr bool shapes_reply = false;
};
/// Wait, then answer from the model. {"action": "delay", "ms": 3000}
struct delay {
  static constexpr std::string_view name = "delay";
  static constexpr acts_at at = acts_at::http;
  static constexpr bool sends_reply = true;
  static constexpr bool shapes_reply = false;
};
/// Stop listening: clients get ECONNREFUSED. {"action": "refuse", "for_ms": 5000}; with
/// "first_ms" from the scenario's start; with neither, until POST /listener/open or a reload.
struct refuse {
  static constexpr std::string_view name = "refuse";
  static constexpr acts_at at = acts_at::connection;
  static constexpr bool sends_reply = false;
  static constexpr bool shapes_reply = false;
  std::int64_t for_ms = 0;
  std::int64_t first_ms = 0;
};
/// Reset the connection (RST): on accept, after the ClientHello, or after the request.
struct reset {
  static constexpr std::string_view name = "reset";
  static constexpr acts_at at = acts_at::any;
  static constexpr bool sends_reply = false;
  static constexpr bool shapes_reply = false;
};
/// Never answer, for for_ms (0: until the client gives up), at any stage like reset.
struct hang {
  static constexpr std::string_view name = "hang";
  static constexpr acts_at at = acts_at::any;
  static constexpr bool sends_reply = false;
  static constexpr bool shapes_reply = false;
  std::int64_t for_ms = 0;
};
/// Answer the ClientHello with a fatal alert. {"action": "tls_alert", "alert": "access_denied"}
struct tls_alert {
  static constexpr std::string_view name = "tls_alert";
  static constexpr acts_at at = acts_at::tls;
  static constexpr bool sends_reply = false;
  static constexpr bool shapes_reply = false;
  tls_alert_name alert = tls_alerts[0];
};
/// Read the ClientHello, never answer it (for for_ms, 0: until the client gives up).
struct tls_stall {
  static constexpr std::string_view name = "tls_stall";
  static constexpr acts_at at = acts_at::tls;
  static constexpr bool sends_reply = false;
  static constexpr bool shapes_reply = false;
  std::int64_t for_ms = 0;
};
/// Handshake with a bad certificate. {"action": "tls_cert", "cert": "expired"}
struct tls_cert {
  static constexpr std::string_view name = "tls_cert";
  static constexpr acts_at at = acts_at::tls;
  static constexpr bool sends_reply = true;
  static constexpr bool shapes_reply = false;
  static constexpr std::array<std::string_view, 3> kinds{"wrong_name", "expired", "unknown_ca"};
  std::string cert;
};
/// Offer only these TLS versions. {"action": "tls_version", "versions": ["1.3"]}
struct tls_version {
  static constexpr std::string_view name = "tls_version";
  static constexpr acts_at at = acts_at::tls;
  static constexpr bool sends_reply = true;
  static constexpr bool shapes_reply = false;
  std::vector<std::string> versions;
};
/// Any HTTP status with a body. {"action": "status", "status": 503, "body": "..."}
struct status {
  static constexpr std::string_view name = "status";
  static constexpr acts_at at = acts_at::http;
  static constexpr bool sends_reply = true;
  static constexpr bool shapes_reply = true;
  int code = 200;
  std::string body;
  std::string content_type = "text/html; charset=utf-8";
};
/// Read the request, close without a reply.
struct close {
  static constexpr std::string_view name = "close";
  static constexpr acts_at at = acts_at::http;
  static constexpr bool sends_reply = false;
  static constexpr bool shapes_reply = false;
};
/// The reply's headers and the first `bytes` of its body, then close.
struct truncate {
  static constexpr std::string_view name = "truncate";
  static constexpr acts_at at = acts_at::http;
  static constexpr bool sends_reply = true;
  static constexpr bool shapes_reply = false;
  std::uint64_t bytes = 10;
};
/// `bytes` seeded random bytes instead of a reply, then close.
struct garbage {
  static constexpr std::string_view name = "garbage";
  static constexpr acts_at at = acts_at::http;
  static constexpr bool sends_reply = false;
  static constexpr bool shapes_reply = false;
  std::uint64_t bytes = 64;
};
/// The whole reply at bytes_per_second.
struct dribble {
  static constexpr std::string_view name = "dribble";
  static constexpr acts_at at = acts_at::http;
  static constexpr bool sends_reply = true;
  static constexpr bool shapes_reply = false;
  std::uint64_t bytes_per_second = 1;
};
/// A Content-Length that is not the body's length, then close.
struct lie_length {
  static constexpr std::string_view name = "lie_length";
  static constexpr acts_at at = acts_at::http;
  static constexpr bool sends_reply = true;
  static constexpr bool shapes_reply = false;
  std::uint64_t content_length = 0;
};
/// A well-framed 200 whose JSON body is cut in half.
struct malformed_json {
  static constexpr std::string_view name = "malformed_json";
  static constexpr acts_at at = acts_at::http;
  static constexpr bool sends_reply = true;
  static constexpr bool shapes_reply = true;
};
/// The operation's reply carrying a FortiCare error and/or per-member errors.
/// {"action": "error", "code": 14} or {"action": "error", "members": {"FG…": "Product is not registered"}}
/// (a member's error is its text; a code or catalogue name stands for its message)
struct error {
  static constexpr std::string_view name = "error";
  static constexpr acts_at at = acts_at::http;
  static constexpr bool sends_reply = true;
  static constexpr bool shapes_reply = true;
  std::optional<protocol::error_value> top;
  std::vector<member_error> members;
};
/// A whole reply body given in the scenario; "{{d.field}}" echoes the request.
struct reply {
  static constexpr std::string_view name = "reply";
  static constexpr acts_at at = acts_at::http;
  static constexpr bool sends_reply = true;
  static constexpr bool shapes_reply = true;
  protocol::json body;
};

/// DNS faults: what the responder does to a query instead of its usual answer (the question is
/// echoed in every answer). None sends an HTTP reply.
struct dns_fault {
  static constexpr acts_at at = acts_at::dns;
  static constexpr bool sends_reply = false;
  static constexpr bool shapes_reply = false;
};

/// The name does not exist. {"action": "dns_nxdomain"}
struct dns_nxdomain : dns_fault {
  static constexpr std::string_view name = "dns_nxdomain";
};
/// The resolver failed. {"action": "dns_servfail"}
struct dns_servfail : dns_fault {
  static constexpr std::string_view name = "dns_servfail";
};
/// The resolver will not answer this client. {"action": "dns_refused"}
struct dns_refused : dns_fault {
  static constexpr std::string_view name = "dns_refused";
};
/// No answer at all: the client times out. {"action": "dns_drop"}
struct dns_drop : dns_fault {
  static constexpr std::string_view name = "dns_drop";
};
/// Wait, then answer as usual. {"action": "dns_delay", "ms": 1500}
struct dns_delay : dns_fault {
  static constexpr std::string_view name = "dns_delay";
  std::int64_t ms = 0;
};
/// Other addresses for the name, as if it were ours. {"action": "dns_answer", "a": "192.0.2.99"}
struct dns_answer : dns_fault {
  static constexpr std::string_view name = "dns_answer";
  std::string a;     ///< the A answer, "" for none
  std::string aaaa;  ///< the AAAA answer, "" for none
};
/// An empty answer with the TC bit over UDP, so the client asks again over TCP (where the query is
/// answered as usual). {"action": "dns_truncate"}
struct dns_truncate : dns_fault {
  static constexpr std::string_view name = "dns_truncate";
};

}  // namespace faults

/// One fault, as a rule's action plays it.
using fault =
    std::variant<faults::pass, faults::delay, faults::refuse, faults::reset, faults::hang, faults::tls_alert,
                 faults::tls_stall, faults::tls_cert, faults::tls_version, faults::status, faults::close,
                 faults::truncate, faults::garbage, faults::dribble, faults::lie_length, faults::malformed_json,
                 faults::error, faults::reply, faults::dns_nxdomain, faults::dns_servfail, faults::dns_refused,
                 faults::dns_drop, faults::dns_delay, faults::dns_answer, faults::dns_truncate>;

/// A fault's own declaration of its traits (see the top of this file), as compile-time constants.
template <class F>
concept declares_fault_traits = requires {
  { F::name } -> std::convertible_to<std::string_view>;
  { F::at } -> std::convertible_to<acts_at>;
  { F::sends_reply } -> std::same_as<const bool&>;
  { F::shapes_reply } -> std::same_as<const bool&>;
  typename std::bool_constant<F::sends_reply>;  // constants, not merely members
  typename std::bool_constant<F::shapes_reply>;
};

/// Checks one fault type's traits (a failure names the type).
template <class F>
constexpr bool fault_traits_checked() {
  static_assert(declares_fault_traits<F>, "a fault declares name, at, sends_reply and shapes_reply");
  static_assert(!F::shapes_reply || F::sends_reply, "a fault that shapes the reply sends it");
  return true;
}

/// The traits of every alternative of a fault variant, each checked, gathered into tables by
/// alternative index.
template <class Variant>
struct fault_traits;
template <class... F>
struct fault_traits<std::variant<F...>> {
  static constexpr bool all_checked = (fault_traits_checked<F>() && ...);
  static constexpr std::array<bool, sizeof...(F)> sends_reply{F::sends_reply...};
  static constexpr std::array<bool, sizeof...(F)> shapes_reply{F::shapes_reply...};
};
static_assert(fault_traits<fault>::all_checked);

/// Whether the client gets an HTTP reply after `f` (its sends_reply).
inline bool sends_reply(const fault& f) { return fault_traits<fault>::sends_reply[f.index()]; }
/// Whether the engine writes or bends the reply for `f` (its shapes_reply).
inline bool shapes_reply(const fault& f) { return fault_traits<fault>::shapes_reply[f.index()]; }

/// What a rule does: a fault, and (HTTP stage) how long to wait before it.
struct action {
  fault what;
  std::int64_t delay_ms = 0;
};

/// The scenario file's name of a fault ("refuse", "tls_alert", ...).
std::string_view fault_name(const fault& f);
acts_at where_it_acts(const fault& f);
template <class F>
bool holds(const action& a) {
  return std::holds_alternative<F>(a.what);
}

}  // namespace fortisim::core
