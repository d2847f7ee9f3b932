#pragma once
// One journal entry, and the declaration of its fields: each field is named once, in
// `journal_fields`, with how it is written (a number, text, or bytes as a client sent them), how
// much of it is kept, and whether the JSON log line carries it; and each GET /journal filter once,
// in `journal_filters`, with the field it selects on and how. The journal's JSON, its log line, its
// reset, the filters' matching and the control API's query parameters are derived from these; the
// text log line keeps its own layout but takes its words from them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace fortisim::core {

/// How much of a request's headers, its body and the reply's body an entry keeps.
inline constexpr std::size_t journal_kept_bytes = 4096;
/// How much of any other text field an entry keeps (a serial list, a reason, a target…): a client
/// that sends a 900 KB serial number does not make every entry 900 KB. A field cut short (a body
/// too) is cut on a character boundary and ends with journal_cut_marker, within its bound.
inline constexpr std::size_t journal_text_bytes = 1024;
inline constexpr std::string_view journal_cut_marker = "…";

/// One exchange: a connection-stage, TLS-stage or DNS event, or an HTTP request and its outcome.
struct journal_entry {
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;  ///< real wall-clock time
  std::string stage;         ///< "connection", "tls", "http", "dns"
  std::uint64_t connection = 0;
  std::uint64_t request = 0;
  std::string client_address;
  std::string sni;
  std::string method;
  std::string target;
  std::string type;       ///< the request's __type (a DNS query's type)
  std::string operation;  ///< "activation_license", "polling", … ("" when none)
  std::string serials;    ///< the device and its HA members, space-separated
  std::string tokens;     ///< the token serials the request names, space-separated
  std::string code;       ///< the licence activation code, or the phone's activation code
  std::string rule;       ///< the rule that fired, "" for none
  std::string action;     ///< the action played, "" when answered by the model
  std::string reason;     ///< why this answer, in protocol terms
  int status = 0;         ///< HTTP status, 0 where none was sent
  /// Whether the client heard: at the HTTP stage "sent" (the whole reply written), "client_gone"
  /// (the peer closed or reset before the reply was written), "not_sent" (a fault that sends
  /// nothing), "timeout" (the write did not finish in time); at the connection and TLS stages, for a
  /// rule's entry, "handshake" (the client completed it), "client_refused" (the client ended the
  /// handshake: an alert or a close), "not_sent" or "timeout". "" for the other entries.
  std::string outcome;
  std::uint64_t bytes_sent = 0;  ///< how much of the reply was written (head and body), for outcome
  int error_code = 0;            ///< the FortiCare error code of the reply's top-level error, 0 for none
  /// Every FortiCare error code the reply answered, top-level and per token, space-separated.
  std::string errors;
  /// The HA members the reply's echo gives an error, each "serial: message", "; "-separated:
  /// "FG100FTK19000002: Product is not registered" ("" when none).
  std::string member_errors;
  std::uint64_t seed = 0;
  /// The certificate the client presented (--client-cert request|require): its subject, a
  /// newline, its issuer, each in RFC 2253 form (which escapes control bytes), e.g.
  /// "CN=FGT40FHA25099UXR,O=…\nCN=…"; "" when none. Written as {"subject": …, "issuer": …}.
  std::string client_cert;
  std::string request_headers;  ///< the first journal_kept_bytes of "Name: value" lines
  std::string request_body;     ///< the first journal_kept_bytes
  std::string reply_body;       ///< the first journal_kept_bytes of what was sent back ("" when nothing was)
};

/// How a field is written: a number; text (UTF-8 fortisim wrote or read as such, bytes >= 0x80
/// passed as they are); bytes as a client sent them (invalid UTF-8 written as U+FFFD); or a
/// certificate ("subject\nissuer", written as {"subject": …, "issuer": …}, null when empty).
enum class field_kind { number, text, bytes, certificate };

/// A certificate field's two parts.
struct certificate_names {
  std::string_view subject, issuer;
};
inline certificate_names split_certificate(std::string_view held) {
  auto newline = held.find('\n');
  if (newline == std::string_view::npos) return {held, {}};
  return {held.substr(0, newline), held.substr(newline + 1)};
}

/// One field of journal_entry: its name (in JSON, the log line, and the text log line unless
/// `label` says otherwise), its member, how it is written, how much of it is kept, and whether the
/// JSON log line carries it.
template <class Member>
struct journal_field {
  std::string_view name;
  Member journal_entry::*member;
  field_kind kind;
  std::size_t kept = 0;           ///< the bytes kept at most (0: all)
  bool in_log_line = true;        ///< in the JSON log line (--log-format json)
  bool may_hold_secrets = false;  ///< a body that may carry a token seed: hidden unless shown
  std::string_view label = {};    ///< the text log line's word for it, when not `name`

  constexpr journal_field capped(std::size_t bytes) const { return with(&journal_field::kept, bytes); }
  constexpr journal_field not_in_log_line() const { return with(&journal_field::in_log_line, false); }
  constexpr journal_field labelled(std::string_view word) const { return with(&journal_field::label, word); }
  constexpr journal_field holding_secrets() const { return with(&journal_field::may_hold_secrets, true); }
  constexpr std::string_view text_label() const { return label.empty() ? name : label; }

 private:
  template <class T, class V>
  constexpr journal_field with(T journal_field::*m, V v) const {
    journal_field copy = *this;
    copy.*m = v;
    return copy;
  }
};

/// A field declared: a number or text by its type, or `kind` (bytes) for a string.
template <class Member>
constexpr journal_field<Member> declare_field(std::string_view name, Member journal_entry::*member,
                                              field_kind kind = std::is_arithmetic_v<Member> ? field_kind::number
                                                                                             : field_kind::text) {
  return {name, member, kind};
}

/// Every field of journal_entry, in the order JSON writes them.
inline constexpr auto journal_fields = std::tuple{
    declare_field("seq", &journal_entry::seq),
    declare_field("time_ms", &journal_entry::time_ms),
    declare_field("stage", &journal_entry::stage),
    declare_field("connection", &journal_entry::connection),
    declare_field("request", &journal_entry::request),
    declare_field("client_address", &journal_entry::client_address),
    declare_field("sni", &journal_entry::sni).capped(journal_text_bytes),
    declare_field("method", &journal_entry::method).capped(journal_text_bytes),
    declare_field("target", &journal_entry::target, field_kind::bytes).capped(journal_text_bytes),
    declare_field("type", &journal_entry::type).capped(journal_text_bytes),
    declare_field("operation", &journal_entry::operation),
    declare_field("serials", &journal_entry::serials).capped(journal_text_bytes),
    declare_field("tokens", &journal_entry::tokens).capped(journal_text_bytes),
    declare_field("code", &journal_entry::code).capped(journal_text_bytes),
    declare_field("rule", &journal_entry::rule).capped(journal_text_bytes),
    declare_field("action", &journal_entry::action).capped(journal_text_bytes),
    declare_field("reason", &journal_entry::reason).capped(journal_text_bytes),
    declare_field("status", &journal_entry::status),
    declare_field("outcome", &journal_entry::outcome).capped(journal_text_bytes),
    declare_field("bytes_sent", &journal_entry::bytes_sent),
    declare_field("error_code", &journal_entry::error_code),
    declare_field("member_errors", &journal_entry::member_errors).capped(journal_text_bytes),
    declare_field("errors", &journal_entry::errors).capped(journal_text_bytes),
    declare_field("seed", &journal_entry::seed),
    declare_field("client_cert", &journal_entry::client_cert, field_kind::certificate)
        .capped(journal_text_bytes)
        .labelled("cert"),
    declare_field("request_headers", &journal_entry::request_headers, field_kind::bytes).capped(journal_kept_bytes),
    declare_field("request_body", &journal_entry::request_body, field_kind::bytes)
        .capped(journal_kept_bytes)
        .labelled("body")
        .holding_secrets(),
    declare_field("reply_body", &journal_entry::reply_body, field_kind::bytes)
        .capped(journal_kept_bytes)
        .not_in_log_line()
        .holding_secrets(),
};

namespace detail {
/// Converts to anything: counts an aggregate's members by how many of it brace-initialise one.
struct any_member {
  template <class T>
  constexpr operator T() const;  // never called: only named in unevaluated requires-expressions
};
template <class T, class... Given>
constexpr std::size_t member_count() {
  if constexpr (requires { T{Given{}..., any_member{}}; })
    return member_count<T, Given..., any_member>();
  else
    return sizeof...(Given);
}
}  // namespace detail

static_assert(std::tuple_size_v<decltype(journal_fields)> == detail::member_count<journal_entry>(),
              "every member of journal_entry is declared in journal_fields");

/// Calls `f` with each field's declaration, in order.
template <class F>
constexpr void for_each_journal_field(F&& f) {
  std::apply([&](const auto&... fields) { (f(fields), ...); }, journal_fields);
}

namespace detail {
template <auto Member>
constexpr auto journal_field_declared() {
  journal_field<std::remove_cvref_t<decltype(std::declval<journal_entry&>().*Member)>> found{};
  bool declared = false;
  for_each_journal_field([&](const auto& f) {
    if constexpr (std::is_same_v<decltype(f.member), decltype(Member)>)
      if (f.member == Member) {
        found = f;
        declared = true;
      }
  });
  if (!declared) throw "a member of journal_entry left out of journal_fields";
  return found;
}
}  // namespace detail

/// The declaration of the field at `Member`, e.g. journal_field_of<&journal_entry::sni>.name; a
/// member left out of journal_fields does not compile here.
template <auto Member>
inline constexpr auto journal_field_of = detail::journal_field_declared<Member>();

/// Which entries a journal query wants (GET /journal?…); absent fields match anything.
struct journal_filter {
  std::optional<std::string> type, operation, serial, token, code, rule, stage, outcome;
  std::optional<int> error_code;
  std::uint64_t after = 0;           ///< only entries with a greater seq
  std::optional<std::size_t> limit;  ///< at most this many, the oldest first
  bool matches(const journal_entry& e) const;
};

/// How a filter compares its value with its field.
enum class filter_match {
  equal,      ///< the same value
  word,       ///< one of the field's space-separated words
  type_name,  ///< the same, or the same once "SoftToken." is put before it
};

/// One filter of journal_filter: its GET /journal parameter, its member, the field it selects on
/// and how (an integer filter on an integer field: equal; on a text field: one of its words), and
/// an integer filter's largest value (from 0).
template <class Value, class Member>
struct journal_filter_field {
  std::string_view name;
  std::optional<Value> journal_filter::*wanted;
  Member journal_entry::*on;
  filter_match match;
  std::int64_t most = 0;
};

template <class Value, class Member>
constexpr journal_filter_field<Value, Member> declare_filter(std::string_view name,
                                                             std::optional<Value> journal_filter::*wanted,
                                                             Member journal_entry::*on, filter_match match,
                                                             std::int64_t most = 0) {
  return {name, wanted, on, match, most};
}

/// Every filter but `after` and `limit` (which select by position), in the order the control API
/// lists them.
inline constexpr auto journal_filters = std::tuple{
    declare_filter("type", &journal_filter::type, &journal_entry::type, filter_match::type_name),
    declare_filter("operation", &journal_filter::operation, &journal_entry::operation, filter_match::equal),
    declare_filter("serial", &journal_filter::serial, &journal_entry::serials, filter_match::word),
    declare_filter("token", &journal_filter::token, &journal_entry::tokens, filter_match::word),
    declare_filter("code", &journal_filter::code, &journal_entry::code, filter_match::equal),
    declare_filter("error_code", &journal_filter::error_code, &journal_entry::errors, filter_match::word, 99999),
    declare_filter("rule", &journal_filter::rule, &journal_entry::rule, filter_match::equal),
    declare_filter("stage", &journal_filter::stage, &journal_entry::stage, filter_match::equal),
    declare_filter("outcome", &journal_filter::outcome, &journal_entry::outcome, filter_match::equal),
};

/// Calls `f` with each filter's declaration, in order.
template <class F>
constexpr void for_each_journal_filter(F&& f) {
  std::apply([&](const auto&... filters) { (f(filters), ...); }, journal_filters);
}

}  // namespace fortisim::core
