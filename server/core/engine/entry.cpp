// An exchange's journal entry: what the request named, which rule fired, every error code the
// reply answered, written by handle() into the outcome and recorded by finish() once the network
// layer knows whether the client heard.
#include "server/core/engine/exchange.hpp"

#include <charconv>
#include <utility>

namespace fortisim::core {

using namespace protocol;

namespace {

/// Appends `code` to a space-separated list of codes.
void add_code(std::string& out, int code) {
  char digits[12];
  out.append(out.empty() ? "" : " ").append(digits, std::to_chars(digits, digits + sizeof digits, code).ptr);
}

/// Each token's error code in `r`, appended to `out` (the top-level one is the exchange's).
void token_error_codes(const response& r, std::string& out) {
  std::visit(
      [&](const auto& m) {
        if constexpr (requires { m.tokens.front().error; })
          for (const auto& t : m.tokens)
            if (t.error) add_code(out, t.error->code);
      },
      r);
}

/// "serial: message" for each HA member the reply's echo gives an error, "; "-separated.
void member_errors(const response& r, std::string& out) {
  std::visit(
      [&](const auto& m) {
        if constexpr (requires { m.head.members; })
          for (const auto& member : m.head.members)
            if (member.error) out.append(out.empty() ? "" : "; ").append(member.sn).append(": ").append(*member.error);
      },
      r);
}

/// Appends `word` to a space-separated list (empty words are left out).
void add(std::string& list, std::string_view word) {
  if (!word.empty()) list.append(list.empty() ? "" : " ").append(word);
}

/// What the journal records of a request's "d" so a test can find it: the device and its HA
/// members, the tokens named, and the licence or phone activation code.
void request_facts(const json* d, journal_entry& e) {
  if (!d) return;
  auto text = [&](const json& j, const char* key) -> std::string_view {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>()) : std::string_view();
  };
  add(e.serials, text(*d, "serial_number"));
  if (auto it = d->find("__clustered_sns"); it != d->end() && it->is_array())
    for (const auto& m : *it)
      if (m.is_object()) add(e.serials, text(m, "sn"));
  if (auto it = d->find("tokens"); it != d->end() && it->is_array())
    for (const auto& t : *it)
      add(e.tokens, t.is_string()   ? std::string_view(t.get_ref<const std::string&>())
                    : t.is_object() ? text(t, "token")
                                    : "");
  e.code.assign(text(*d, "license_activation_code"));
  if (e.code.empty()) e.code.assign(text(*d, "token_activation_code"));
}

/// The same facts of a request read without a tree (which holds no other fields of "d").
void request_facts(const request& r, journal_entry& e) {
  std::visit(
      [&](const auto& m) {
        if constexpr (requires { m.env; }) {
          add(e.serials, m.env.serial_number);
          for (const auto& sn : m.env.clustered_sns) add(e.serials, sn);
        }
        if constexpr (requires { m.tokens; })
          for (const auto& t : m.tokens) {
            if constexpr (std::is_same_v<std::decay_t<decltype(t)>, provisioned_token>)
              add(e.tokens, t.token);
            else
              add(e.tokens, t);
          }
        if constexpr (requires { m.license_activation_code; }) e.code.assign(m.license_activation_code);
        if constexpr (requires { m.token_activation_code; }) e.code.assign(m.token_activation_code);
      },
      r);
}

}  // namespace

std::string_view delivery_name(delivery d) {
  switch (d) {
    case delivery::sent: return "sent";
    case delivery::client_gone: return "client_gone";
    case delivery::not_sent: return "not_sent";
    case delivery::timeout: return "timeout";
    case delivery::handshake: return "handshake";
    case delivery::client_refused: return "client_refused";
  }
  return "";
}

http_outcome engine::handle(const http_request& request) {
  http_outcome out;
  handle(request, out);
  bool sends = sends_reply(out.act);
  finish(out, sends ? delivery::sent : delivery::not_sent, sends ? out.body.size() : 0);
  return out;
}

void engine::finish(http_outcome& out, delivery how, std::uint64_t bytes_sent) {
  struct written {  // readers stop waiting once the entry is in, however record() ends
    core::journal& journal;
    bool was_writing;
    ~written() {
      if (was_writing) journal.end_write();
    }
  } done{journal_, std::exchange(out.writing, false)};
  journal_.record([&](journal_entry& e) {
    auto time_ms = e.time_ms;  // when the outcome was known
    e = out.entry;             // the strings are copied into storage the journal keeps
    e.time_ms = time_ms;
    e.outcome.assign(delivery_name(how));
    e.bytes_sent = bytes_sent;
  });  // kept by its request's number (journal::clear)
}

void engine::writing(http_outcome& out) {
  if (out.writing) return;
  out.writing = true;
  journal_.begin_write();
}

void engine::write_entry(const exchange& exchange) {
  int status = sends_reply(exchange.out.act) ? exchange.out.status : 0;  // 0: no reply was sent
  std::string_view operation = exchange.op ? operation_name(*exchange.op) : std::string_view();
  int endpoint = exchange.path == process_path ? 0 : exchange.path == mobile_path ? 1 : 2;
  metrics_.request(endpoint, exchange.op ? static_cast<int>(*exchange.op) : -1, exchange.error_code, status);
  journal_entry& e = exchange.out.entry;
  journal::blank(e);
  e.stage.assign(stage_name(stage::http));
  e.connection = exchange.request.connection;
  e.request = exchange.id;
  e.client_address.assign(exchange.request.client_address);
  e.sni.assign(exchange.request.sni);
  e.method.assign(exchange.request.method);
  e.target.assign(exchange.request.target);
  e.type.assign(exchange.type);
  e.operation.assign(operation);
  if (exchange.d)
    request_facts(exchange.d, e);
  else if (exchange.direct)
    request_facts(*exchange.direct, e);
  if (exchange.hit) {
    e.rule.assign(exchange.hit->rule->name);
    e.action.assign(fault_name(exchange.hit->action->what));
  }
  e.reason.assign(exchange.reason);
  e.status = status;
  e.error_code = exchange.error_code;
  if (exchange.error_code) add_code(e.errors, exchange.error_code);
  if (exchange.reply) {
    token_error_codes(*exchange.reply, e.errors);
    member_errors(*exchange.reply, e.member_errors);
  }
  e.seed = exchange.in_force.scenario->seed;
  e.client_cert.assign(exchange.request.client_cert);
  // Not copied whole: a byte more than is kept, so that the cut is seen and marked.
  e.request_headers.assign(exchange.request.headers.substr(0, journal_kept_bytes + 1));
  e.request_body.assign(exchange.request.body.substr(0, journal_kept_bytes + 1));
  if (status != 0 && has_body(status))
    e.reply_body.assign(std::string_view(exchange.out.body).substr(0, journal_kept_bytes + 1));
  journal::cap(e);  // a connection holds it until its next request: bounded as the journal's are
}

}  // namespace fortisim::core
