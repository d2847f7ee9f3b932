// The control API's router: the target split into path and query, the body parsed (bounded), the
// route found (404 for none, 405 for a path that takes other methods), the handler run, and every
// refusal turned into a JSON reason.
#include "server/core/control/control.hpp"

#include "protocol/bounded_json.hpp"
#include "server/core/control/call.hpp"

#include <algorithm>
#include <charconv>

namespace fortisim::core {

namespace control {

namespace {

struct route {
  std::string_view method;
  std::string_view path;            ///< one segment may be `*`
  control_reply (*handler)(call&);  ///< null for a route the listener serves itself (kind)
  route_kind kind = route_kind::api;
};

constexpr route routes[] = {
    {"GET", "/health", health},
    {"GET", "/status", status},
    {"GET", "/metrics", metrics},
    {"GET", "/journal", journal},
    {"DELETE", "/journal", journal_clear},
    {"GET", "/journal/count", journal_count},
    {"GET", "/state", state},
    {"GET", "/world", world},
    {"POST", "/reset", reset},
    {"GET", "/clock", clock},
    {"POST", "/clock", clock},
    {"POST", "/tokens", new_token},
    {"GET", "/tokens/*/otp", otp},
    {"GET", "/tokens/*/qr", token_qr},
    {"POST", "/tokens/*/verify", verify_otp},
    {"POST", "/hardware/*/release", release_lock},
    {"POST", "/listener/refuse", refuse},
    {"POST", "/listener/open", open},
    {"POST", "/reload", reload},
    {"GET", "/scenarios", scenarios},
    {"GET", "/devices", devices},
    {"POST", "/scenario", switch_scenario},
    {"GET", "/rules", list_rules},
    {"POST", "/rules", add_rule},
    {"DELETE", "/rules/*", delete_rule},
    {"GET", "/ca", ca_certificate},
    {"GET", "/", nullptr, route_kind::console_file},
    {"GET", "/console.js", nullptr, route_kind::console_file},
    {"GET", "/console.css", nullptr, route_kind::console_file},
    {"GET", "/events", nullptr, route_kind::event_stream},
};

/// Whether `path` fits `pattern`; the `*` segment's text goes to `wildcard`.
bool fits(std::string_view pattern, std::string_view path, std::string_view& wildcard) {
  auto star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == path;
  auto head = pattern.substr(0, star), tail = pattern.substr(star + 1);
  if (path.size() <= head.size() + tail.size() || !path.starts_with(head) || !path.ends_with(tail)) return false;
  wildcard = path.substr(head.size(), path.size() - head.size() - tail.size());
  return wildcard.find('/') == std::string_view::npos;
}

/// Where a %-encoded text comes from: a query ('+' is a space there, as forms write it) or a path
/// segment (where '+' is itself).
enum class encoded_in { query, path };

std::string percent_decoded(std::string_view s, encoded_in where) {
  std::string out;
  const char* bad = where == encoded_in::query ? "the query has a bad %-escape" : "the path has a bad %-escape";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && where == encoded_in::query) {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) throw bad_call(bad);
      unsigned v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec != std::errc() || p != s.data() + i + 3) throw bad_call(bad);
      out += static_cast<char>(v);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string, std::less<>> parse_query(std::string_view q) {
  std::map<std::string, std::string, std::less<>> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = percent_decoded(pair.substr(0, eq), encoded_in::query);
    if (out.contains(key)) throw bad_call("the query gives " + key + " twice");
    out[key] = eq == std::string_view::npos ? "" : percent_decoded(pair.substr(eq + 1), encoded_in::query);
  }
  return out;
}

json parse_body(std::string_view body) {
  if (body.empty()) return json::object();
  std::vector<protocol::json_refusal> twice;
  auto parsed = protocol::parse_bounded(body, {.given_twice = &twice});
  if (auto* why = std::get_if<protocol::json_refusal>(&parsed))
    throw bad_call(why->what == protocol::json_refusal::kind::too_many_keys
                       ? "the body's " + why->path + " is " + why->reason
                       : "the body is not JSON: " + why->reason);
  if (!twice.empty()) throw bad_call("the body's key " + twice.front().path + " is " + twice.front().reason);
  if (!std::get<json>(parsed).is_object()) throw bad_call("the body must be a JSON object");
  return std::get<json>(std::move(parsed));
}

control_reply refusal(int status, const std::string& why) {
  return {status, json{{"error", why}}.dump(-1, ' ', false, json::error_handler_t::replace)};
}

}  // namespace

control_reply ok(const json& j) {
  // Request bodies in the journal may hold any bytes: invalid UTF-8 is replaced, never thrown on.
  return {200, j.dump(-1, ' ', false, json::error_handler_t::replace)};
}

control_reply listeners_follow(control_reply r) {
  r.listeners_changed = true;
  return r;
}

}  // namespace control

route_kind route_kind_of(std::string_view method, std::string_view target) {
  std::string_view path = target.substr(0, target.find('?')), wildcard;
  for (const auto& r : control::routes)
    if (r.method == method && control::fits(r.path, path, wildcard)) return r.kind;
  return route_kind::api;
}

control_reply handle_control(engine& engine, server_control& server, std::string_view method, std::string_view target,
                             std::string_view body, bool may_wait) {
  using namespace control;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string allow;
  for (const auto& r : routes) {
    std::string_view wildcard;
    if (!fits(r.path, path, wildcard)) continue;
    if (r.method != method) {
      if (allow.find(r.method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + std::string(r.method);
      continue;
    }
    if (!r.handler) return refusal(404, std::string(path) + " is served by the control listener (see route_kind)");
    // Changes one at a time (reads go on beside them): see engine::admin_mutex.
    std::unique_lock one_change(engine.admin_mutex(), std::defer_lock);
    if (method != "GET") one_change.lock();
    try {
      std::string segment =
          percent_decoded(wildcard, encoded_in::path);  // a rule name may hold spaces: /rules/my%20rule
      auto query = parse_query(q == std::string_view::npos ? "" : target.substr(q + 1));
      call request{engine, server, method, path, std::move(query), parse_body(body), segment, may_wait};
      return r.handler(request);
    } catch (const bad_call& why) {
      return refusal(why.status, why.what());
    } catch (const storage_error& why) {  // not durable, so not done: the change is undone
      return refusal(503, why.what());
    }
  }
  if (allow.empty())
    return refusal(404, "no such control endpoint: " + std::string(path) + " (see docs/control-api.md)");
  auto reply = refusal(405, std::string(path) + " takes " + allow + ", not " + std::string(method));
  reply.allow = allow;
  return reply;
}

}  // namespace fortisim::core
