#include "server/core/observe/log_text.hpp"

#include "protocol/formats.hpp"
#include "protocol/json_writer.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <concepts>

namespace fortisim::core {

using protocol::json;

namespace {

/// A value as it reads best: bare when it has no space, quote or control byte, else JSON-quoted
/// (bytes that are not UTF-8 become U+FFFD). Written into `out` without a copy or a tree.
void append_value(std::string_view v, std::string& out) {
  auto needs_quotes = [](unsigned char c) { return c <= ' ' || c == '"' || c == '\\' || c == 0x7F; };
  if (!v.empty() && std::none_of(v.begin(), v.end(), needs_quotes))
    out += v;
  else
    protocol::json_writer(out).quoted_bytes(v);
}

template <std::integral N>
void append_number(N n, std::string& out) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

/// " key=value" when `v` is not empty.
void append_field(std::string_view key, std::string_view v, std::string& out) {
  if (v.empty()) return;
  out += ' ';
  out += key;
  out += '=';
  append_value(v, out);
}

/// The text line's word for the journal field at `Member`, as its declaration gives it.
template <auto Member>
constexpr std::string_view label = journal_field_of<Member>.text_label();

/// " word=value" for the journal field at `Member`, when it is not empty.
template <auto Member>
void append_field(const journal_entry& e, std::string& out) {
  append_field(label<Member>, e.*Member, out);
}

}  // namespace

void append_time(std::int64_t time_ms, std::string& out) {
  protocol::append_utc(time_ms / 1000, out);
  auto ms = static_cast<int>(time_ms % 1000);
  out += '.';
  out += static_cast<char>('0' + ms / 100);
  out += static_cast<char>('0' + ms / 10 % 10);
  out += static_cast<char>('0' + ms % 10);
  out += 'Z';
}

// Every field that comes from a client (SNI, target, type, body, serials, codes) goes through
// append_value: a log line never carries a raw newline or control byte from the wire.
void write_text_line(const journal_entry& e, std::string& out, secrets s, bool bodies) {
  append_time(e.time_ms, out);
  out += ' ';
  out += e.stage;
  if (e.stage != "dns") {
    out += " #";
    append_number(e.connection, out);
    if (e.request) {
      out += '.';
      append_number(e.request, out);
    }
  }
  out += ' ';
  out += e.client_address.empty() ? "-" : e.client_address;
  if (e.stage == "dns") {  // who asked what, and the answer
    out += ' ';
    append_value(e.target, out);
    out += ' ';
    append_value(e.type, out);
    out += " -> ";
    out += e.action;
    if (!e.rule.empty()) append_field<&journal_entry::rule>(e, out);
    return;
  }
  out.append(" ").append(label<&journal_entry::sni>).append("=");  // what the client sent: quoted unless a plain name
  if (e.sni.empty())
    out += '-';
  else
    append_value(e.sni, out);
  if (!e.method.empty()) {
    out += ' ';
    out += e.method;
  }
  if (!e.target.empty()) {
    out += ' ';
    append_value(e.target, out);
  }
  if (!e.type.empty()) {
    out += ' ';
    append_value(e.type, out);
  }
  if (e.stage == "http") {
    out += " -> ";
    if (e.status)
      append_number(e.status, out);
    else
      out += "no reply";
    if (!e.errors.empty()) {  // every code, top-level and per token: "error 14", "error 903,904"
      out += " error ";
      for (char c : e.errors) out += c == ' ' ? ',' : c;
    }
    append_field<&journal_entry::member_errors>(e, out);         // an HA member's error is a string, no code
    if (e.outcome == "client_gone" || e.outcome == "timeout") {  // nobody heard it, or not all of it
      out += " (";
      out += e.outcome;
      out += ": ";
      append_number(e.bytes_sent, out);
      out += " bytes written)";
    }
  } else if (!e.action.empty()) {
    out += " -> ";
    out += e.action;  // a connection or TLS event: what happened, in words
  }
  if (!e.rule.empty()) {
    append_field<&journal_entry::rule>(e, out);
    if (e.stage == "http") append_field<&journal_entry::action>(e, out);
    if (e.stage != "http") append_field<&journal_entry::outcome>(e, out);  // the client's verdict on it
  }
  append_field<&journal_entry::reason>(e, out);
  append_field<&journal_entry::serials>(e, out);
  append_field<&journal_entry::tokens>(e, out);
  append_field<&journal_entry::code>(e, out);
  append_field(label<&journal_entry::client_cert>, split_certificate(e.client_cert).subject,
               out);  // who, not who vouched
  if (!bodies) return;
  thread_local std::string scratch;
  append_field(label<&journal_entry::request_body>, shown(e.request_body, s, scratch), out);
}

std::string text_notice(std::string_view event, const json& fields, std::int64_t time_ms) {
  std::string out;
  append_time(time_ms, out);
  out += ' ';
  out += event;
  if (!fields.is_object()) return out;
  for (const auto& [key, value] : fields.items()) {
    if (value.is_string())
      append_field(key, value.get_ref<const std::string&>(), out);
    else
      out += ' ' + key + '=' + value.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return out;
}

}  // namespace fortisim::core
