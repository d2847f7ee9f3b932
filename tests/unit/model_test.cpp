// server/core/model: the FortiCare story, without sockets.
#include "server/core/model/model.hpp"

#include "protocol/formats.hpp"
#include "protocol/qr_code.hpp"
#include "protocol/seed_crypto.hpp"

#include "../support/fixtures.hpp"
#include "../support/temp_folder.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

using namespace fortisim;
using namespace fortisim::protocol;
using core::model;
using test::scenario_from;

namespace {

envelope device(const std::string& serial, std::vector<std::string> members = {}) {
  return envelope{"", "4", serial, "7.2", "1234", std::move(members)};
}

activation_license_response import(model& m, const std::string& code, const envelope& env) {
  return m.import_license({env, code});
}

/// Answers each request with `reused` into one reply, as a worker does, and with `fresh` into a
/// new one each time: the replies and reasons must be alike. Returns the last reply.
response answer_alike(model& reused, model& fresh, const std::vector<request>& asked) {
  response kept;
  std::string kept_why, fresh_why;
  for (std::size_t i = 0; i < asked.size(); ++i) {
    CAPTURE(i);
    reused.answer(asked[i], kept, &kept_why);
    response alone;
    fresh.answer(asked[i], alone, &fresh_why);
    CHECK(kept == alone);
    CHECK(kept_why == fresh_why);
  }
  return kept;
}

const char* world = R"({
  "seed": 9,
  "clock": {"now": "2026-01-01T00:00:00Z", "rate": 0},
  "licenses": [
    {"activation_code": "AAAA-BBBB-CCCC-DDDD-0001", "license": "EFTM000000000001", "token_count": 3},
    {"activation_code": "AAAA-BBBB-CCCC-DDDD-0002", "valid_until": "2025-12-31", "token_count": 2},
    {"activation_code": "AAAA-BBBB-CCCC-DDDD-0003", "valid_until": "2026-01-02", "token_count": 2},
    {"activation_code": "AAAA-BBBB-CCCC-DDDD-0004", "bound_to": ["FGVM0000000000OT"]}
  ],
  "unknown_codes": {"answer": "card_not_found"},
  "hardware_tokens": [
    {"token": "FTK2000000000001"},
    {"token": "FTK2000000000002", "lock": "consumed", "activated_by": "FGVM0000000000OT"}
  ]
})";

}  // namespace

TEST_SUITE("model") {

TEST_CASE("a licence binds to the first device — a re-import returns the same tokens — others are refused") {
  model m(scenario_from(world));
  auto first = import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG100F0000000001"));
  REQUIRE_FALSE(first.error.has_value());
  CHECK(first.license == "EFTM000000000001");
  REQUIRE(first.tokens->size() == 3);
  for (const auto& t : *first.tokens) {
    CHECK(is_mobile_token_serial(t.token));
    CHECK(t.license == "EFTM000000000001");
  }
  auto again = import(m, "aaaa-bbbb-cccc-dddd-0001", device("FG100F0000000001"));
  CHECK(again.tokens == first.tokens);
  auto other = import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG100F0000000009"));
  CHECK(other.error->code == 901);
  CHECK_FALSE(other.tokens.has_value());
  CHECK(other.license.empty());
  // A pre-bound licence: only its device.
  CHECK(import(m, "AAAA-BBBB-CCCC-DDDD-0004", device("FG100F0000000001")).error->code == 901);
  CHECK_FALSE(import(m, "AAAA-BBBB-CCCC-DDDD-0004", device("FGVM0000000000OT")).error.has_value());
}

TEST_CASE("a reply written over the last one says exactly what a fresh reply says") {
  // A worker answers every request into the reply it answered the last one with; each reply must
  // carry nothing of the one before (tokens after a refusal, an error after a success, members).
  model reused(scenario_from(world)), fresh(scenario_from(world));
  const std::vector<request> asked = {
      activation_license_request{device("FG1", {"FG2", "FG1", "FG3"}), "AAAA-BBBB-CCCC-DDDD-0001"},
      activation_license_request{device("FG9"), "AAAA-BBBB-CCCC-DDDD-0002"},
      activation_license_request{device("FG1", {"FG1", "FG2"}), "aaaa-bbbb-cccc-dddd-0001"},
      activation_license_request{device("FG9", {"FG9", "FG8"}), "AAAA-BBBB-CCCC-DDDD-0001"},
      activation_license_request{device("FG1"), "not a code"},
      polling_request{device("FG1"), {"FTKMOB0000000000"}},
      activation_license_request{envelope{}, "AAAA-BBBB-CCCC-DDDD-0003"},
      activation_license_request{device("FG5"), std::string(trial_activation_code)},
      hardware_activation_request{device("FG1"), {"FTK2000000000001"}},
      activation_license_request{device("FG1", {"FG1", "FG2"}), "AAAA-BBBB-CCCC-DDDD-0001"},
      activation_license_request{device("FG7"), "AAAA-BBBB-CCCC-DDDD-0002"},
  };
  answer_alike(reused, fresh, asked);
}

TEST_CASE("a provisioning reply written over the last one says exactly what a fresh reply says") {
  // As above, for ProvisionRequest: a refusal after a success carries no code or QR code, a
  // success after a refusal no error, a reply of fewer tokens nothing of the last one's others.
  model reused(scenario_from(world)), fresh(scenario_from(world));
  std::vector<std::string> tokens;
  for (auto* m : {&reused, &fresh}) {
    tokens.clear();
    auto licence = import(*m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1"));
    for (const auto& t : *licence.tokens) tokens.push_back(t.token);
  }
  auto token = [](const std::string& serial, const std::string& seed = hex_encode(derive_secret(1, "p"))) {
    return provisioned_token{serial, seed, 4320, "totp", 60, 6, ""};
  };
  const std::vector<request> asked = {
      provision_request{device("FG1"), {token(tokens[0]), token(tokens[1])}},
      provision_request{device("FG9"), {token(tokens[0])}},                             // not its own: 31 and 17
      provision_request{device("FG1"), {token("FTKMOB0000000999"), token(tokens[2])}},  // one of each
      provision_request{device("FG1"), {token(tokens[0], "00")}},                       // a bad seed
      polling_request{device("FG1"), {tokens[0]}},
      provision_request{device("FG1", {"FG1", "FG2"}), {token(tokens[1])}},
  };
  answer_alike(reused, fresh, asked);
}

TEST_CASE("a provisioning changes its own tokens only, never one of the last provisioning's again") {
  // A provisioning fills the change it made the time before (its records' storage reused): a
  // record of the last change left in it would put that token back as it was then, in memory and
  // on disk.
  test::temp_folder dir("provision-change");
  auto state = dir.file("state.db");
  model m(scenario_from(world), state);
  auto licence = import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1"));
  std::vector<std::string> tokens;
  for (const auto& t : *licence.tokens) tokens.push_back(t.token);
  auto provision = [&](const std::vector<std::string>& serials) {
    provision_request r{device("FG1"), {}};
    for (const auto& s : serials)
      r.tokens.push_back(provisioned_token{s, hex_encode(derive_secret(1, s)), 4320, "totp", 60, 6, ""});
    return m.provision(r);
  };
  auto activate = [&](const provisioned_result& p, const std::string& reg_id) {  // the phone, with p's code
    auto code = activation_code_for_phone(*parse_user_activation_code(*p.token_activation_code));
    REQUIRE_FALSE(m.mobile_provision({"", "5", "PHONE00000000001", code, reg_id, "5.4.2_IOS", "100"}).error);
  };
  activate(provision({tokens[0], tokens[1]}).tokens[0], "reg-1");
  CHECK(provision({tokens[0], "FTKMOB0000000999"}).tokens[1].error->code == 31);  // a refusal beside
  activate(provision({tokens[0]}).tokens[0], "reg-2");
  REQUIRE_FALSE(provision({tokens[2]}).tokens[0].error.has_value());
  auto polled = m.poll({device("FG1"), {tokens[0], tokens[1], tokens[2]}});
  CHECK(polled.tokens[0].status == "provisioned");  // not provisioning again, as in the changes before
  CHECK(polled.tokens[0].reg_id == "reg-2");
  CHECK(polled.tokens[1].status == "provisioning");
  CHECK(polled.tokens[2].status == "provisioning");
  auto now = m.snapshot();
  CHECK(model(scenario_from(world), state).snapshot() == now);
}

/// The stored record of token `serial` as the control API shows it (null when there is none).
auto stored_token(model& m, const std::string& serial) {
  auto tokens = m.snapshot()["tokens"];
  for (const auto& t : tokens)
    if (t["token"] == serial) return t;
  return decltype(tokens)();
}

TEST_CASE("a token listed twice in one ProvisionRequest is provisioned twice, as by two requests") {
  // From an attacker's trial: both entries were told they succeeded, yet the token counted one
  // provisioning and a code another token had given up in the same request stayed refused. Each
  // entry now provisions the token as the request so far left it.
  test::temp_folder dir("twice");
  auto state = dir.file("state.db");
  model m(scenario_from(world), state);
  auto licence = import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1"));
  auto a = (*licence.tokens)[0].token, b = (*licence.tokens)[1].token;
  auto first = hex_encode(derive_secret(1, "first")), second = hex_encode(derive_secret(1, "second"));
  auto before = m.provision({device("FG1"), {provisioned_token{b, first, 4320, "totp", 60, 6, "0123456789abcdef"}}});
  REQUIRE_FALSE(before.tokens[0].error.has_value());
  auto r = m.provision({device("FG1"),
                        {provisioned_token{a, first, 10, "totp", 30, 6, ""},
                         provisioned_token{b, first, 4320, "totp", 60, 6, ""},                      // b leaves 0123…
                         provisioned_token{a, second, 4320, "totp", 60, 6, "0123456789abcdef"}}});  // … and a takes it
  for (const auto& t : r.tokens) CHECK_FALSE(t.error.has_value());
  CHECK(*r.tokens[2].token_activation_code ==
        activation_code_for_user(*parse_phone_activation_code("0123456789abcdef")));
  auto stored = stored_token(m, a);
  CHECK(stored["provisions"] == 2);
  CHECK(stored["activation"] == "0123456789abcdef");
  CHECK(stored["secret"] == second);
  auto phone = [&](const std::optional<std::string>& user_code) {
    auto code = activation_code_for_phone(*parse_user_activation_code(*user_code));
    return m.mobile_provision({"", "5", "PHONE00000000001", code, "", "", ""});
  };
  CHECK(phone(r.tokens[0].token_activation_code).error->code == 40);  // the first entry's code, superseded
  CHECK(phone(r.tokens[2].token_activation_code).token == a);
  CHECK(model(scenario_from(world), state).snapshot() == m.snapshot());  // and so it reads back
}

TEST_CASE("a ProvisionRequest of hundreds of entries gives each what a request of its own would") {
  // A change past a few dozen tokens is looked up through maps, not scanned (change_index): each
  // entry must still see the request so far as a request of its own would see the world. 400
  // entries over 60 tokens, drawn by a seeded generator: tokens listed again, a FortiGate's code
  // another token holds, one an earlier entry moved a token off or took, malformed ones, derived ones.
  auto serial = [](int i) { return "FTKMOB00000000" + std::string(i < 10 ? "0" : "") + std::to_string(i); };
  auto entry = [](std::string token, std::string code) {
    return provisioned_token{std::move(token), "", 0, "totp", 60, 6, std::move(code)};
  };
  std::string serials;
  for (int i = 0; i < 60; ++i) serials += std::string(i ? "," : "") + "\"" + serial(i) + "\"";
  auto text = R"({"clock": {"now": "2026-01-01T00:00:00Z", "rate": 0}, "licenses": [{"activation_code":
      "AAAA-BBBB-CCCC-DDDD-0001", "bound_to": ["FG1"], "tokens": [)" +
              serials + "]}]}";
  model one(scenario_from(text)), each(scenario_from(text));
  std::vector<std::string> codes{"0123456789abcdef", "fedcba9876543210", "0123456789ABCDEF", "not-a-code"};
  for (auto* m : {&one, &each})
    for (int i = 0; i < 60; ++i) {  // every token holds a code before the request
      auto r = m->provision({device("FG1"), {entry(serial(i), "")}});
      REQUIRE_FALSE(r.tokens[0].error.has_value());
      if (m == &one)
        codes.push_back(activation_code_for_phone(*parse_user_activation_code(*r.tokens[0].token_activation_code)));
    }
  std::mt19937 draw(28);
  provision_request many{device("FG1"), {}};
  for (int n = 0; n < 400; ++n) {
    auto token = serial(static_cast<int>(draw() % 60));
    many.tokens.push_back(entry(token, draw() % 2 ? codes[draw() % codes.size()] : ""));
  }
  auto together = one.provision(many);
  int refused = 0;
  for (std::size_t n = 0; n < many.tokens.size(); ++n) {
    auto alone = each.provision({device("FG1"), {many.tokens[n]}}).tokens[0];
    CAPTURE(n);
    CHECK(together.tokens[n] == alone);
    refused += alone.error.has_value();
  }
  CHECK(refused > 20);  // the draw reaches both ways
  CHECK(refused < 380);
  CHECK(one.snapshot() == each.snapshot());
}

TEST_CASE("each entry of a provisioning carries the QR code of its own activation code, a refused one none") {
  // The QR codes are drawn after the model's lock is released, from each entry's code: a reply
  // object reused from a larger provisioning must not keep a QR code of another entry or request.
  model m(scenario_from(world));
  auto licence = import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1"));
  auto a = (*licence.tokens)[0].token, b = (*licence.tokens)[1].token;
  provision_response out;
  m.provision({device("FG1"),
               {provisioned_token{a, "", 0, "totp", 60, 6, ""}, provisioned_token{b, "", 0, "totp", 30, 6, ""},
                provisioned_token{a, "", 0, "totp", 60, 8, ""}}},
              out);
  auto drawn = [](const provisioned_result& t) { return base64_encode(qr_png(*t.token_activation_code)); };
  REQUIRE(out.tokens.size() == 3);
  for (const auto& t : out.tokens) {
    REQUIRE_FALSE(t.error.has_value());
    CHECK(*t.qr_code == drawn(t));
  }
  CHECK(*out.tokens[0].qr_code != *out.tokens[2].qr_code);  // the token's two codes, each its own
  m.provision({device("FG1"),
               {provisioned_token{"FTKMOB0000000000", "", 0, "totp", 60, 6, ""},
                provisioned_token{b, "", 0, "totp", 60, 6, ""}}},
              out);
  REQUIRE(out.tokens.size() == 2);
  CHECK(out.tokens[0].error->code == 31);
  CHECK_FALSE(out.tokens[0].qr_code.has_value());
  CHECK(*out.tokens[1].qr_code == drawn(out.tokens[1]));
}

TEST_CASE("a provisioning with the clock near the end of time stores an expiry the state reads back") {
  // From an attacker's trial: with the clock set to 9999-12-30, now + code_expire passed the last
  // time a state may hold, and the server refused its own state on the next start.
  test::temp_folder dir("end-of-time");
  auto state = dir.file("state.db");
  model m(scenario_from(world), state);
  auto licence = import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1"));
  m.advance_clock((core::last_time_s - 86400 - m.clock().now_s()) * 1000);  // 9999-12-30T23:59:59Z
  auto serial = (*licence.tokens)[0].token;
  auto r = m.provision({device("FG1"), {provisioned_token{serial, "", 527040, "totp", 60, 6, ""}}});
  REQUIRE_FALSE(r.tokens[0].error.has_value());
  CHECK(stored_token(m, serial)["expire"] == core::last_time_s);
  CHECK(model(scenario_from(world), state).snapshot()["tokens"] == m.snapshot()["tokens"]);
}

TEST_CASE("a clock moved to the last millisecond fortisim takes is stored, read back, and stays there") {
  // From a trial: a running clock left near 9999-12-31 ran past it, and a clock moved to its last
  // millisecond (POST /clock advance_ms) was written to the state, which the next start refused.
  test::temp_folder dir("last-millisecond");
  auto state = dir.file("state.db");
  constexpr std::int64_t last_ms = core::last_time_s * 1000 + 999;
  {
    model m(scenario_from(world), state);
    m.advance_clock(last_ms - m.clock().now_ms());
    CHECK(m.clock().now_ms() == last_ms);
  }
  model again(scenario_from(world), state);
  CHECK(again.clock().now_ms() == last_ms);
}

TEST_CASE("an HA cluster is one device: any member may re-import") {
  model m(scenario_from(world));
  auto a = import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1", {"FG1", "FG2"}));
  REQUIRE_FALSE(a.error.has_value());
  auto b = import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG2", {"FG2", "FG1"}));
  CHECK_FALSE(b.error.has_value());
  CHECK(b.tokens == a.tokens);
  CHECK(import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG2")).tokens == a.tokens);
  CHECK(import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG3")).error->code == 901);
}

TEST_CASE("an unredeemed code past its date is expired — a redeemed one stays usable — unknown codes are not found") {
  model m(scenario_from(world));
  CHECK(import(m, "AAAA-BBBB-CCCC-DDDD-0002", device("FG1")).error->code == 14);
  CHECK_FALSE(import(m, "AAAA-BBBB-CCCC-DDDD-0003", device("FG1")).error.has_value());
  m.advance_clock(3LL * 86400 * 1000);  // now past 0003's date
  CHECK_FALSE(import(m, "AAAA-BBBB-CCCC-DDDD-0003", device("FG1")).error.has_value());
  CHECK(import(m, "AAAA-BBBB-CCCC-DDDD-9999", device("FG1")).error->code == 10);
  CHECK(import(m, "not a code", device("FG1")).error->code == 10);
}

TEST_CASE("the model says why, clause by clause, numbers written in full") {
  model m(scenario_from(world));
  std::string why;
  auto import_why = [&](const std::string& code, const envelope& env) {
    m.import_license({env, code}, &why);
    return why;
  };
  // 2025-12-31T00:00:00Z
  CHECK(import_why("AAAA-BBBB-CCCC-DDDD-0002", device("FG1")) ==
        "licence code AAAA-BBBB-CCCC-DDDD-0002 was never redeemed and expired at 2025-12-31T00:00:00Z");
  CHECK(import_why("aaaa-bbbb-cccc-dddd-9999", device("FG1")) ==
        "FortiCare knows no licence card AAAA-BBBB-CCCC-DDDD-9999");
  CHECK(import_why("not a code", device("FG1")) == "\"NOT A CODE\" is not a licence activation code");
  CHECK(import_why("AAAA-BBBB-CCCC-DDDD-0001", device("FG1", {"FG2"})) ==
        "first import: licence EFTM000000000001 now bound to FG1, FG2; 3 tokens");
  CHECK(import_why("AAAA-BBBB-CCCC-DDDD-0001", device("FG7")) ==
        "licence AAAA-BBBB-CCCC-DDDD-0001 is bound to FG1, FG2; FG7 is not in its cluster");
  m.activate_hardware({device("FG1"), {"FTK2000000000001", "FTK2000000000002", "FTK2009999999999"}}, &why);
  CHECK(why ==
        "FTK2000000000001: seed delivered, lock consumed by FG1; FTK2000000000002: its lock was consumed by "
        "FGVM0000000000OT; FTK2009999999999: unknown to FortiGuard");
  m.activate_hardware({device("FG1"), std::vector<std::string>(21, "FTK2000000000001")}, &why);
  CHECK(why == "21 serials in one request; FortiOS sends 20 at most");
}

TEST_CASE("the trial code yields 2 tokens per device under an FTMTRIAL licence") {
  model m(scenario_from(world));
  auto a = import(m, std::string(trial_activation_code), device("FG1"));
  REQUIRE_FALSE(a.error.has_value());
  CHECK(a.license.starts_with("FTMTRIAL"));
  CHECK(a.license.size() == 16);
  REQUIRE(a.tokens->size() == 2);
  CHECK(import(m, std::string(trial_activation_code), device("FG1")).tokens == a.tokens);
  auto b = import(m, std::string(trial_activation_code), device("FG2"));
  CHECK(b.tokens != a.tokens);
  // A trial is reset by its key, "TRIAL:" and the device's serial as the device sent it.
  import(m, std::string(trial_activation_code), device("fg-lower"));
  CHECK(m.reset_one(model::reset_target::licence, "TRIAL:fg-lower").outcome == model::reset_result::done);
  CHECK(m.reset_one(model::reset_target::licence, "TRIAL:FG-LOWER").outcome == model::reset_result::unknown);
  model off(scenario_from(R"({"trial": {"available": false}})"));
  CHECK(import(off, std::string(trial_activation_code), device("FG1")).error->code == 902);
}

TEST_CASE("a derived serial already in use is derived again: no two licences share a serial or a token") {
  // The serials an unknown code and a trial would be given, taken first by the scenario: the
  // licence's serial by another licence, a token by another licence's list (not yet stored), one by
  // a mobile token (stored), and the trial's by a mobile token too.
  const std::string code = "ABCD-EF01-2345-6789-0AB1";
  const std::string serial = derive_serial("EFTM", 16, "license:" + code);
  const std::string token0 = derive_serial("FTKMOB", 16, "token:" + code + "#0");
  const std::string token1 = derive_serial("FTKMOB", 16, "token:" + code + "#1");
  const std::string trial0 = derive_serial("FTKMOB", 16, "trial-token:FG1#0");
  const std::string taken =
      json{{"unknown_codes", {{"answer", "accept"}, {"token_count", 2}}},
           {"licenses", {{{"activation_code", "AAAA-BBBB-CCCC-DDDD-0001"}, {"license", serial}, {"tokens", {token0}}}}},
           {"mobile_tokens", {{{"token", token1}}, {{"token", trial0}}}}}
          .dump();
  test::temp_folder dir("collide");
  std::string path = dir.file("state.db");
  activation_license_response got, trial;
  {
    model m(scenario_from(taken), path);
    got = import(m, code, device("FG1"));
    trial = import(m, std::string(trial_activation_code), device("FG1"));
  }
  REQUIRE_FALSE(got.error.has_value());
  CHECK(got.license == derive_serial("EFTM", 16, "license:" + code + "#1"));
  REQUIRE(got.tokens->size() == 2);
  CHECK((*got.tokens)[0].token == derive_serial("FTKMOB", 16, "token:" + code + "#0#1"));
  CHECK((*got.tokens)[1].token == derive_serial("FTKMOB", 16, "token:" + code + "#1#1"));
  REQUIRE(trial.tokens->size() == 2);
  CHECK((*trial.tokens)[0].token == derive_serial("FTKMOB", 16, "trial-token:FG1#0#1"));
  // What was stored passes the state's checks (the model loads it), and answers the same again.
  model again(scenario_from(taken), path);
  CHECK(import(again, code, device("FG1")) == got);
  CHECK(import(again, std::string(trial_activation_code), device("FG1")) == trial);  // "TRIAL:FG1" read back
  // The same world derives the same serials: a fresh model, and one reset after other imports.
  model fresh(scenario_from(taken));
  CHECK(import(fresh, code, device("FG1")) == got);
  fresh.reset();
  CHECK(import(fresh, code, device("FG1")) == got);
}

TEST_CASE("POST /tokens does not make a token a licence lists before its import does") {
  // From an attacker's trial: the token was made as a token of no licence; the import then listed
  // it, the importing FortiGate could not provision it (31), and the server refused its state.
  test::temp_folder dir("test-token");
  const std::string world = R"({"licenses": [{"activation_code": "AAAA-0000-0000-0000-0005", "license": "EFTM5",
                                            "tokens": ["FTKMOB0000000005"]}]})";
  model m(scenario_from(world), dir.file("state.db"));
  auto refused = m.provision_for_test("FTKMOB0000000005");
  REQUIRE(std::holds_alternative<std::string>(refused));
  CHECK(std::get<std::string>(refused) ==
        "token: FTKMOB0000000005 is licence AAAA-0000-0000-0000-0005's, which no device has imported yet: its import "
        "makes the token");
  REQUIRE_FALSE(import(m, "AAAA-0000-0000-0000-0005", device("FG1")).error.has_value());
  auto made = m.provision_for_test("FTKMOB0000000005");  // imported: the licence's token, provisioned
  REQUIRE(std::holds_alternative<core::provisioned_for_test>(made));
  CHECK(m.snapshot()["tokens"][0]["license"] == "EFTM5");
  model again(scenario_from(world), dir.file("state.db"));  // and the state reads back
}

TEST_CASE(
    "a redeemed licence's token declared under mobile_tokens has the details given there and the licence's serial") {
  // Before, the licence's plain token was made and the mobile token's details dropped; a mobile
  // token naming its licence by the derived serial was refused by the state on restart.
  const std::string token = "FTKMOB0000000077";
  const std::string world = json{{"licenses",
                                  {{{"activation_code", "AAAA-0000-0000-0000-0007"},
                                    {"tokens", {token}},
                                    {"bound_to", {"FG100F0000000001"}}}}},
                                 {"mobile_tokens",
                                  {{{"token", token},
                                    {"secret", "3132333435363738393031323334353637383930"},
                                    {"mobile_id", "0123456789abcdef"}}}}}
                                .dump();
  test::temp_folder dir("declared-twice");
  std::string path = dir.file("state.db");
  json tokens;
  {
    model m(scenario_from(world), path);
    tokens = m.snapshot()["tokens"];
    REQUIRE(tokens.size() == 1);
    CHECK(tokens[0]["license"] == m.snapshot()["licenses"][0]["license"]);
    CHECK(tokens[0]["secret"] == "3132333435363738393031323334353637383930");
    CHECK(tokens[0]["mobile_id"] == "0123456789abcdef");
    CHECK(tokens[0]["status"] == "provisioned");
  }
  model again(scenario_from(world), path);  // the state reads back
  CHECK(again.snapshot()["tokens"] == tokens);
}

TEST_CASE(
    "a licence a reload declares, and its reset, keep clear of the runtime's tokens — a reload that names one is "
    "refused") {
  const std::string code = "ABCD-EF01-2345-6789-0AB2";
  const std::string plain = derive_serial("FTKMOB", 16, "token:" + code + "#0");
  model m(scenario_from(R"({"unknown_codes": {"answer": "accept"}})"));
  REQUIRE(std::holds_alternative<core::provisioned_for_test>(m.provision_for_test(plain)));  // a token of no licence
  auto declaring = [](const json& licence) {
    return scenario_from(json{{"unknown_codes", {{"answer", "accept"}}}, {"licenses", {licence}}}.dump());
  };
  m.adopt(declaring({{"activation_code", code}, {"token_count", 1}}));
  auto tokens_of = [&] { return m.snapshot()["licenses"][0]["tokens"]; };
  const json variant = {derive_serial("FTKMOB", 16, "token:" + code + "#0#1")};
  CHECK(tokens_of() == variant);
  REQUIRE(m.reset_one(model::reset_target::licence, code).outcome == model::reset_result::done);
  CHECK(tokens_of() == variant);  // not the plain one, which the runtime's token has
  // A scenario naming that token, or that token as a licence's serial, does not fit: refused, the
  // world as it was.
  CHECK_THROWS_WITH_AS(
      m.adopt(declaring({{"activation_code", "AAAA-0000-0000-0000-0009"}, {"tokens", {plain}}})),
      doctest::Contains(("$.licenses[0].tokens[0]: " + plain + " is already a token of no licence").c_str()),
      std::invalid_argument);
  CHECK(tokens_of() == variant);
  CHECK(m.snapshot()["licenses"].size() == 1);
  // Switched to with a reset, it is checked against its own start, which it fits.
  m.adopt(declaring({{"activation_code", "AAAA-0000-0000-0000-0009"}, {"tokens", {plain}}}), /*from_start=*/true);
  CHECK(m.snapshot()["licenses"].size() == 1);
  CHECK(tokens_of() == json{plain});
  CHECK(m.snapshot()["tokens"].empty());  // the runtime's token went with the reset
}

TEST_CASE("a scenario that names a stored licence's token for another licence is refused at start, naming both") {
  test::temp_folder dir("clash");
  std::string path = dir.file("state.db");
  std::string token;
  {
    model m(scenario_from(R"({"unknown_codes": {"answer": "accept"}})"), path);
    token = (*import(m, "ABCD-EF01-2345-6789-0AB3", device("FG1")).tokens)[0].token;
  }
  auto naming = json{{"licenses", {{{"activation_code", "AAAA-0000-0000-0000-0009"}, {"tokens", {token}}}}}}.dump();
  CHECK_THROWS_WITH_AS(
      model(scenario_from(naming), path),
      doctest::Contains(("test scenario: $.licenses[0].tokens[0]: " + token +
                         " is already licence ABCD-EF01-2345-6789-0AB3's [the stored state " + path + "]")
                            .c_str()),
      std::runtime_error);
  model again(scenario_from(R"({"unknown_codes": {"answer": "accept"}})"), path);  // the state as it was
  CHECK((*import(again, "ABCD-EF01-2345-6789-0AB3", device("FG1")).tokens)[0].token == token);
}

TEST_CASE("the phone's reply written over the last one says exactly what a fresh reply says") {
  // As above, for the phone: a success after a refusal carries its seed, a refusal after a success
  // none of it, and a phone asking again (nothing to change) the same reply.
  test::temp_folder dir("phone-reply");
  model reused(scenario_from(world), dir.file("state.db")), fresh(scenario_from(world));
  std::string phone_code;
  for (auto* m : {&reused, &fresh}) {
    auto lic = import(*m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1"));
    provisioned_token p{(*lic.tokens)[0].token, "", 4320, "hotp", 30, 6, ""};
    auto prov = m->provision({device("FG1"), {p}});
    REQUIRE_FALSE(prov.tokens[0].error.has_value());
    phone_code = activation_code_for_phone(*parse_user_activation_code(*prov.tokens[0].token_activation_code));
  }
  const std::vector<request> asked = {
      mobile_provision_request{"", "5", "PHONE00000000001", "ffffffffffffffff", "", "", ""},
      mobile_provision_request{"SoftToken.MobileProvisionRequest", "5", "PHONE00000000001", phone_code, "reg-1",
                               "5.4.2_IOS", "100"},
      mobile_provision_request{"", "5", "PHONE00000000002", phone_code, "", "", ""},
      mobile_provision_request{"", "", "PHONE00000000001", phone_code, "", "", ""},
      mobile_provision_request{"", "", "PHONE00000000001", phone_code, "", "", ""},
      mobile_provision_request{"", "", "PHONE0000000001", phone_code, "", "", ""},
      mobile_provision_request{"", "", "PHONE00000000001", phone_code, "reg-2", "5.4.3_IOS", ""},
  };
  auto token = std::get<mobile_provision_response>(answer_alike(reused, fresh, asked)).token;
  // The phone's last request changed what a poll says; asked again, it changes nothing.
  auto polled = reused.poll({device("FG1"), {token}});
  CHECK(polled.tokens[0].os_ver == "5.4.3_IOS");
  CHECK(polled.tokens[0].reg_id == "reg-2");
  auto changes = reused.state_status()["changes"].get<int>();
  CHECK_FALSE(reused.mobile_provision(std::get<mobile_provision_request>(asked.back())).error);
  CHECK(reused.state_status()["changes"] == changes);
  CHECK_FALSE(reused.mobile_provision({"", "", "PHONE00000000001", phone_code, "reg-3", "", ""}).error);
  CHECK(reused.state_status()["changes"] == changes + 1);
}

TEST_CASE("provision, phone activation, polling and OTP tell one consistent story") {
  model m(scenario_from(world));
  auto lic = import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1"));
  std::string token = (*lic.tokens)[0].token;
  auto polled = m.poll({device("FG1"), {token}});
  CHECK(polled.tokens[0].status == "new");

  // The FortiGate makes the seed; FortiCare makes the activation code (docs/protocol.md §4.4).
  std::string secret = derive_secret(123, "mine");
  provisioned_token p{token, hex_encode(secret), 4320, "totp", 60, 6, ""};
  auto prov = m.provision(
      {device("FG1"), {p, provisioned_token{"FTKMOB9999999999", hex_encode(secret), 0, "totp", 60, 6, ""}}});
  REQUIRE_FALSE(prov.tokens[0].error.has_value());
  CHECK(prov.result == 2);
  CHECK(prov.tokens[0].license == "EFTM000000000001");
  CHECK(prov.tokens[0].code_expire == 4320);
  auto code = parse_user_activation_code(prov.tokens[0].token_activation_code.value_or(""));
  REQUIRE(code.has_value());
  std::string phone_code = activation_code_for_phone(*code);
  CHECK(prov.tokens[1].error->code == 31);
  CHECK_FALSE(prov.tokens[1].license.has_value());
  polled = m.poll({device("FG1"), {token}});
  CHECK(polled.tokens[0].status == "provisioning");
  CHECK(polled.tokens[0].activation_expire == m.clock().now_s() + 3 * 24 * 3600);

  auto phone = m.mobile_provision({"", "5", "PHONE00000000001", phone_code, "reg-1", "5.4.2_IOS", ""});
  REQUIRE_FALSE(phone.error.has_value());
  CHECK(phone.token == token);
  CHECK(decrypt_seed_from_phone(phone.seed, "PHONE00000000001") == secret);
  // The same phone may fetch again; another phone may not.
  CHECK_FALSE(m.mobile_provision({"", "", "PHONE00000000001", phone_code, "", "", ""}).error.has_value());
  CHECK(m.mobile_provision({"", "", "PHONE00000000002", phone_code, "", "", ""}).error->code == 40);
  CHECK(m.mobile_provision({"", "", "PHONE00000000001", "ffffffffffffffff", "", "", ""}).error->code == 40);

  polled = m.poll({device("FG1"), {token, "FTKMOB0000000000"}});
  CHECK(polled.tokens[0].status == "provisioned");
  CHECK(polled.tokens[0].os_ver == "5.4.2_IOS");
  CHECK(polled.tokens[0].reg_id == "reg-1");
  CHECK(polled.tokens[1].status == "token not exist in FortiGuard");

  auto otp = m.otp(token);
  REQUIRE(otp.has_value());
  CHECK(otp->code == totp(secret, m.clock().now_s(), 60, 6));
}

TEST_CASE("an activation code expires on the virtual clock: 40 for the phone, 'provision timeout' for polling") {
  model m(scenario_from(world));
  auto p = m.provision_for_test("");
  REQUIRE(std::holds_alternative<core::provisioned_for_test>(p));
  auto made = std::get<core::provisioned_for_test>(p);
  CHECK(parse_user_activation_code(made.user_activation_code) ==
        parse_phone_activation_code(made.phone_activation_code));
  m.advance_clock((3LL * 24 * 3600 + 1) * 1000);
  CHECK(m.mobile_provision({"", "", "PHONE00000000001", made.phone_activation_code, "", "", ""}).error->code == 40);
  CHECK(m.poll({device("FG1"), {made.token}}).tokens[0].status == "provision timeout");
}

TEST_CASE("a poll says FortiOS's status words unless the scenario renames them — 'pending' in old state reads") {
  auto renamed = [](const std::string& words) {
    std::string text = world;
    return text.insert(text.rfind('}'), R"(, "protocol": {"status_words": )" + words + "}");
  };
  model m(scenario_from(renamed(R"({"provisioning": "pending", "unknown": "not found"})")));
  auto made = std::get<core::provisioned_for_test>(m.provision_for_test(""));
  auto polled = m.poll({device("FG1"), {made.token, "FTKMOB0000000000"}});
  CHECK(polled.tokens[0].status == "pending");
  CHECK(polled.tokens[1].status == "not found");
  CHECK(core::status_text(core::token_status::provisioning) == "provisioning");  // the control API's word
  CHECK(core::status_from_text("pending") == core::token_status::provisioning);  // state files of 0.1
  auto bad = core::parse_scenario(renamed(R"({"pending": "x", "new": 7})"), "words.json");
  REQUIRE(bad.problems.size() == 2);
  auto unprintable = core::parse_scenario(renamed(R"({"new": "", "provisioning": "a\u001b[31m"})"), "words.json");
  CHECK(unprintable.problems.size() == 2);
  CHECK(bad.problems[0].path == "$.protocol.status_words.pending");
  CHECK(bad.problems[1].path == "$.protocol.status_words.new");
}

TEST_CASE("a hardware token's lock is consumed once — unknown serials and consumed locks get their own errors") {
  model m(scenario_from(world));
  auto r = m.activate_hardware({device("FG1"), {"FTK2000000000001", "FTK2000000000002", "FTK2009999999999"}});
  REQUIRE(r.tokens.size() == 3);
  CHECK(r.tokens[0].seed.size() == 40);
  CHECK_FALSE(r.tokens[0].error.has_value());
  CHECK(r.tokens[1].error->code == 903);
  CHECK(r.tokens[1].seed.empty());
  CHECK(r.tokens[2].error->code == 904);
  auto again = m.activate_hardware({device("FG1"), {"FTK2000000000001"}});
  CHECK(again.tokens[0].error->code == 903);
  CHECK(again.tokens[0].seed.empty());
  CHECK(m.release_lock("FTK2000000000001"));
  CHECK(m.activate_hardware({device("FG2"), {"FTK2000000000001"}}).tokens[0].seed == r.tokens[0].seed);
  CHECK_FALSE(m.release_lock("FTK2009999999999"));
  hardware_activation_request many{device("FG1"), std::vector<std::string>(21, "FTK2000000000001")};
  CHECK(m.activate_hardware(many).error->code == 906);
  auto otp = m.otp("FTK2000000000002");
  REQUIRE(otp.has_value());
  CHECK(otp->code.size() == 6);
}

TEST_CASE("of many concurrent activations of one serial, exactly one wins") {
  model m(scenario_from(world));
  std::atomic<int> seeds{0}, locked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&, t] {
      auto r = m.activate_hardware({device("FG" + std::to_string(t)), {"FTK2000000000001"}});
      if (!r.tokens[0].seed.empty()) ++seeds;
      if (r.tokens[0].error && r.tokens[0].error->code == 903) ++locked;
    });
  for (auto& t : threads) t.join();
  CHECK(seeds == 1);
  CHECK(locked == 15);
}

TEST_CASE(
    "of many concurrent first imports of one code, one binds it: other devices are refused, the same device "
    "re-imports") {
  // Imports that change nothing share the lock; the one that binds takes it alone and looks again.
  for (bool same_device : {false, true}) {
    CAPTURE(same_device);
    model m(scenario_from(world));
    std::atomic<int> bound{0}, refused{0}, first{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t)
      threads.emplace_back([&, t] {
        std::string why;
        auto r = m.import_license(
            {device(same_device ? "FG100F0000000001" : "FG" + std::to_string(t)), "AAAA-BBBB-CCCC-DDDD-0001"}, &why);
        if (r.tokens && r.tokens->size() == 3) ++bound;
        if (r.error && r.error->code == 901) ++refused;
        if (why.starts_with("first import")) ++first;
      });
    for (auto& t : threads) t.join();
    CHECK(first == 1);
    CHECK(bound == (same_device ? 16 : 1));
    CHECK(refused == (same_device ? 0 : 15));
  }
}

TEST_CASE("with a state file, a new model resumes where the old one stopped") {
  test::temp_folder dir("state");
  std::string path = dir.file("state.db");
  std::string first_token;
  {
    model m(scenario_from(world), path);
    first_token = (*import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1")).tokens)[0].token;
    m.activate_hardware({device("FG1"), {"FTK2000000000001"}});
    m.advance_clock(1000 * 3600);
  }
  CHECK(std::filesystem::status(path).permissions() ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  model again(scenario_from(world), path);
  CHECK(import(again, "AAAA-BBBB-CCCC-DDDD-0001", device("FG9")).error->code == 901);
  CHECK((*import(again, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1")).tokens)[0].token == first_token);
  CHECK(again.activate_hardware({device("FG1"), {"FTK2000000000001"}}).tokens[0].error->code == 903);
  CHECK(again.clock().now_s() == 1767225600 + 3600);
  // A damaged file is refused with its name, not silently replaced.
  std::ofstream(path, std::ios::trunc) << "{half";
  CHECK_THROWS_WITH_AS(model(scenario_from(world), path), doctest::Contains("state.db"), std::runtime_error);
}

TEST_CASE("changes made at once are all durable, written together: fewer commits than changes") {
  test::temp_folder dir("group-commit");
  std::string path = dir.file("state.db");
  {
    model m(scenario_from(R"({"unknown_codes": {"answer": "accept"}})"), path);
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 20; ++i) {
          char code[32];
          std::snprintf(code, sizeof code, "AAAA-0000-0000-%04X-%04X", t, i);
          CHECK(import(m, code, device("FG" + std::to_string(t))).error == std::nullopt);
        }
      });
    for (auto& t : threads) t.join();
    auto status = m.state_status();
    CHECK(status["changes"] == 320);
    CHECK(status["commits"].get<int>() <= 320);
    CHECK(status["undone"] == 0);
    CHECK(status["checkpoints"].is_number_unsigned());
    MESSAGE("320 changes from 16 threads in " << status["commits"].get<int>() << " commits");
  }
  model again(scenario_from(R"({"unknown_codes": {"answer": "accept"}})"), path);
  for (int t = 0; t < 16; ++t) {
    char code[32];
    std::snprintf(code, sizeof code, "AAAA-0000-0000-%04X-%04X", t, 19);
    CHECK(import(again, code, device("FG-other")).error->code == 901);  // bound to FG<t>, on disk
  }
}

TEST_CASE("a write that fails takes its change back: the caller is told, readers after it see the world before") {
  test::temp_folder dir("undo");
  std::string path = dir.file("state.db");
  model m(scenario_from(world), path);
  CHECK(import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1")).error == std::nullopt);
  // Another connection holds the database's write lock: the next commit fails at once (SQLITE_BUSY).
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  CHECK_THROWS_WITH_AS(import(m, "AAAA-BBBB-CCCC-DDDD-0003", device("FG1")),
                       doctest::Contains("cannot write the state"), core::storage_error);
  CHECK_THROWS_AS(m.advance_clock(1000), core::storage_error);
  // Undone: the licence is unbound again, the clock where it was, and a read says so without error.
  auto world_now = m.snapshot();
  for (const auto& l : world_now["licenses"])
    if (l["activation_code"] == "AAAA-BBBB-CCCC-DDDD-0003") CHECK(l["bound_to"].empty());
  CHECK(m.clock().now_s() == 1767225600);
  CHECK(m.state_status()["undone"] == 2);
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  // The code was never bound: another device takes it now, durably.
  CHECK(import(m, "AAAA-BBBB-CCCC-DDDD-0003", device("FG2")).error == std::nullopt);
  model again(scenario_from(world), path);
  CHECK(import(again, "AAAA-BBBB-CCCC-DDDD-0003", device("FG1")).error->code == 901);
  CHECK(import(again, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1")).error == std::nullopt);
}

TEST_CASE("a reload whose definitions cannot be written leaves the old scenario and world in force") {
  test::temp_folder dir("adopt-undo");
  std::string path = dir.file("state.db");
  model m(scenario_from(world), path);
  std::string reloaded = world;  // the same world, with unknown codes accepted and one licence more
  reloaded.replace(reloaded.find(R"("unknown_codes": {"answer": "card_not_found"})"),
                   std::string(R"("unknown_codes": {"answer": "card_not_found"})").size(),
                   R"("unknown_codes": {"answer": "accept"})");
  reloaded.replace(reloaded.find(R"("licenses": [)"), std::string(R"("licenses": [)").size(),
                   R"("licenses": [{"activation_code": "AAAA-BBBB-CCCC-DDDD-0009", "token_count": 1},)");
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  CHECK_THROWS_AS(m.adopt(scenario_from(reloaded)), core::storage_error);
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  // The new licence is gone with its write, and the old scenario still refuses unknown codes.
  CHECK(import(m, "AAAA-BBBB-CCCC-DDDD-0009", device("FG1")).error->code == 10);
  CHECK(import(m, "AAAA-BBBB-CCCC-DDDD-0777", device("FG1")).error->code == 10);
  m.adopt(scenario_from(reloaded));  // and once it can be written, it takes
  CHECK(import(m, "AAAA-BBBB-CCCC-DDDD-0009", device("FG1")).error == std::nullopt);
}

}  // TEST_SUITE

TEST_SUITE("model") {

namespace {

provision_request provision_of(const envelope& env, const std::string& token, const std::string& seed_hex) {
  return {env, {provisioned_token{token, seed_hex, 4320, "totp", 60, 6, ""}}};
}

const char* cluster_world(const char* policy) {
  static std::string text;
  text = std::string(R"({"clusters": {"licence_use": ")") + policy + R"(", "not_registered": ["FG9"]},
    "licenses": [{"activation_code": "AAAA-BBBB-CCCC-DDDD-0001", "tokens": ["FTKMOB0000000001", "FTKMOB0000000002"]}]})";
  return text.c_str();
}

}  // namespace

TEST_CASE("POST /tokens gives a code as a provisioning does: counted, never one handed out before, the pin if any") {
  // From an attacker's trial: it did not count, so the FortiGate's next provisioning handed out
  // the code this call had given (a phone could activate with it again), and after a restart it
  // gave its own codes again.
  test::temp_folder dir("test-code");
  const std::string world = R"({"licenses": [{"activation_code": "AAAA-0000-0000-0000-0006", "bound_to": ["FG1"],
      "tokens": ["FTKMOB0000000006", {"token": "FTKMOB0000000007", "activation_code": "EEIAI6ZLEYIRKOYV"}]}]})";
  std::set<std::string> codes;
  {
    model m(scenario_from(world), dir.file("state.db"));
    for (int i = 0; i < 2; ++i)
      codes.insert(std::get<core::provisioned_for_test>(m.provision_for_test("FTKMOB0000000006")).user_activation_code);
    auto prov = m.provision(provision_of(device("FG1"), "FTKMOB0000000006", hex_encode(derive_secret(1, "s"))));
    codes.insert(*prov.tokens[0].token_activation_code);
    CHECK(m.snapshot()["tokens"][0]["provisions"] == 3);
    auto pinned = std::get<core::provisioned_for_test>(m.provision_for_test("FTKMOB0000000007"));
    CHECK(pinned.user_activation_code == "EEIAI6ZLEYIRKOYV");
  }
  model again(scenario_from(world), dir.file("state.db"));  // after a restart, the count goes on
  codes.insert(std::get<core::provisioned_for_test>(again.provision_for_test("FTKMOB0000000006")).user_activation_code);
  CHECK(codes.size() == 4);
}

TEST_CASE("who may provision: the licence's cluster, or (7.4.9, KB 424201) only the serial it is registered to") {
  std::string seed = hex_encode(derive_secret(1, "s"));
  for (const char* policy : {"any_member", "registered_serial"}) {
    CAPTURE(policy);
    model m(scenario_from(cluster_world(policy)));
    REQUIRE_FALSE(import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1", {"FG1", "FG2"})).error.has_value());
    auto by_member = m.provision(provision_of(device("FG2", {"FG1", "FG2"}), "FTKMOB0000000001", seed));
    bool any = std::string(policy) == "any_member";
    CHECK(by_member.result == (any ? 2 : 0));
    CHECK(by_member.tokens[0].error.has_value() == !any);
    auto by_registered = m.provision(provision_of(device("FG1", {"FG1", "FG2"}), "FTKMOB0000000002", seed));
    CHECK(by_registered.result == 2);
    auto stranger = m.provision(provision_of(device("FG3", {"FG3", "FG9"}), "FTKMOB0000000001", seed));
    CHECK(stranger.result == 0);
    CHECK(stranger.error->code == 17);
    CHECK(stranger.tokens[0].error->code == 31);
    REQUIRE(stranger.head.members.size() == 2);
    CHECK(stranger.head.members[1].error == "Product is not registered");  // FG9, listed as not registered
    CHECK_FALSE(stranger.head.members[0].error.has_value());
  }
}

TEST_CASE("by default (KB 424201) a licence serves a request whose serials include its registered one") {
  std::string seed = hex_encode(derive_secret(1, "s"));
  model m(scenario_from(R"({"licenses": [{"activation_code": "AAAA-BBBB-CCCC-DDDD-0001",
                                          "tokens": ["FTKMOB0000000001", "FTKMOB0000000002"]}]})"));
  // Imported by FGS while the pair listed both: registered to FGS, bound to {FGP, FGS}.
  REQUIRE_FALSE(import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FGS", {"FGP", "FGS"})).error.has_value());
  // FortiOS 7.2 lists both serials: it works from either unit.
  CHECK(m.provision(provision_of(device("FGP", {"FGP", "FGS"}), "FTKMOB0000000001", seed)).result == 2);
  // FortiOS 7.4.9 lists only the primary's: the same licence fails, as KB 424201 shows.
  std::string why;
  auto one = m.provision(provision_of(device("FGP", {"FGP"}), "FTKMOB0000000002", seed), &why);
  CHECK(one.result == 0);
  CHECK(one.error->code == 17);
  CHECK(one.tokens[0].error->code == 31);
  REQUIRE(one.head.members.size() == 1);
  CHECK(one.head.members[0].error == "Product is not registered");
  CHECK(why.find("registered to FGS, a serial this request does not list") != std::string::npos);
  // A stranger's request is refused without saying anything of its members.
  auto stranger = m.provision(provision_of(device("FGX", {"FGX"}), "FTKMOB0000000002", seed));
  CHECK(stranger.tokens[0].error->code == 31);
  CHECK_FALSE(stranger.head.members[0].error.has_value());
  // The member's words are catalogue entry 21's, so a scenario may reword them.
  CHECK(find_error(21)->message == "Product is not registered");
  CHECK(find_error("product_not_registered")->code == 21);
}

TEST_CASE("provisioning: some tokens fail and the others still succeed — a bad seed is 992 — a new code each time") {
  model m(scenario_from(world));
  auto lic = import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1"));
  std::string a = (*lic.tokens)[0].token, b = (*lic.tokens)[1].token;
  auto mixed = m.provision({device("FG1"),
                            {provisioned_token{a, hex_encode(derive_secret(1, "a")), 60, "totp", 60, 6, ""},
                             provisioned_token{b, "not hex", 60, "totp", 60, 6, ""}}});
  CHECK(mixed.result == 2);
  CHECK_FALSE(mixed.error.has_value());
  CHECK(mixed.tokens[1].error->code == 992);
  CHECK(mixed.tokens[1].error->message.find("seed") != std::string::npos);
  auto first = *mixed.tokens[0].token_activation_code;
  auto again = m.provision(provision_of(device("FG1"), a, hex_encode(derive_secret(1, "a2"))));
  auto second = *again.tokens[0].token_activation_code;
  CHECK(second != first);
  auto phone_code = [](const std::string& user) {
    return activation_code_for_phone(*parse_user_activation_code(user));
  };
  CHECK(m.mobile_provision({"", "", "PHONE00000000001", phone_code(first), "", "", ""}).error->code == 40);
  CHECK_FALSE(m.mobile_provision({"", "", "PHONE00000000001", phone_code(second), "", "", ""}).error.has_value());
  // The same scenario and requests give the same codes on every run.
  model replay(scenario_from(world));
  import(replay, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1"));
  CHECK(replay
            .provision(provision_of(device("FG1"), a, "00"))  // a bad seed does not count
            .tokens[0]
            .error.has_value());
  CHECK(*replay.provision(provision_of(device("FG1"), a, hex_encode(derive_secret(1, "x"))))
             .tokens[0]
             .token_activation_code == first);
}

TEST_CASE("a FortiGate that gives its own activation code gets 40 on /Process when it is malformed or another's") {
  model m(scenario_from(world));
  auto lic = import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1"));
  std::string a = (*lic.tokens)[0].token, b = (*lic.tokens)[1].token;
  std::string seed = hex_encode(derive_secret(1, "a"));
  auto own = [&](const std::string& token, const std::string& code) {
    return m.provision({device("FG1"), {provisioned_token{token, seed, 60, "totp", 60, 6, code}}});
  };
  auto taken = own(a, "0123456789abcdef");
  REQUIRE_FALSE(taken.tokens[0].error.has_value());
  CHECK(taken.tokens[0].token_activation_code ==
        activation_code_for_user(*parse_phone_activation_code("0123456789abcdef")));
  std::string why;
  auto clash = m.provision({device("FG1"), {provisioned_token{b, seed, 60, "totp", 60, 6, "0123456789abcdef"}}}, &why);
  CHECK(clash.tokens[0].error->code == 40);
  CHECK(clash.tokens[0].error->message == "FTM token Activation Code is invalid");
  CHECK(clash.error->code == 17);
  CHECK(why.find(b + ": activation_code \"0123456789abcdef\" is token " + a + "'s") != std::string::npos);
  CHECK(m.provision({device("FG1"), {provisioned_token{b, seed, 60, "totp", 60, 6, "not a code"}}}, &why)
            .tokens[0]
            .error->code == 40);
  CHECK(why.find(b + ": activation_code \"not a code\" is not 16 lowercase hex digits") != std::string::npos);
  CHECK_FALSE(own(a, "0123456789abcdef").tokens[0].error.has_value());  // its own code again: fine
  // The same token twice in one request with its own code: its code, not another's (found by an attack run).
  provisioned_token twice{a, seed, 60, "totp", 60, 6, "0123456789abcdef"};
  auto both = m.provision({device("FG1"), {twice, twice}});
  CHECK_FALSE(both.tokens[0].error.has_value());
  CHECK_FALSE(both.tokens[1].error.has_value());
}

TEST_CASE("an iOS phone's 36-character mobile_id is keyed by its first 16 bytes, unless the scenario refuses it") {
  std::string uuid = "5C2E0A4B-9F1D-4E7A-8B3C-2D6F1A0E9B47";
  for (const char* policy : {"first_16", "reject"}) {
    CAPTURE(policy);
    model m(scenario_from(std::string(R"({"phone": {"long_mobile_id": ")") + policy + R"("},
      "licenses": [{"activation_code": "AAAA-BBBB-CCCC-DDDD-0001", "tokens": ["FTKMOB0000000001"]}]})"));
    import(m, "AAAA-BBBB-CCCC-DDDD-0001", device("FG1"));
    std::string secret = derive_secret(5, "ios");
    auto code = *m.provision(provision_of(device("FG1"), "FTKMOB0000000001", hex_encode(secret)))
                     .tokens[0]
                     .token_activation_code;
    auto r = m.mobile_provision(
        {"", "5", uuid, activation_code_for_phone(*parse_user_activation_code(code)), "", "4.9.9_IOS", ""});
    if (std::string(policy) == "reject") {
      CHECK(r.error->code == 40);
      continue;
    }
    REQUIRE_FALSE(r.error.has_value());
    CHECK(decrypt_seed_from_phone(r.seed, uuid.substr(0, 16)) == secret);
    CHECK(r.version == "5");
    CHECK(r.device_version == "4.9.9_IOS");
  }
}

TEST_CASE("a scenario pins a token's activation code: every provisioning answers it") {
  model m(scenario_from(R"({"licenses": [{"activation_code": "AAAA-BBBB-CCCC-DDDD-0001", "bound_to": ["FG1"],
    "tokens": [{"token": "FTKMOB5CA3C29179", "activation_code": "EEIAI6ZLEYIRKOYV"}]}]})"));
  for (int i = 0; i < 2; ++i) {
    auto r = m.provision(provision_of(device("FG1"), "FTKMOB5CA3C29179", hex_encode(derive_secret(1, "p"))));
    CHECK(r.tokens[0].token_activation_code == "EEIAI6ZLEYIRKOYV");
  }
}

TEST_CASE(
    "a code pinned to one token is never another's: not a FortiGate's own code, not after a reload that pins it") {
  // From an attacker's trial: a FortiGate's code could take a code pinned to a token not yet
  // provisioned; the pinned token then got it too, and the phone got the pinned token's seed.
  const std::string licence = R"({"activation_code": "AAAA-BBBB-CCCC-DDDD-0001", "bound_to": ["FG1"], "tokens":
    ["FTKMOB0000000006", {"token": "FTKMOB5CA3C29179", "activation_code": "EEIAI6ZLEYIRKOYV"}]})";
  const std::string pinned_hex = activation_code_for_phone(*parse_user_activation_code("EEIAI6ZLEYIRKOYV"));
  auto given = [&](const std::string& token) {
    return provision_request{device("FG1"), {provisioned_token{token, "", 0, "totp", 60, 6, pinned_hex}}};
  };
  auto phone = [&](model& m) { return m.mobile_provision({"", "5", "PHONE00000000001", pinned_hex, "", "", ""}); };
  {
    model m(scenario_from(R"({"licenses": [)" + licence + "]}"));
    std::string why;
    CHECK(m.provision(given("FTKMOB0000000006"), &why).tokens[0].error->code == 40);
    CHECK(why.find("FTKMOB0000000006: activation_code \"" + pinned_hex +
                   "\" is pinned to token FTKMOB5CA3C29179 by the scenario") != std::string::npos);
    CHECK(m.provision(given("FTKMOB5CA3C29179")).tokens[0].token_activation_code == "EEIAI6ZLEYIRKOYV");
    CHECK(phone(m).token == "FTKMOB5CA3C29179");
  }
  // A token that holds the code when a reload pins it to another keeps it; the pinned one is refused.
  auto unpinned = R"({"licenses": [{"activation_code": "AAAA-BBBB-CCCC-DDDD-0001", "bound_to": ["FG1"], "tokens":
    ["FTKMOB0000000006", "FTKMOB5CA3C29179"]}]})";
  model m(scenario_from(unpinned));
  REQUIRE_FALSE(m.provision(given("FTKMOB0000000006")).tokens[0].error.has_value());
  CHECK(m.held_pins().empty());
  m.adopt(scenario_from(R"({"licenses": [)" + licence + "]}"));
  CHECK(m.held_pins() ==
        std::vector<std::string>{
            "$.licenses[0].tokens[1].activation_code: EEIAI6ZLEYIRKOYV is token FTKMOB0000000006's: FTKMOB5CA3C29179 "
            "gets 40 until that token gives it up (provisioned with another code, or POST /reset {\"token\": "
            "\"FTKMOB0000000006\"})"});
  std::string why;
  CHECK(m.provision(given("FTKMOB5CA3C29179"), &why).tokens[0].error->code == 40);
  CHECK(why.find("FTKMOB5CA3C29179: its pinned activation code EEIAI6ZLEYIRKOYV is token FTKMOB0000000006's now") !=
        std::string::npos);
  auto for_test = m.provision_for_test("FTKMOB5CA3C29179");
  REQUIRE(std::holds_alternative<std::string>(for_test));
  CHECK(std::get<std::string>(for_test) ==
        "token: FTKMOB5CA3C29179's pinned activation code EEIAI6ZLEYIRKOYV is token FTKMOB0000000006's now");
  CHECK(phone(m).token == "FTKMOB0000000006");
}

TEST_CASE(
    "a reload that makes a mobile token with a code another token holds is refused, as a start on that state is") {
  // From a second trial: the new token got the code too, was written to the state, and the phone got it.
  test::temp_folder dir("mobile-code");
  auto state = dir.file("state.db");
  const std::string licence =
      R"({"activation_code": "AAAA-BBBB-CCCC-DDDD-0001", "bound_to": ["FG1"], "tokens": ["FTKMOB0000000006"]})";
  model m(scenario_from(R"({"licenses": [)" + licence + "]}"), state);
  auto given = provision_request{device("FG1"),
                                 {provisioned_token{"FTKMOB0000000006", "", 0, "totp", 60, 6, "1111111111111111"}}};
  REQUIRE_FALSE(m.provision(given).tokens[0].error.has_value());
  auto with_mobile = R"({"licenses": [)" + licence +
                     R"(], "mobile_tokens": [{"token": "FTKMOB0000000043", "activation_code": "EEIBCEIRCEIRCEIR"}]})";
  CHECK_THROWS_WITH_AS(m.adopt(scenario_from(with_mobile)),
                       "$.mobile_tokens[0].activation_code: EEIBCEIRCEIRCEIR is token FTKMOB0000000006's already",
                       std::invalid_argument);
  CHECK(m.snapshot()["tokens"].size() == 1);
  CHECK_THROWS_WITH_AS(model(scenario_from(with_mobile), state),
                       doctest::Contains("is token FTKMOB0000000006's already"), std::runtime_error);
}

TEST_CASE("a reload that makes a mobile token whose derived code another token holds is refused") {
  // From a third trial: only a given code was checked, and the new token took the held code too.
  auto raw = derive_bytes(1, "activation:FTKMOB0000000043", 8);
  activation_bytes derived{};
  std::copy(raw.begin(), raw.end(), derived.begin());
  const std::string licence =
      R"({"activation_code": "AAAA-BBBB-CCCC-DDDD-0001", "bound_to": ["FG1"], "tokens": ["FTKMOB0000000006"]})";
  model m(scenario_from(R"({"licenses": [)" + licence + "]}"));
  auto given = provision_request{
      device("FG1"), {provisioned_token{"FTKMOB0000000006", "", 0, "totp", 60, 6, activation_code_for_phone(derived)}}};
  REQUIRE_FALSE(m.provision(given).tokens[0].error.has_value());
  CHECK_THROWS_WITH_AS(
      m.adopt(scenario_from(R"({"licenses": [)" + licence + R"(], "mobile_tokens": [{"token": "FTKMOB0000000043"}]})")),
      ("$.mobile_tokens[0].token: FTKMOB0000000043's derived activation code " + activation_code_for_user(derived, 60) +
       " is token FTKMOB0000000006's already; give it an \"activation_code\" of its own")
          .c_str(),
      std::invalid_argument);
  CHECK(m.snapshot()["tokens"].size() == 1);
}

TEST_CASE("a phone's code that is not 16 lowercase hex digits is refused with those words") {
  // From a new user's trial: upper-case hex, or the user's base32 code, read "no token has it".
  const activation_bytes bytes{0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89};
  const std::string code = activation_code_for_user(bytes), hex = activation_code_for_phone(bytes);
  model m(scenario_from(R"({"mobile_tokens": [{"token": "FTKMOB0000000043", "activation_code": ")" + code + R"("}]})"));
  std::string why;
  for (std::string sent : {upper_case(hex), code}) {
    CHECK(m.mobile_provision({"", "5", "PHONE00000000001", sent, "", "", ""}, &why).error->code == 40);
    CHECK(why == "token_activation_code \"" + sent + "\" is not 16 lowercase hex digits");
  }
  CHECK(m.mobile_provision({"", "5", "PHONE00000000001", "0000000000000000", "", "", ""}, &why).error->code == 40);
  CHECK(why == "no token has activation code 0000000000000000");
  CHECK(m.mobile_provision({"", "5", "PHONE00000000001", hex, "", "", ""}).token == "FTKMOB0000000043");
}

TEST_CASE("a reset that would give a token a code another token holds now is refused, and changes nothing") {
  // From a third trial: a mobile token reset took its scenario code back from the token that held it.
  const std::string code = "EEIBCEIRCEIRCEIR";
  const std::string hex = activation_code_for_phone(*parse_user_activation_code(code));
  model m(scenario_from(R"({"clock": {"now": "2026-01-01T00:00:00Z", "rate": 0}, "licenses": [
      {"activation_code": "AAAA-BBBB-CCCC-DDDD-0001", "bound_to": ["FG1"], "tokens": ["FTKMOB0000000006"]},
      {"activation_code": "AAAA-BBBB-CCCC-DDDD-0002", "bound_to": ["FG1"], "tokens": ["FTKMOB0000000043"]}],
    "mobile_tokens": [{"token": "FTKMOB0000000043", "activation_code": ")" +
                        code + R"("}]})"));
  auto provision = [&](const std::string& token, const std::string& given) {
    return m.provision(provision_request{device("FG1"), {provisioned_token{token, "", 0, "totp", 60, 6, given}}});
  };
  CHECK(provision("FTKMOB0000000006", hex).tokens[0].error->code == 40);         // the mobile token's
  REQUIRE_FALSE(provision("FTKMOB0000000043", "").tokens[0].error.has_value());  // a new code: its own is free
  REQUIRE_FALSE(provision("FTKMOB0000000006", hex).tokens[0].error.has_value());
  auto before = m.snapshot();
  for (auto [what, key] : {std::pair{model::reset_target::token, "FTKMOB0000000043"},
                           std::pair{model::reset_target::licence, "AAAA-BBBB-CCCC-DDDD-0002"}}) {
    std::string named = key;  // CAPTURE takes it by a lambda, which clang 14 does not let see a binding
    CAPTURE(named);
    auto done = m.reset_one(what, key);
    CHECK(done.outcome == model::reset_result::refused);
    CHECK(done.why == "FTKMOB0000000043's activation code at the start, " + code +
                          ", is token FTKMOB0000000006's now (a phone's code names one token): reset that token "
                          "first, or both at once (a licence or device they share, or everything)");
    CHECK(m.snapshot() == before);
  }
  // A reset of both gives it back (the device's licences), as does one after the holder's.
  CHECK(m.reset_one(model::reset_target::device, "FG1").outcome == model::reset_result::done);
  CHECK(m.mobile_provision({"", "5", "PHONE00000000001", hex, "", "", ""}).token == "FTKMOB0000000043");
  REQUIRE_FALSE(provision("FTKMOB0000000043", "").tokens[0].error.has_value());
  REQUIRE_FALSE(provision("FTKMOB0000000006", hex).tokens[0].error.has_value());
  CHECK(m.reset_one(model::reset_target::token, "FTKMOB0000000006").outcome == model::reset_result::done);
  CHECK(m.reset_one(model::reset_target::token, "FTKMOB0000000043").outcome == model::reset_result::done);
  CHECK(m.mobile_provision({"", "5", "PHONE00000000002", hex, "", "", ""}).token == "FTKMOB0000000043");
}

}  // TEST_SUITE
