// The control API's calls on the FortiCare world: its state (whole, or as the console shows it:
// seeds hidden, OTPs shown), resets, the clock, tokens provisioned without a FortiGate, OTPs,
// hardware locks.
#include "server/core/control/call.hpp"

namespace fortisim::core::control {

namespace {

constexpr std::int64_t century_s = 100LL * 366 * 24 * 3600;

}  // namespace

control_reply state(call& c) {
  c.only_query({});
  return ok(c.e.world().snapshot());
}

control_reply world(call& c) {
  c.only_query({});
  auto& w = c.e.world();
  json j = w.snapshot();
  bool show = c.e.feed().shows_secrets();
  for (auto& t : j["tokens"]) {
    auto o = w.otp(t["token"].get<std::string>());
    t["otp"] = o ? json{{"code", o->code}, {"valid_for_s", o->valid_for_s}, {"period", o->period}} : json(nullptr);
    if (!show && !t["secret"].get<std::string>().empty()) t["secret"] = "(hidden)";
  }
  if (!show)
    for (auto& h : j["hardware_tokens"]) h["secret"] = "(hidden)";
  j["clock"] = {{"now_ms", w.clock().now_ms()}, {"rate", w.clock().rate()}};
  j["listening"] = c.l.listening();
  j["secrets_shown"] = show;
  return ok(j);
}

control_reply reset(call& c) {
  c.only_query({});
  c.only_keys({"license", "token", "serial", "hardware"});
  if (c.body.empty()) {
    c.l.reset();
    return listeners_follow(ok({{"reset", "everything"}}));  // a scenario that refuses from the start does again
  }
  if (c.body.size() > 1) throw bad_call("give one of license, token, serial or hardware, or {} for everything");
  using target = model::reset_target;
  const std::string key = c.body.begin().key();
  auto value = c.text(key.c_str());
  target what = key == "license"  ? target::licence
                : key == "token"  ? target::token
                : key == "serial" ? target::device
                                  : target::hardware;
  if (!c.e.world().reset_one(what, *value)) throw bad_call("no " + key + " " + *value + " to reset", 404);
  c.e.notice("reset", {{key, *value}});
  return ok({{"reset", key}, {key, *value}});
}

control_reply clock(call& c) {
  c.only_query({});
  if (c.method == "POST") {
    c.only_keys({"advance_s", "advance_ms", "now"});
    if (c.body.size() != 1) throw bad_call("give one of {\"advance_s\": N}, {\"advance_ms\": N} or {\"now\": TIME}");
    auto& world = c.e.world();
    if (auto s = c.integer("advance_s", -century_s, century_s)) world.advance_clock(*s * 1000);
    if (auto ms = c.integer("advance_ms", -century_s * 1000, century_s * 1000)) world.advance_clock(*ms);
    if (auto now = c.body.find("now"); now != c.body.end()) {
      auto t = parse_time(*now);
      if (!t || *t < 0 || *t > 253402300799) throw bad_call("now: expected \"YYYY-MM-DDThh:mm:ssZ\" or unix seconds");
      world.advance_clock(*t * 1000 - world.clock().now_ms());
    }
    c.e.notice("clock", {{"now_ms", world.clock().now_ms()}});
  }
  auto now = c.e.world().clock().now_ms();
  return ok({{"now_ms", now}, {"now_s", now / 1000}, {"rate", c.e.world().clock().rate()}});
}

control_reply new_token(call& c) {
  c.only_query({});
  c.only_keys({"token"});
  auto r = c.e.world().provision_for_test(c.text("token").value_or(""));
  if (auto* why = std::get_if<std::string>(&r)) throw bad_call(*why);
  const auto& p = std::get<provisioned_for_test>(r);
  return ok({{"token", p.token},
             {"activation_code", p.user_activation_code},
             {"token_activation_code", p.phone_activation_code},
             {"expire", p.expire}});
}

control_reply otp(call& c) {
  c.only_query({});
  auto otp = c.e.world().otp(c.wildcard);
  if (!otp) throw bad_call("no token " + std::string(c.wildcard) + " with a seed", 404);
  return ok({{"token", otp->token},
             {"otp", otp->code},
             {"valid_for_s", otp->valid_for_s},
             {"digits", otp->digits},
             {"period", otp->period}});
}

control_reply release_lock(call& c) {
  c.only_query({});
  c.only_keys({});
  if (!c.e.world().release_lock(c.wildcard)) throw bad_call("no hardware token " + std::string(c.wildcard), 404);
  c.e.notice("lock released", {{"token", c.wildcard}});
  return ok({{"token", c.wildcard}, {"lock", "available"}});
}

}  // namespace fortisim::core::control
