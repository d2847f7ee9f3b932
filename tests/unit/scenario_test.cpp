// server/core/scenario: every shipped scenario loads; a bad one is refused with the file, the
// JSON path and the reason, every problem at once.
#include "server/core/scenario/scenario.hpp"

#include "protocol/bounded_json.hpp"
#include "protocol/seed_crypto.hpp"

#include "../support/fixtures.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <set>

using namespace fortisim::core;
using namespace fortisim::protocol;

namespace {

std::vector<problem> problems_of(const std::string& text) {
  auto r = parse_scenario(text, "bad.json");
  CHECK_FALSE(r.value.has_value());
  return r.problems;
}

bool has_problem(const std::vector<problem>& ps, const std::string& path, const std::string& words) {
  for (const auto& p : ps)
    if (p.path == path && p.reason.find(words) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_SUITE("scenario") {

TEST_CASE("every shipped scenario loads") {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(FORTISIM_SOURCE_DIR) + "/scenarios")) {
    if (entry.path().extension() != ".json" || entry.path().filename() == "schema.json") continue;
    auto r = load_scenario_file(entry.path().string());
    INFO(r.describe());
    CHECK(r.value.has_value());
    ++count;
  }
  CHECK(count >= 3);
}

TEST_CASE("a rule's operation is refused unless it is a known name or {\"any_of\": [known names]}") {
  auto ps = problems_of(R"({"rules": [
    {"when": {"operation": "poling"}, "then": {"action": "close"}},
    {"when": {"operation": {"any_of": ["polling", "import"]}}, "then": {"action": "close"}},
    {"when": {"operation": {"any_of": []}}, "then": {"action": "close"}},
    {"when": {"operation": {"one_of": ["polling"]}}, "then": {"action": "close"}}]})");
  CHECK(has_problem(ps, "$.rules[0].when.operation", "expected activation_license, polling"));
  CHECK(has_problem(ps, "$.rules[1].when.operation.any_of[1]", "expected activation_license, polling"));
  CHECK(has_problem(ps, "$.rules[2].when.operation", "{\"any_of\": [names]}"));
  CHECK(has_problem(ps, "$.rules[3].when.operation", "{\"any_of\": [names]}"));
}

TEST_CASE("comments are allowed and the name defaults to the file's") {
  auto r = parse_scenario("// a comment\n{ /* inline */ \"seed\": 7 }", "dir/my-lab.json");
  REQUIRE(r.value.has_value());
  CHECK(r.value->name == "my-lab");
  CHECK(r.value->seed == 7);
}

TEST_CASE("a bad scenario names the JSON path and the reason of every problem") {
  auto ps = problems_of(R"({
    "sede": 1,
    "licenses": [
      {"activation_code": "DA8C-0508-1F31-4CF7-C990", "valid_until": "yesterday"},
      {"activation_code": "nope", "tokens": ["FTKMOB1"]}
    ],
    "clock": {"rate": -1},
    "rules": [
      {"then": {"action": "explode"}},
      {"when": {"serial_number": "FG1"}, "then": {"action": "tls_alert"}},
      {"then": [{"action": "reset"}, {"action": "delay", "ms": 5}]},
      {"then": {"action": "error", "code": 777}},
      {"when": {"sni": {"regex": "("}}, "then": {"action": "tls_alert"}}
    ],
    "protocol": {"errors": {"no_such_error": {"code": 1}}}
  })");
  CHECK(has_problem(ps, "$.sede", "unknown key"));
  CHECK(has_problem(ps, "$.licenses[0].valid_until", "expected a date"));
  CHECK(has_problem(ps, "$.licenses[1].activation_code", "20 hex digits"));
  CHECK(has_problem(ps, "$.licenses[1].tokens[0]", "FTKMOB"));
  CHECK(has_problem(ps, "$.clock.rate", "expected a number"));
  CHECK(has_problem(ps, "$.rules[0].then.action", "unknown action"));
  CHECK(has_problem(ps, "$.rules[1].when.serial_number", "not known yet at the TLS stage"));
  CHECK(has_problem(ps, "$.rules[2].then", "mixes actions"));
  CHECK(has_problem(ps, "$.rules[3].then.code", "not in the catalogue"));
  CHECK(has_problem(ps, "$.rules[4].when.sni.regex", "regular expression"));
  CHECK(has_problem(ps, "$.protocol.errors.no_such_error", "unknown error name"));
  CHECK(ps.size() == 11);
}

TEST_CASE("dns.names extends the DNS responder's names, canonical, and a bad one is refused with its path") {
  auto r = parse_scenario(R"({"dns": {"names": ["Lab.Example.NET.", "other.lab"]}})", "lab.json");
  REQUIRE(r.value.has_value());
  CHECK(r.value->dns_names == std::vector<std::string>{"lab.example.net", "other.lab"});
  CHECK(parse_scenario("{}", "none.json").value->dns_names.empty());
  auto ps = problems_of(R"({"dns": {"names": ["ok.lab", 7, "a..b", "*.lab"], "ttl": 60}})");
  CHECK(has_problem(ps, "$.dns.names[1]", "expected a host name"));
  CHECK(has_problem(ps, "$.dns.names[2]", "expected a host name"));
  CHECK(has_problem(ps, "$.dns.names[3]", "expected a host name"));
  CHECK(has_problem(ps, "$.dns.ttl", "unknown key"));
  CHECK(ps.size() == 4);
  CHECK(has_problem(problems_of(R"({"dns": {"names": "lab.example.net"}})"), "$.dns.names", "expected an array"));
  CHECK(has_problem(problems_of(R"({"dns": ["lab.example.net"]})"), "$.dns", "expected an object"));
}

TEST_CASE("tls.ocsp per scenario and per host, host names compared without case, typos refused with the closest key") {
  auto r = parse_scenario(
      R"({"tls": {"ocsp": "unknown", "hosts": {"FDS1.fortinet.com.": {"ocsp": "revoked"}, "push.fortinet.com": {}}}})",
      "lab.json");
  REQUIRE(r.value.has_value());
  const auto& tls = r.value->tls;
  CHECK(tls.ocsp == ocsp_status::unknown);
  CHECK(tls.ocsp_for("fds1.fortinet.com") == ocsp_status::revoked);
  CHECK(tls.ocsp_for("Fds1.Fortinet.Com") == ocsp_status::revoked);
  CHECK(tls.ocsp_for("push.fortinet.com") == ocsp_status::unknown);  // listed without a status: the default
  CHECK(tls.ocsp_for("") == ocsp_status::unknown);                   // no SNI
  CHECK(parse_scenario("{}", "none.json").value->tls.ocsp_for("fds1.fortinet.com") == ocsp_status::good);
  CHECK(parse_scenario(R"({"tls": {"ocsp": "none"}})", "none.json").value->tls.ocsp == ocsp_status::none);

  auto ps = problems_of(R"({"tls": {"oscp": "good", "ocsp": "fine", "hosts": {
      "a..b": {"ocsp": "good"}, "x.lab": {"ocsp": "revoked", "stapled": true}, "X.LAB": {"ocsp": "good"}}}})");
  CHECK(has_problem(ps, "$.tls.oscp", "did you mean \"ocsp\""));
  CHECK(has_problem(ps, "$.tls.ocsp", "expected \"good\", \"revoked\", \"unknown\" or \"none\""));
  CHECK(has_problem(ps, R"($.tls.hosts["a..b"])", "expected a host name"));
  CHECK(has_problem(ps, R"($.tls.hosts["x.lab"].stapled)", "unknown key"));
  CHECK(has_problem(ps, R"($.tls.hosts["X.LAB"])", "declared twice"));
  CHECK(ps.size() == 5);
  CHECK(has_problem(problems_of(R"({"tls": {"hosts": []}})"), "$.tls.hosts", "expected an object"));
  CHECK(has_problem(problems_of(R"({"tsl": {}})"), "$.tsl", "did you mean \"tls\""));
}

TEST_CASE("no two licences share a code (in any case), a serial or a token: a state holding them would not read back") {
  auto ps = problems_of(R"({"licenses": [
      {"activation_code": "AAAA-0000-0000-0000-000A", "license": "EFTM000000000001", "tokens": ["FTKMOB0000000001"]},
      {"activation_code": "aaaa-0000-0000-0000-000a"},
      {"activation_code": "AAAA-0000-0000-0000-0002", "license": "EFTM000000000001"},
      {"activation_code": "AAAA-0000-0000-0000-0003", "tokens": ["FTKMOB0000000002", {"token": "FTKMOB0000000001"}]}]})");
  CHECK(has_problem(ps, "$.licenses[1].activation_code",
                    "AAAA-0000-0000-0000-000A is declared at $.licenses[0].activation_code too"));
  CHECK(has_problem(ps, "$.licenses[2].license", "EFTM000000000001 is declared at $.licenses[0].license too"));
  CHECK(has_problem(ps, "$.licenses[3].tokens[1]", "FTKMOB0000000001 is declared at $.licenses[0].tokens[0] too"));
  CHECK(ps.size() == 3);
}

TEST_CASE("no two tokens pin one code, whatever its period: the phone's code names one token") {
  // From an attacker's trial: two pins of one code validated, and the phone got the second token.
  auto ps = problems_of(R"({"licenses": [
      {"activation_code": "AAAA-0000-0000-0000-0001", "tokens": [{"token": "FTKMOB0000000001", "activation_code": "EEIAI6ZLEYIRKOYV"}]},
      {"activation_code": "AAAA-0000-0000-0000-0002", "tokens": ["FTKMOB0000000002",
        {"token": "FTKMOB0000000003", "activation_code": "eeaai6zleyirkoyv"}]}]})");
  CHECK(has_problem(ps, "$.licenses[1].tokens[1].activation_code",
                    "gives the code that $.licenses[0].tokens[0].activation_code gives too"));
  CHECK(ps.size() == 1);
}

TEST_CASE("a mobile token's code is no other token's: not another mobile token's, not a pin") {
  // From a second trial: two mobile_tokens with one code both held it, and the phone got the second.
  auto ps = problems_of(R"({"licenses": [{"activation_code": "AAAA-0000-0000-0000-0001", "bound_to": ["FG1"],
      "tokens": [{"token": "FTKMOB0000000001", "activation_code": "EEIAI6ZLEYIRKOYV"}]}],
    "mobile_tokens": [
      {"token": "FTKMOB0000000042", "activation_code": "EEAAI6ZLEYIRKOYV", "period": 30},
      {"token": "FTKMOB0000000043", "activation_code": "EEIBCEIRCEIRCEIR"},
      {"token": "FTKMOB0000000044", "activation_code": "eeibceirceirceir"},
      {"token": "FTKMOB0000000001", "activation_code": "EEIAI6ZLEYIRKOYV"}]})");
  CHECK(has_problem(ps, "$.mobile_tokens[0].activation_code",
                    "gives the code that $.licenses[0].tokens[0].activation_code gives too"));
  CHECK(has_problem(ps, "$.mobile_tokens[2].activation_code",
                    "gives the code that $.mobile_tokens[1].activation_code gives too"));
  CHECK(ps.size() == 2);  // the pinned token's own entry may give it its pinned code
}

TEST_CASE("a mobile token's derived code is no code the scenario gives another token") {
  // From a third trial: with seed 7, FTKMOB0000000009's derived code is the one this file pins on
  // FTKMOB0000000001 (read from the derivation, then written here on purpose), and both held it.
  auto derived = derive_bytes(7, "activation:FTKMOB0000000009", 8);
  activation_bytes bytes{};
  std::copy(derived.begin(), derived.end(), bytes.begin());
  const std::string code = activation_code_for_user(bytes, 30);
  auto ps = problems_of(R"({"seed": 7, "licenses": [{"activation_code": "AAAA-0000-0000-0000-0001",
      "tokens": [{"token": "FTKMOB0000000001", "activation_code": ")" +
                        code + R"("}]}],
    "mobile_tokens": [{"token": "FTKMOB0000000009", "period": 30}, {"token": "FTKMOB0000000010"}]})");
  CHECK(has_problem(ps, "$.mobile_tokens[0].token",
                    "FTKMOB0000000009's derived activation code " + code +
                        " is the code that $.licenses[0].tokens[0].activation_code gives"));
  CHECK(ps.size() == 1);
  auto other_seed = parse_scenario(R"({"seed": 8, "licenses": [{"activation_code": "AAAA-0000-0000-0000-0001",
      "tokens": [{"token": "FTKMOB0000000001", "activation_code": ")" +
                                       code + R"("}]}],
    "mobile_tokens": [{"token": "FTKMOB0000000009"}]})",
                                   "good.json");
  CHECK(other_seed.describe() == "");
}

TEST_CASE("a mobile token's code announces its period: one that says another is refused, not rewritten") {
  // From a new user's trial: EEA… (30 s) on a 60-second token was shown as EEI…, and a phone
  // given the code as written showed OTPs the server did not take.
  auto ps = problems_of(R"({"mobile_tokens": [
      {"token": "FTKMOB0000000001", "activation_code": "EEAKDMWD2TS7MBYA"},
      {"token": "FTKMOB0000000002", "activation_code": "EEIBCEIRCEIRCEIR", "period": 30},
      {"token": "FTKMOB0000000003", "activation_code": "EEABCEIRCEIRCEIA", "period": 30},
      {"token": "FTKMOB0000000004", "activation_code": "eeibceirceirceiq", "period": 45}]})");
  CHECK(has_problem(ps, "$.mobile_tokens[0].activation_code",
                    "announces a period of 30 s (its second byte), and the token's \"period\" is 60: give the code "
                    "EEIKDMWD2TS7MBYA, or \"period\": 30"));
  CHECK(has_problem(ps, "$.mobile_tokens[1].activation_code",
                    "announces a period of 60 s (its second byte), and the token's \"period\" is 30: give the code "
                    "EEABCEIRCEIRCEIR, or \"period\": 60"));
  CHECK(ps.size() == 2);
}

TEST_CASE("a code that is not a user's says what it is, and a phone's hex form what its user's code is") {
  // From an attacker's trial: 17 characters, or trailing "=", passed, the rest dropped.
  auto ps = problems_of(R"({"licenses": [{"activation_code": "AAAA-0000-0000-0000-0001", "tokens": [
      {"token": "FTKMOB0000000001", "activation_code": "EEIBCEIRCEIRCEI0"},
      {"token": "FTKMOB0000000002", "activation_code": "1122334455667788"},
      {"token": "FTKMOB0000000003", "activation_code": "EEIAI6ZLEYIRKOYVB"},
      {"token": "FTKMOB0000000004", "activation_code": "EEIAI6ZLEYIRKOYV=="}]}]})");
  CHECK(has_problem(ps, "$.licenses[0].tokens[2].activation_code", "\"EEIAI6ZLEYIRKOYVB\": expected 16 base32"));
  CHECK(has_problem(ps, "$.licenses[0].tokens[3].activation_code", "\"EEIAI6ZLEYIRKOYV==\": expected 16 base32"));
  CHECK(has_problem(ps, "$.licenses[0].tokens[0].activation_code",
                    "\"EEIBCEIRCEIRCEI0\": expected 16 base32 characters (A-Z, 2-7) starting with \"EE\""));
  CHECK(has_problem(ps, "$.licenses[0].tokens[1].activation_code",
                    "that is the phone's hex form, whose user's code is " +
                        activation_code_for_user(*parse_phone_activation_code("1122334455667788"))));
  CHECK(ps.size() == 4);
}

TEST_CASE("a given code's period byte is 0x10 (60 s) or 0x00 (30 s)") {
  // From a new user's trial: "EEYA…" (period byte 0x30) passed, and the message named 0x10|0x00.
  auto ps = problems_of(R"({"licenses": [{"activation_code": "AAAA-0000-0000-0000-0001",
      "tokens": [{"token": "FTKMOB0000000001", "activation_code": "EEYAI6ZLEYIRKOYV"}]}]})");
  CHECK(has_problem(ps, "$.licenses[0].tokens[0].activation_code",
                    "its second byte, the period's, is 0x30: expected 0x10 (60 s) or 0x00 (30 s)"));
  CHECK(ps.size() == 1);
}

TEST_CASE("a token is declared once, and a mobile token's licence is the redeemed one that lists it") {
  // From a new user's trial: each of these passed, and a state holding the token (with a licence
  // that does not list it) was refused when the server restarted on it.
  auto ps = problems_of(R"({"licenses": [
      {"activation_code": "AAAA-0000-0000-0000-0001", "license": "EFTM000000000001", "tokens": ["FTKMOB0000000001"],
       "bound_to": ["FG100F0000000001"]},
      {"activation_code": "AAAA-0000-0000-0000-0002", "tokens": ["FTKMOB0000000002"]},
      {"activation_code": "AAAA-0000-0000-0000-0003", "tokens": ["FTKMOB0000000003"], "bound_to": ["FG1"]}],
    "mobile_tokens": [{"token": "FTKMOB0000000001", "license": "EFTM000000000001"},
                      {"token": "FTKMOB0000000002"}, {"token": "FTKMOB0000000003", "license": "EFTM000000000003"},
                      {"token": "FTKMOB0000000009", "license": "EFTM000000000001"},
                      {"token": "FTKMOB0000000008"}, {"token": "FTKMOB0000000008"}],
    "hardware_tokens": [{"token": "FTK2000000000001"}, {"token": "FTK2000000000001"}]})");
  CHECK(has_problem(ps, "$.mobile_tokens[1].token", "$.licenses[1] lists it and is not redeemed"));
  CHECK(has_problem(ps, "$.mobile_tokens[1].token", "give that licence a bound_to, or drop this entry"));
  CHECK(has_problem(ps, "$.mobile_tokens[2].license",
                    "the token is $.licenses[2]'s: expected no \"license\" (that licence's serial is derived)"));
  CHECK(has_problem(ps, "$.mobile_tokens[3].license", "no licence lists FTKMOB0000000009 among its tokens"));
  CHECK(has_problem(ps, "$.mobile_tokens[5].token", "FTKMOB0000000008 is declared at $.mobile_tokens[4].token too"));
  CHECK(
      has_problem(ps, "$.hardware_tokens[1].token", "FTK2000000000001 is declared at $.hardware_tokens[0].token too"));
  CHECK(ps.size() == 5);
  // The first is valid: a redeemed licence's token with the details the phone sees.
  auto good =
      parse_scenario(R"({"licenses": [{"activation_code": "AAAA-0000-0000-0000-0001", "tokens": ["FTKMOB0000000001"],
                                               "bound_to": ["FG1"]}],
                                 "mobile_tokens": [{"token": "FTKMOB0000000001", "mobile_id": "0123456789abcdef"}]})",
                     "good.json");
  CHECK(good.describe() == "");
}

TEST_CASE("invalid JSON is refused with its position") {
  auto ps = problems_of("{\n  \"seed\": 1,\n}");
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].path == "$");
  CHECK(ps[0].reason.find("line 3") != std::string::npos);
  auto r = parse_scenario("{", "x.json");
  CHECK(r.describe().starts_with("x.json: $: not valid JSON"));
}

TEST_CASE("a key given twice in one object is refused with its path, not kept last silently") {
  // A world that lists its licences twice would otherwise serve the second list alone.
  auto top = problems_of(R"({"seed": 1, "licenses": [], "seed": 2})");
  REQUIRE(top.size() == 1);
  CHECK(top[0].path == "$.seed");
  CHECK(top[0].reason.starts_with("given twice in one object"));
  // Inside an array of objects, after a nested array and object: the path counts the elements.
  auto deep = problems_of(R"({"licenses": [{"activation_code": "AAAA-0000-0000-0000-0001", "tokens": ["A", {"x": 1}]},
                                          {"tokens": [], "bound_to": ["FG1"], "tokens": []}]})");
  REQUIRE_FALSE(deep.empty());  // the keys given twice come first, then what else is wrong
  CHECK(deep[0].path == "$.licenses[1].tokens");
  CHECK(deep[0].reason.starts_with("given twice"));
  auto r = parse_scenario(R"({"rules": [{"when": {"type": "x", "type": "y"}}]})", "x.json");
  CHECK(r.describe().starts_with(
      "x.json: $.rules[0].when.type: given twice in one object (JSON would keep the last one silently)\n"));
  // The same key in two objects, and in an object and its child, is no duplicate.
  auto same_names = problems_of(R"({"clock": {"rate": 0}, "tls": {"x": {"rate": 1}, "rate": 2}})");
  REQUIRE_FALSE(same_names.empty());  // the unknown keys under tls: the file was parsed and checked
  for (const auto& p : same_names) CHECK_FALSE(p.reason.starts_with("given twice"));
}

TEST_CASE("keys given twice are listed with every other problem of the file") {
  auto ps = problems_of(R"({"seed": "x", "name": "a", "name": "b",
                            "rules": [{"then": {"action": "explode"}}, {"when": {"operation": "polling", "operation": "x"}}]})");
  std::vector<std::string> paths;
  for (const auto& p : ps) paths.push_back(p.path);
  CHECK(std::count(paths.begin(), paths.end(), "$.name") == 1);
  CHECK(std::count(paths.begin(), paths.end(), "$.rules[1].when.operation") == 2);  // twice, and "x" is no operation
  CHECK(std::count(paths.begin(), paths.end(), "$.seed") == 1);                     // not an integer
  CHECK(std::count(paths.begin(), paths.end(), "$.rules[0].then.action") == 1);     // no such action
  // Syntax after a key given twice: both are said.
  auto cut = problems_of(R"({"name": "a", "name": "b", )");
  REQUIRE(cut.size() == 2);
  CHECK(cut[0].path == "$.name");
  CHECK(cut[1].reason.starts_with("not valid JSON: parse error at line 1"));  // no "[json.exception…]"
}

TEST_CASE("a key that is not a plain word is quoted in a path, escaped and shortened") {
  CHECK(fortisim::protocol::json_path_key("name") == ".name");
  CHECK(fortisim::protocol::json_path_key("x-forwarded-for") == ".x-forwarded-for");
  CHECK(fortisim::protocol::json_path_key("a.b") == "[\"a.b\"]");
  CHECK(fortisim::protocol::json_path_key("") == "[\"\"]");
  CHECK(fortisim::protocol::json_path_key("0day") == "[\"0day\"]");
  CHECK(fortisim::protocol::json_path_key("a\nb\x1b[31m") == "[\"a\\nb\\u001b[31m\"]");
  CHECK(fortisim::protocol::json_path_key(std::string(100, 'k')) == "[\"" + std::string(64, 'k') + "…\"]");
  CHECK(fortisim::protocol::json_path_key(std::string(63, 'k') + "é") ==
        "[\"" + std::string(63, 'k') + "…\"]");  // never half a character
  // In a file: a key with a line break stays one problem on one line.
  auto ps = problems_of(
      "{\"rules\": [{\"when\": {\"fields\": {\"a\\nb\": \"x\", \"a\\nb\": \"y\"}}, \"then\": {\"action\": "
      "\"close\"}}]}");
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].path == "$.rules[0].when.fields[\"a\\nb\"]");
  auto unknown = problems_of(R"({"a.b": 1})");
  REQUIRE(unknown.size() == 1);
  CHECK(unknown[0].path == "$[\"a.b\"]");
}

TEST_CASE("an object of more than 256 keys is refused with its path") {
  std::string body = "{";
  for (int i = 0; i < 257; ++i) body += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  body += "}";
  auto ps = problems_of(R"({"rules": [{"then": {"action": "reply", "body": )" + body + "}}]}");
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].path == "$.rules[0].then.body");
  CHECK(ps[0].reason == "an object of more than 256 keys");
}

TEST_CASE("a number out of range is refused like any invalid JSON (found by fuzzing)") {
  auto ps = problems_of(R"({"seed": 1e999})");
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].reason.find("number overflow") != std::string::npos);
}

TEST_CASE("a missing file is refused with the file") {
  auto r = load_scenario_file("/nonexistent/scenario.json");
  CHECK(r.describe().find("/nonexistent/scenario.json: $: cannot read") == 0);
}

TEST_CASE("protocol overrides renumber errors and rename messages") {
  auto r = parse_scenario(R"({"protocol": {
      "errors": {"hardware_lock_consumed": {"code": 23, "message": "seed already delivered"}},
      "types": {"hardware_activation": {"request": "SoftToken.FTKActivateRequest", "response": "SoftToken.FTKActivateResponse"}}},
    "rules": [{"then": {"action": "error", "code": "hardware_lock_consumed"}}]})",
                          "x");
  REQUIRE(r.value.has_value());
  const auto& s = *r.value;
  CHECK(s.errors[fortisim::protocol::error_id::hardware_lock_consumed].code == 23);
  CHECK(s.names.find("SoftToken.FTKActivateRequest") == fortisim::protocol::operation::hardware_activation);
  CHECK_FALSE(s.names.find("SoftToken.HardwareActivationRequest").has_value());
  CHECK(std::get<fortisim::core::faults::error>(s.rules[0].then[0].what).top->code ==
        23);  // rules resolve against the overridden table
}

TEST_CASE("http: IIS's headers by default, then each one added, replaced or removed, and nothing fortisim writes") {
  CHECK(parse_scenario("{}", "x").value->http_headers ==
        "Cache-Control: private\r\nServer: Microsoft-IIS/10.0\r\nX-AspNet-Version: 4.0.30319\r\nX-Powered-By: "
        "ASP.NET\r\n");
  auto r =
      parse_scenario(R"({"http": {"headers": {"server": "Apache", "X-Powered-By": null, "X-Lab": "bench 3"}}})", "x");
  REQUIRE(r.value.has_value());
  CHECK(r.value->http_headers ==
        "Cache-Control: private\r\nX-AspNet-Version: 4.0.30319\r\nserver: Apache\r\nX-Lab: bench 3\r\n");
  CHECK(parse_scenario(R"({"http": {"iis_headers": false}})", "x").value->http_headers.empty());
  auto bad = problems_of(
      R"({"http": {"iis_headers": "no", "headers": {"Date": "x", "X Bad": "y", "X-Split": "a\r\nInjected: 1", "X-Num": 5}}})");
  CHECK(has_problem(bad, "$.http.iis_headers", ""));
  CHECK(has_problem(bad, "$.http.headers.Date", "writes Date itself"));
  CHECK(has_problem(bad, "$.http.headers[\"X Bad\"]", "header name"));  // not a plain word: quoted
  CHECK(has_problem(bad, "$.http.headers.X-Split", "no line break"));
  CHECK(has_problem(bad, "$.http.headers.X-Num", "header value"));
  // Found by an attack run: names in two cases, framing headers, a reply grown without bound, a
  // line break in a name that made one problem read as two, a content type carrying header lines.
  bad = problems_of(R"({"http": {"headers": {"X-A": "1", "x-a": "2", "Upgrade": "h2c", "content-encoding": "gzip",
                                             "X\nFake: 1": "v"}},
                       "rules": [{"then": {"action": "status", "status": 200, "content_type": "a\r\nX-Inj: 1"}}]})");
  CHECK(has_problem(bad, "$.http.headers.x-a", "given twice: also as \"X-A\""));
  CHECK(has_problem(bad, "$.http.headers.Upgrade", "would change how clients read the reply"));
  CHECK(has_problem(bad, "$.http.headers.content-encoding", "would change how clients read the reply"));
  CHECK(has_problem(bad, "$.http.headers[\"X\\nFake: 1\"]", "header name"));
  CHECK(has_problem(bad, "$.rules[0].then.content_type", "no line break"));
  std::string many = R"({"http": {"headers": {)";
  for (int i = 0; i < 61; ++i) many += (i ? "," : "") + std::string(R"("X-)") + std::to_string(i) + R"(": "v")";
  CHECK(has_problem(problems_of(many + "}}}"), "$.http.headers", "at most 64 headers"));
  // A syntax error shows where, not the text it stopped at (an unquoted secret, say).
  auto typo = problems_of(R"({"mobile_tokens": [{"secret": 5555555555555555555555555555555555555555a}]})");
  REQUIRE(typo.size() == 1);
  CHECK(typo[0].reason.find("column") != std::string::npos);
  CHECK(typo[0].reason.find("5555") == std::string::npos);
}

TEST_CASE("a rule's own headers: added, replaced or removed on its replies, checked as the scenario's are") {
  auto r = parse_scenario(R"({"rules": [{"name": "busy", "then": {"action": "status", "status": 503},
                                         "headers": {"Retry-After": "120", "server": null}}],
                              "http": {"case_insensitive_paths": false}})",
                          "x");
  REQUIRE(r.value.has_value());
  const auto& edits = r.value->rules[0].headers;
  REQUIRE(edits.size() == 2);
  CHECK(edited_headers(r.value->http_headers, edits) ==
        "Cache-Control: private\r\nX-AspNet-Version: 4.0.30319\r\nX-Powered-By: ASP.NET\r\nRetry-After: 120\r\n");
  CHECK_FALSE(r.value->case_insensitive_paths);
  CHECK(parse_scenario("{}", "x").value->case_insensitive_paths);
  std::string many = R"({"rules": [{"then": {"action": "pass"}, "headers": {)";
  for (int i = 0; i < 17; ++i) many += (i ? "," : "") + std::string(R"("X-)") + std::to_string(i) + R"(": "v")";
  CHECK(has_problem(problems_of(many + "}}]}"), "$.rules[0].headers", "at most 16 headers"));
  auto bad = problems_of(R"({"rules": [
    {"name": "early", "when": {"connection": 1}, "then": {"action": "reset"}, "headers": {"X-A": "1"}},
    {"name": "framing", "then": {"action": "pass"}, "headers": {"Content-Length": "5", "X-Long": ")" +
                         std::string(1020, 'v') + R"(", "X-Long2": ")" + std::string(1020, 'v') + R"("}}]})");
  CHECK(has_problem(bad, "$.rules[0].headers", "only a rule acting at the HTTP stage"));
  CHECK(has_problem(bad, "$.rules[1].headers.Content-Length", "writes Content-Length itself"));
  CHECK(has_problem(bad, "$.rules[1].headers", "at most 2048 bytes of headers in a rule"));
  CHECK(
      has_problem(problems_of(R"({"http": {"case_insensitive_paths": "yes"}})"), "$.http.case_insensitive_paths", ""));
}

TEST_CASE("DNS rules: a rule that tests the query or plays a dns_ action acts at the DNS stage, and only there") {
  auto r = parse_scenario(R"({"rules": [
    {"name": "gone", "when": {"qname": "FDS1.Fortinet.com.", "qtype": "aaaa"}, "then": {"action": "dns_nxdomain"}},
    {"name": "all", "then": [{"action": "dns_delay", "ms": 200}, {"action": "pass"}]},
    {"name": "elsewhere", "when": {"qname": {"suffix": ".Lab"}}, "then": {"action": "dns_answer", "a": "192.0.2.9"}},
    {"name": "counted", "when": {"client_address": "10.0.0.1", "query": {"every": 3}}, "then": {"action": "dns_drop"}}]})",
                          "x");
  REQUIRE(r.value.has_value());
  const auto& rules = r.value->rules;
  for (const auto& rule : rules) CHECK(rule.stage == stage::dns);
  CHECK(rules[0].when.qname->value() == "fds1.fortinet.com");  // names compare in lower case, no trailing dot
  CHECK(rules[0].when.qtype->value() == "AAAA");
  CHECK(rules[2].when.qname->value() == ".lab");
  CHECK(std::get<faults::dns_answer>(rules[2].then[0].what).a == "192.0.2.9");
  CHECK(std::get<faults::dns_delay>(rules[1].then[0].what).ms == 200);
  CHECK(rules[3].when.query->every == 3);
  auto bad = problems_of(R"({"rules": [
    {"name": "http action", "when": {"qname": "x.lab"}, "then": {"action": "status", "status": 500}},
    {"name": "http test", "when": {"operation": "polling"}, "then": {"action": "dns_servfail"}},
    {"name": "mixed", "then": [{"action": "dns_servfail"}, {"action": "reset"}]},
    {"name": "no address", "then": {"action": "dns_answer"}},
    {"name": "bad address", "then": {"action": "dns_answer", "a": "2001:db8::1", "aaaa": "192.0.2.1"}},
    {"name": "long", "then": {"action": "dns_delay", "ms": 60001}},
    {"name": "headers", "then": {"action": "dns_drop"}, "headers": {"X-A": "1"}},
    {"name": "wildcard", "when": {"qname": "*.fortinet.com"}, "then": {"action": "dns_drop"}},
    {"name": "space", "when": {"qname": {"any_of": ["Has Space.lab"]}}, "then": {"action": "dns_drop"}},
    {"name": "typo", "when": {"qtype": "AAAAA"}, "then": {"action": "dns_drop"}},
    {"name": "number", "when": {"qtype": "TYPE28"}, "then": {"action": "dns_drop"}},
    {"name": "pattern", "when": {"qtype": {"regex": "txt"}}, "then": {"action": "dns_drop"}}]})");
  CHECK(has_problem(bad, "$.rules[0].when.qname", "tests a DNS query"));
  CHECK(has_problem(bad, "$.rules[1].when.operation", "is not known to a DNS query"));
  CHECK(has_problem(bad, "$.rules[2].then", "mixes actions of different stages"));
  CHECK(has_problem(bad, "$.rules[3].then", "needs \"a\" or \"aaaa\""));
  CHECK(has_problem(bad, "$.rules[4].then.a", "IPv4"));
  CHECK(has_problem(bad, "$.rules[4].then.aaaa", "IPv6"));
  CHECK(has_problem(bad, "$.rules[5].then.ms", ""));
  CHECK(has_problem(bad, "$.rules[6].headers", "only a rule acting at the HTTP stage"));
  CHECK(has_problem(bad, "$.rules[7].when.qname", "no wildcards"));
  CHECK(has_problem(bad, "$.rules[8].when.qname.any_of[0]", "expected a host name"));
  CHECK(has_problem(bad, "$.rules[9].when.qtype", "expected a query type"));
  CHECK(has_problem(bad, "$.rules[10].when.qtype", "say AAAA: write that"));
  CHECK(has_problem(bad, "$.rules[11].when.qtype", "or {\"any_of\""));
  auto quiet = problems_of(R"({"name": ")" + std::string(129, 'n') + R"(", "rules": [
    {"name": "closed", "when": {"operation": "polling"}, "then": {"action": "close"}, "headers": {"X-A": "1"}},
    {"name": "tab", "then": {"action": "pass"}, "headers": {"X-A": "a\tb\t"}}]})");
  CHECK(has_problem(quiet, "$.name", "at most 128"));
  CHECK(has_problem(quiet, "$.rules[0].headers", "none of this rule's actions sends a reply"));
  CHECK(has_problem(quiet, "$.rules[1].headers.X-A", "header value"));
  auto any =
      parse_scenario(R"({"rules": [{"when": {"qname": {"any_of": ["A.Lab."]}, "qtype": {"any_of": ["mx", "TYPE65280"]}},
                                             "then": {"action": "dns_drop"}}]})",
                     "x");
  REQUIRE(any.value.has_value());
  CHECK(any.value->rules[0].when.qname->matches("a.lab"));  // any_of in lower case, no trailing dot
  CHECK(any.value->rules[0].when.qtype->matches("MX"));
  CHECK(any.value->rules[0].when.qtype->matches("TYPE65280"));
}

TEST_CASE("times parse as dates, RFC 3339 UTC times, or unix seconds") {
  using fortisim::protocol::json;
  CHECK(parse_time(json("1970-01-02")) == 86400);
  CHECK(parse_time(json("2020-01-01T00:00:10Z")) == 1577836810);
  CHECK(parse_time(json(5)) == 5);
  CHECK_FALSE(parse_time(json("2020-01-01 00:00")).has_value());
  // A day the month does not have is refused, not rolled over (from a trial: 2023-02-29 was 03-01).
  CHECK(parse_time(json("2024-02-29")) == 1709164800);
  for (const char* no_such_day :
       {"2023-02-29", "2023-02-29T00:00:00Z", "9999-02-30T00:00:00Z", "2023-04-31", "2023-06-31"})
    CHECK_FALSE(parse_time(json(no_such_day)).has_value());
  CHECK(parse_time(json("9999-12-31T23:59:59Z")) == fortisim::core::last_time_s);
}

}  // TEST_SUITE

TEST_SUITE("scenario") {

TEST_CASE("the published schema has one entry per fault, and no other") {
  auto schema = fortisim::protocol::json::parse(
      fortisim::test::read_file(std::string(FORTISIM_SOURCE_DIR) + "/scenarios/schema.json"));
  std::set<std::string> in_schema, in_code;
  for (const auto& [key, value] : schema["definitions"].items())
    if (key.starts_with("fault_")) in_schema.insert(key.substr(6));
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (in_code.insert(std::string(std::variant_alternative_t<I, fault>::name)), ...);
  }
  (std::make_index_sequence<std::variant_size_v<fault>>{});
  CHECK(in_schema == in_code);
  CHECK(schema["definitions"]["action"]["oneOf"].size() == in_code.size());
  // protocol.errors takes exactly the catalogue's names.
  std::string names;
  for (const auto& e : fortisim::protocol::error_catalogue()) names += (names.empty() ? "" : "|") + std::string(e.name);
  CHECK(schema["properties"]["protocol"]["properties"]["errors"]["patternProperties"].contains("^(" + names + ")$"));
}

}  // TEST_SUITE

TEST_SUITE("scenario") {

TEST_CASE("a misspelt key anywhere, `when` included, is a problem that names the closest known key") {
  auto ps = problems_of(R"({"rules": [
    {"when": {"licence_activation_code": "X", "opration": "polling"}, "then": {"action": "close"}},
    {"when": {"fields": {"anything": "goes"}}, "then": {"actoin": "close"}},
    {"when": {"sni": "a"}, "then": {"action": "tls_alrt"}}],
    "licenses": [{"activation_code": "DA8C-0508-1F31-4CF7-C990", "valid_untill": "2026-01-01"}]})");
  CHECK(has_problem(ps, "$.rules[0].when.licence_activation_code", "did you mean \"license_activation_code\""));
  CHECK(has_problem(ps, "$.rules[0].when.opration", "did you mean \"operation\""));
  CHECK(has_problem(ps, "$.rules[1].then.action", "missing"));
  CHECK(has_problem(ps, "$.rules[2].then.action", "did you mean \"tls_alert\""));
  CHECK(has_problem(ps, "$.licenses[0].valid_untill", "did you mean \"valid_until\""));
}

TEST_CASE("every rule has a name: a generated one from its place, and two rules never share one") {
  auto r = parse_scenario(R"({"rules": [{"name": "a", "then": {"action": "close"}}, {"then": {"action": "close"}}]})",
                          "lab.json");
  REQUIRE(r.value.has_value());
  CHECK(r.value->rules[0].name == "a");
  CHECK(r.value->rules[1].name == "rule [1]");
  auto ps = problems_of(R"({"rules": [{"name": "a", "then": {"action": "close"}},
    {"name": "b", "then": {"action": "close"}}, {"name": "a", "then": {"action": "close"}},
    {"name": "rule [4]", "then": {"action": "close"}}, {"then": {"action": "close"}}]})");
  REQUIRE(ps.size() == 2);
  CHECK(has_problem(ps, "$.rules[2].name", "\"a\" is the name of $.rules[0] too"));
  CHECK(has_problem(ps, "$.rules[4]", "\"rule [4]\" is the name of $.rules[3] too"));
}

}  // TEST_SUITE
