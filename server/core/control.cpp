#include "server/core/control.hpp"

#include "protocol/bounded_json.hpp"

#include <charconv>

namespace fortisim::core {

using protocol::json;

namespace {

/// Request bodies in the journal may hold any bytes: invalid UTF-8 is replaced, never thrown on.
control_reply ok(const json& j) { return {200, j.dump(-1, ' ', false, json::error_handler_t::replace)}; }
control_reply fail(int status, std::string why) { return {status, json{{"error", std::move(why)}}.dump()}; }
control_reply listeners_follow(control_reply r) {
  r.listeners_changed = true;
  return r;
}

std::uint64_t query_number(std::string_view query, std::string_view key) {
  auto pos = query.find(std::string(key) + "=");
  if (pos == std::string_view::npos) return 0;
  std::uint64_t v = 0;
  auto start = query.data() + pos + key.size() + 1;
  std::from_chars(start, query.data() + query.size(), v);
  return v;
}

}  // namespace

control_reply handle_control(engine& e, listener_control& l, std::string_view method, std::string_view target,
                             std::string_view body) {
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  json in = json::object();
  if (!body.empty()) {
    auto parsed = protocol::parse_bounded(body);
    if (auto* why = std::get_if<std::string>(&parsed)) return fail(400, "the body is not JSON: " + *why);
    in = std::get<json>(std::move(parsed));
  }
  if (!in.is_object()) return fail(400, "the body must be a JSON object");
  bool get = method == "GET", post = method == "POST";

  if (path == "/status" && get) return ok(e.status());
  if (path == "/journal" && get) return ok(e.log().to_json(query_number(query, "after")));
  if (path == "/journal" && method == "DELETE") {
    e.log().clear();
    return ok(json::object());
  }
  if (path == "/state" && get) return ok(e.world().snapshot());
  if (path == "/reload" && post) {
    std::string problems = l.reload();
    if (!problems.empty()) return fail(422, problems);
    return listeners_follow(ok(e.status()));
  }
  if (path == "/clock" && (get || post)) {
    if (post) {
      if (auto it = in.find("advance_s"); it != in.end() && it->is_number_integer())
        e.world().advance_clock(it->get<std::int64_t>() * 1000);
      else if (auto ms = in.find("advance_ms"); ms != in.end() && ms->is_number_integer())
        e.world().advance_clock(ms->get<std::int64_t>());
      else if (auto now = in.find("now"); now != in.end()) {
        auto t = parse_time(*now);
        if (!t) return fail(400, "now: expected \"YYYY-MM-DDThh:mm:ssZ\" or unix seconds");
        e.world().advance_clock(*t * 1000 - e.world().clock().now_ms());
      } else {
        return fail(400, "give {\"advance_s\": N}, {\"advance_ms\": N} or {\"now\": TIME}");
      }
    }
    auto now = e.world().clock().now_ms();
    return ok({{"now_ms", now}, {"now_s", now / 1000}, {"rate", e.world().clock().rate()}});
  }
  if (path == "/tokens" && post) {
    auto token = in.value("token", std::string());
    auto r = e.world().provision_for_test(token);
    if (auto* why = std::get_if<std::string>(&r)) return fail(400, *why);
    const auto& p = std::get<provisioned_for_test>(r);
    return ok({{"token", p.token},
               {"activation_code", p.user_activation_code},
               {"token_activation_code", p.phone_activation_code},
               {"expire", p.expire}});
  }
  if (path.starts_with("/tokens/") && path.ends_with("/otp") && get) {
    auto serial = path.substr(8, path.size() - 8 - 4);
    auto otp = e.world().otp(serial);
    if (!otp) return fail(404, "no token " + std::string(serial) + " with a seed");
    return ok({{"token", otp->token},
               {"otp", otp->code},
               {"valid_for_s", otp->valid_for_s},
               {"digits", otp->digits},
               {"period", otp->period}});
  }
  if (path.starts_with("/hardware/") && path.ends_with("/release") && post) {
    auto serial = path.substr(10, path.size() - 10 - 8);
    if (!e.world().release_lock(serial)) return fail(404, "no hardware token " + std::string(serial));
    return ok({{"token", serial}, {"lock", "available"}});
  }
  if (path == "/listener/refuse" && post) {
    std::int64_t ms = in.value("for_ms", std::int64_t{0});
    if (ms < 0) return fail(400, "for_ms: expected >= 0");
    l.refuse(ms);
    return listeners_follow(ok({{"listening", false}, {"for_ms", ms}}));
  }
  if (path == "/listener/open" && post) {
    l.open();
    return listeners_follow(ok({{"listening", true}}));
  }
  return fail(404, "no such control endpoint: " + std::string(method) + " " + std::string(path));
}

}  // namespace fortisim::core
