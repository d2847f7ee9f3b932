// The control API's calls on the FortiCare world: its state (whole, or as the console shows it:
// seeds hidden, OTPs shown), resets, the clock, tokens provisioned without a FortiGate, OTPs,
// hardware locks.
#include "server/core/control/call.hpp"

#include "protocol/printable.hpp"
#include "protocol/qr_code.hpp"

namespace fortisim::core::control {

namespace {

constexpr std::int64_t century_s = 100LL * 366 * 24 * 3600;

/// The model's view with its seeds as `s` says: a token without one keeps "".
void hide_seeds(json& view, secrets s) {
  if (s == secrets::shown) return;
  for (const char* list : {"tokens", "hardware_tokens"})
    for (auto& t : view[list])
      if (!t["secret"].get<std::string>().empty()) t["secret"] = "(hidden)";
}

/// The page `?offset=N&limit=M` asks for (each kind of record from its Nth, M of them); the whole
/// world when neither is given, else at most `most` records of each kind.
world_page page_of(const call& request, std::size_t most) {
  request.only_query({"offset", "limit"});
  auto offset = request.query_integer("offset", 0, INT64_MAX);
  auto limit = request.query_integer("limit", 1, static_cast<std::int64_t>(most));
  world_page page;
  if (!offset && !limit) return page;
  page.offset = static_cast<std::size_t>(offset.value_or(0));
  page.limit = static_cast<std::size_t>(limit.value_or(static_cast<std::int64_t>(most)));
  return page;
}

}  // namespace

control_reply state(call& request) {
  json j = request.engine.world().snapshot(false, page_of(request, 100'000));
  hide_seeds(j, request.engine.shows_secrets());
  return ok(j);
}

control_reply world(call& request) {
  auto& w = request.engine.world();
  json j = w.snapshot(true, page_of(request, 100'000));  // records copied under the shared lock, once
  bool show = request.engine.shows_secrets() == secrets::shown;
  hide_seeds(j, request.engine.shows_secrets());
  j["clock"] = {{"now_ms", w.clock().now_ms()}, {"rate", w.clock().rate()}};
  j["listening"] = request.server.listening();
  j["secrets_shown"] = show;
  return ok(j);
}

control_reply reset(call& request) {
  request.only_query({});
  request.only_keys({"license", "token", "serial", "hardware"});
  if (request.body.empty()) {
    request.server.reset();
    request.announce("reset", {{"scenario", request.engine.current_scenario()->name}});
    return listeners_follow(ok({{"reset", "everything"}}));  // a scenario that refuses from the start does again
  }
  if (request.body.size() > 1) throw bad_call("give one of license, token, serial or hardware, or {} for everything");
  using target = model::reset_target;
  const std::string key = request.body.begin().key();
  auto value = request.text(key.c_str());
  target what = key == "license"  ? target::licence
                : key == "token"  ? target::token
                : key == "serial" ? target::device
                                  : target::hardware;
  if (value->empty())
    throw bad_call(key + ": empty; expected a " + (what == target::licence ? "licence activation code" : "serial"));
  auto done = request.engine.world().reset_one(what, *value);
  if (done.outcome == model::reset_result::unknown) {
    // What GET /world names it by, for the mistakes a new user made: a licence's serial for its
    // code, a serial in lower case.
    const char* by = what == target::licence ? " (by its activation_code, in any case, as GET /world lists it, not its "
                                               "EFTM… serial)"
                     : what == target::device ? " (no licence is bound to it; a device's serial, as it sent it)"
                                              : " (a serial, in upper case, as GET /world lists it)";
    throw bad_call("no " + key + " " + protocol::printable(*value, 64) + " to reset" + by, 404);
  }
  if (done.outcome == model::reset_result::refused) throw bad_call(done.why, 409);
  request.announce("reset", {{key, *value}});
  return ok({{"reset", key}, {key, *value}});
}

control_reply clock(call& request) {
  request.only_query({});
  if (request.method == "POST") {
    request.only_keys({"advance_s", "advance_ms", "now"});
    if (request.body.size() != 1)
      throw bad_call("give one of {\"advance_s\": N}, {\"advance_ms\": N} or {\"now\": TIME}");
    auto& world = request.engine.world();
    auto now_ms = world.clock().now_ms();
    std::int64_t to_ms = now_ms;
    if (auto s = request.integer("advance_s", -century_s, century_s)) to_ms += *s * 1000;
    if (auto ms = request.integer("advance_ms", -century_s * 1000, century_s * 1000)) to_ms += *ms;
    if (auto now = request.body.find("now"); now != request.body.end()) {
      auto t = parse_time(*now);
      if (!t) throw bad_call("now: expected \"YYYY-MM-DDThh:mm:ssZ\" or unix seconds, from 1970 to 9999");
      to_ms = *t * 1000;
    }
    if (to_ms < first_time_s * 1000 || to_ms > last_time_s * 1000 + 999)
      throw bad_call("the clock would leave 1970 to 9999 (it is " + std::to_string(now_ms) + " ms now)");
    world.advance_clock(to_ms - now_ms);
    json given = request.body;
    given["now_ms"] = world.clock().now_ms();
    request.announce("clock", given);
  }
  auto now = request.engine.world().clock().now_ms();
  return ok({{"now_ms", now}, {"now_s", now / 1000}, {"rate", request.engine.world().clock().rate()}});
}

control_reply new_token(call& request) {
  request.only_query({});
  request.only_keys({"token"});
  auto given = request.text("token");
  if (given && given->empty())
    throw bad_call("token: expected \"FTKMOB\" + 10 letters or digits (no \"token\": a new one)");
  auto r = request.engine.world().provision_for_test(given.value_or(""));
  if (auto* why = std::get_if<std::string>(&r)) throw bad_call(*why);
  const auto& p = std::get<provisioned_for_test>(r);
  request.announce("new token", {{"token", p.token}});
  return ok({{"token", p.token},
             {"activation_code", p.user_activation_code},
             {"token_activation_code", p.phone_activation_code},
             {"expire", p.expire}});
}

namespace {

json otp_params_json(const protocol::otp_params& p) {
  json out{{"type", protocol::otp_type_text(p.type)}, {"digits", p.digits}, {"period", p.period}};
  if (p.type == protocol::otp_type::hotp) out["counter"] = p.counter;
  return out;
}

}  // namespace

control_reply otp(call& request) {
  request.only_query({});
  auto otp = request.engine.world().otp(request.wildcard);
  if (!otp) throw bad_call("no token " + std::string(request.wildcard) + " with a seed", 404);
  json out{{"token", otp->token}, {"otp", otp->code}, {"valid_for_s", otp->valid_for_s}};
  out.update(otp_params_json(otp->params));
  return ok(std::move(out));
}

control_reply token_qr(call& request) {
  request.only_query({});
  auto code = request.engine.world().pending_activation_code(request.wildcard);
  if (!code) throw bad_call("no token " + std::string(request.wildcard) + " waiting for a phone to activate it", 404);
  control_reply r{200, protocol::qr_png(*code)};  // the PNG FortiCare's qr_code carries in base64
  r.content_type = "image/png";
  return r;
}

control_reply verify_otp(call& request) {
  request.only_query({});
  request.only_keys({"otp"});
  auto code = request.text("otp");
  if (!code) throw bad_call("otp: expected the code to check, e.g. {\"otp\": \"123456\"}");
  auto check = request.engine.world().verify_otp(request.wildcard, *code);
  if (!check) throw bad_call("no token " + std::string(request.wildcard) + " with a seed", 404);
  request.announce(check->valid ? "otp accepted" : "otp refused", {{"token", request.wildcard}});
  json out{{"token", request.wildcard}, {"valid", check->valid}};
  out.update(otp_params_json(check->params));
  return ok(std::move(out));
}

control_reply release_lock(call& request) {
  request.only_query({});
  request.only_keys({});
  if (!request.engine.world().release_lock(request.wildcard))
    throw bad_call("no hardware token " + std::string(request.wildcard), 404);
  request.announce("release lock", {{"token", request.wildcard}});
  return ok({{"token", request.wildcard}, {"lock", "available"}});
}

}  // namespace fortisim::core::control
