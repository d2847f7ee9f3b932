// The in-process fixture another project's C++ tests use (fixture/fixture.hpp), driven by the
// client library (client/operations.hpp) as such a project would, through its public API only:
// start from text or a file on 127.0.0.1:0, trust its CA, import, and every control call: the
// journal (typed, filtered, counted, waited on), rules, reset (whole and per item), the clock,
// the listener, locks, OTPs, reload, another scenario, status, devices, stop.
#include "fixture/fixture.hpp"
#include "../support/temp_folder.hpp"
#include "client/operations.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <unistd.h>

using namespace fortisim;
using namespace std::chrono_literals;

namespace {

/// One expired licence, every other code accepted; a phone token with RFC 6238's secret; a
/// consumed hardware lock. The clock stands still (rate 0), so times and OTPs are exact.
const char* world = R"({"name": "fixture", "seed": 5, "unknown_codes": {"answer": "accept"},
  "clock": {"now": "2026-03-01T09:00:00Z", "rate": 0},
  "licenses": [{"activation_code": "DA8C-0508-1F31-4CF7-C990", "valid_until": "2020-01-01"}],
  "mobile_tokens": [{"token": "FTKMOB0000000042", "secret": "3132333435363738393031323334353637383930",
                     "digits": 6, "period": 30}],
  "hardware_tokens": [{"token": "FTK2000000000001", "lock": "consumed", "activated_by": "FG100F0000000099"}]})";

const std::string expired_code = "DA8C-0508-1F31-4CF7-C990";
const std::string other_code = "1234-5678-9ABC-DEF0-1234";
const clock_time scenario_start = std::chrono::sys_days{std::chrono::March / 1 / 2026} + 9h;

client::connection_options to(const fixture& fx) {
  client::connection_options o;
  o.port = fx.port();
  o.cacert = fx.ca_path();
  o.timeout = std::chrono::seconds(5);
  return o;
}

/// The error code of a licence import of `code` through the fixture (by FortiGate `serial`), 0 for none.
int import_error(const fixture& fx, const std::string& code, const std::string& serial = client::device{}.serial) {
  client::device fortigate;
  fortigate.serial = serial;
  auto x = client::import_licence(to(fx), fortigate, code);
  REQUIRE(x.reply.has_value());
  const auto& r = std::get<protocol::activation_license_response>(*x.reply);
  return r.error ? r.error->code : 0;
}

/// The seed a hardware activation of `token` gets, "" when refused.
std::string activation_seed(const fixture& fx, const std::string& token) {
  auto x = client::activate(to(fx), client::device{}, {token});
  REQUIRE(x.reply.has_value());
  const auto& r = std::get<protocol::hardware_activation_response>(*x.reply);
  REQUIRE(r.tokens.size() == 1);
  return r.tokens[0].seed;
}

/// The message of the std::invalid_argument `f` throws; "" when it throws none.
template <class F>
std::string refusal(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("fixture") {

TEST_CASE("fixture: serves from text on 127.0.0.1:0 with its own CA, and stop() removes its folder") {
  fixture fx(scenario_text{world});
  CHECK(fx.port() != 0);
  CHECK(fx.address() == "127.0.0.1:" + std::to_string(fx.port()));
  CHECK(fx.admin_address().has_value());
  CHECK(fx.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
  std::string folder = std::filesystem::path(fx.ca_path()).parent_path();
  CHECK(std::filesystem::exists(folder));
  CHECK(import_error(fx, expired_code) == 14);

  fx.stop();
  CHECK_FALSE(std::filesystem::exists(folder));  // its own folder goes with it
  CHECK_THROWS_AS(fx.port(), std::logic_error);
  CHECK_THROWS_AS(fx.count(), std::logic_error);
}

TEST_CASE("fixture: the installed header includes only the standard library") {
  std::ifstream in(FORTISIM_SOURCE_DIR "/fixture/fixture.hpp");
  REQUIRE(in);
  int includes = 0;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("#include")) continue;
    ++includes;
    INFO(line);
    CHECK(line.starts_with("#include <"));
    CHECK(line.find('/') == std::string::npos);  // <string>, never <nlohmann/json.hpp> or "server/…"
  }
  CHECK(includes > 0);
}

TEST_CASE("fixture: journal entries are typed, and selected as GET /journal selects them") {
  fixture fx(scenario_text{world});
  CHECK(import_error(fx, expired_code) == 14);
  CHECK(import_error(fx, other_code) == 0);

  auto all = fx.journal();
  REQUIRE(all.size() == 2);
  const journal_entry& e = all[0];
  CHECK(e.seq >= 1);
  CHECK(e.time_ms > 0);
  CHECK(e.stage == "http");
  CHECK(e.operation == "activation_license");
  CHECK(e.type == "SoftToken.ActivationLicenseRequest");
  CHECK(e.method == "POST");
  CHECK(e.status == 200);
  CHECK(e.error_code == 14);
  CHECK(e.code == expired_code);
  CHECK(e.serials == "FGT40FHA25099UXR FGT40FHA25099UXR");  // its serial, then __clustered_sns
  CHECK(e.tokens.empty());
  CHECK(e.rule.empty());
  CHECK(e.action.empty());
  CHECK_FALSE(e.reason.empty());
  CHECK(e.client_address == "127.0.0.1");
  CHECK(e.sni == "directregistration.fortinet.com");
  CHECK(e.seed == 5);
  CHECK(has(e.request_body, expired_code));
  CHECK(has(e.reply_body, "\"error\""));
  CHECK(all[1].seq > e.seq);

  auto expired = fx.journal(journal_query().operation("activation_license").error_code(14));
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].seq == e.seq);
  CHECK(fx.journal(journal_query().serial("FGT40FHA25099UXR").code(other_code)).size() == 1);
  CHECK(fx.journal(journal_query().type("ActivationLicenseRequest").stage("http")).size() == 2);
  CHECK(fx.journal(journal_query().serial("FGT60F0000000001")).empty());
  auto later = fx.journal(journal_query().after(e.seq));
  REQUIRE(later.size() == 1);
  CHECK(later[0].code == other_code);
  CHECK(fx.journal(journal_query().limit(1)).size() == 1);

  fx.clear_journal();
  CHECK(fx.journal().empty());
}

TEST_CASE("fixture: a misspelt filter throws std::invalid_argument naming the call, the value and the valid ones") {
  fixture fx(scenario_text{world});
  auto why = refusal([&] { fx.count(journal_query().operation("activaton_license")); });
  CHECK(has(why, "count(operation=activaton_license)"));
  CHECK(has(why, "activation_license, polling, mobile_provision, provision or hardware_activation"));

  why = refusal([&] { fx.journal(journal_query().stage("htp")); });
  CHECK(has(why, "journal(stage=htp)"));
  CHECK(has(why, "connection, tls, http or dns"));

  why = refusal([&] { fx.wait_count(journal_query().operation("activaton_license"), 1, 10s); });
  CHECK(has(why, "wait_count(operation=activaton_license)"));

  CHECK(has(refusal([&] { fx.journal(journal_query().error_code(-1)); }), "error_code: expected an integer"));
  CHECK(has(refusal([&] { fx.count(journal_query().limit(5)); }), "unknown parameter \"limit\""));
  // A serial or token with a space (or none at all) could never match one word of the entry's list.
  why = refusal([&] { fx.count(journal_query().serial("FGT60F 0000000001")); });
  CHECK(has(why, "serial: one serial, without spaces"));
  CHECK(has(refusal([&] { fx.journal(journal_query().token("")); }), "token: one token, without spaces"));
}

TEST_CASE("fixture: count and wait_count — it wakes on the entry it waits for, and gives up at its timeout") {
  fixture fx(scenario_text{world});
  auto imports = journal_query().operation("activation_license");
  CHECK(fx.count(imports) == 0);
  CHECK(fx.wait_count(imports, 0, 10s) == 0);  // already there: at once

  auto start = std::chrono::steady_clock::now();
  std::thread later([&] {
    std::this_thread::sleep_for(100ms);
    client::import_licence(to(fx), client::device{}, other_code);
  });
  auto n = fx.wait_count(imports, 1, 20s);
  later.join();
  CHECK(n == 1);
  CHECK(std::chrono::steady_clock::now() - start < 10s);

  start = std::chrono::steady_clock::now();
  CHECK(fx.wait_count(journal_query(imports).error_code(14), 1, 150ms) == 0);
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= 150ms);
  CHECK(waited < 5s);
  CHECK(fx.count() == 1);
}

TEST_CASE("fixture: rules added as JSON text come first until removed, and are listed with their firings") {
  fixture fx(scenario_text{world});
  fx.add_rule(R"({"name": "card gone", "when": {"operation": "activation_license"},
                  "then": {"action": "error", "code": 10}})");
  CHECK(import_error(fx, other_code) == 10);
  auto rules = fx.rules();
  REQUIRE(rules.size() == 1);
  CHECK(rules[0].name == "card gone");
  CHECK(rules[0].source == "runtime");
  CHECK(rules[0].stage == "http");
  CHECK(rules[0].fired == 1);
  CHECK(has(rules[0].json, "\"code\":10"));
  auto fired = fx.journal(journal_query().rule("card gone"));
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].error_code == 10);
  CHECK(fired[0].action == "error");

  fx.remove_rule("card gone");
  CHECK(fx.rules().empty());
  CHECK(import_error(fx, other_code) == 0);
  CHECK(has(refusal([&] { fx.remove_rule("card gone"); }), "remove_rule(card gone): no runtime rule named card gone"));
  CHECK(has(refusal([&] { fx.add_rule(R"({"name": "x", "then": {"action": "frobnicate"}})"); }),
            "add_rule: $.then.action"));
  CHECK(has(refusal([&] { fx.add_rule("not JSON"); }), "add_rule: the body is not JSON"));
}

TEST_CASE("fixture: reset puts back the world, the clock, the rules and the journal") {
  fixture fx(scenario_text{world});
  fx.add_rule(R"({"name": "again", "when": {"operation": "polling"}, "then": {"action": "error", "code": 10}})");
  fx.advance_clock(24h);
  CHECK(import_error(fx, other_code) == 0);
  fx.reset();
  CHECK(fx.journal().empty());
  CHECK(fx.rules().empty());
  CHECK(fx.clock_now() == scenario_start);
}

TEST_CASE("fixture: reset listens again after a refuse action shut the listener") {
  fixture_options no_admin;
  no_admin.admin = false;
  fixture fx(scenario_text{world}, no_admin);
  fx.add_rule(R"({"name": "shut", "when": {"connection": 1}, "then": {"action": "refuse"}})");
  auto import = [&] { return client::import_licence(to(fx), client::device{}, other_code); };
  CHECK_THROWS(import());                                                // this one is cut, and the listener shuts
  CHECK_THROWS_WITH(import(), doctest::Contains("Connection refused"));  // as the next ones are
  fx.reset();
  CHECK(import_error(fx, other_code) == 0);
}

TEST_CASE("fixture: the clock reads, is set and moves, and licences follow it") {
  fixture fx(scenario_text{world});
  CHECK(fx.clock_now() == scenario_start);
  CHECK(fx.advance_clock(1h) == scenario_start + 1h);
  CHECK(fx.advance_clock(-30min) == scenario_start + 30min);
  CHECK(fx.set_clock("2027-01-01T00:00:00Z") == std::chrono::sys_days{std::chrono::January / 1 / 2027});
  CHECK(import_error(fx, expired_code) == 14);
  CHECK(fx.set_clock(std::chrono::sys_days{std::chrono::June / 1 / 2019}) ==
        std::chrono::sys_days{std::chrono::June / 1 / 2019});
  CHECK(import_error(fx, expired_code) == 0);  // not yet expired in 2019
  CHECK(has(refusal([&] { fx.set_clock("tomorrow"); }), "set_clock(tomorrow): now: expected"));
}

TEST_CASE("fixture: a token's OTP follows the clock, and a consumed hardware lock is released") {
  fixture fx(scenario_text{world});
  fx.set_clock(std::chrono::sys_seconds{59s});  // RFC 6238's first test time: 94287082 in 8 digits
  auto o = fx.otp("FTKMOB0000000042");
  CHECK(o.token == "FTKMOB0000000042");
  CHECK(o.code == "287082");
  CHECK(o.digits == 6);
  CHECK(o.period == 30);
  CHECK(o.valid_for_s == 1);
  CHECK(o.type == "totp");
  CHECK(fx.verify_otp("FTKMOB0000000042", "287082"));
  CHECK(has(refusal([&] { fx.otp("FTKMOB9999999999"); }), "otp(FTKMOB9999999999): no token FTKMOB9999999999"));

  CHECK(activation_seed(fx, "FTK2000000000001").empty());
  fx.release_lock("FTK2000000000001");
  CHECK(activation_seed(fx, "FTK2000000000001").size() == 40);
  CHECK(has(refusal([&] { fx.release_lock("FTK2999999999999"); }), "release_lock(FTK2999999999999)"));
}

TEST_CASE("fixture: an HOTP token shows its counter's code, a verifier moves the counter, reset puts it back") {
  fixture fx(scenario_text{R"({"name": "hotp", "seed": 5, "mobile_tokens": [{"token": "FTKMOB0000000043",
    "secret": "3132333435363738393031323334353637383930", "type": "hotp", "counter": 5}]})"});
  auto o = fx.otp("FTKMOB0000000043");
  CHECK(o.type == "hotp");
  CHECK(o.counter == 5);
  CHECK(o.code == "254676");  // RFC 4226 appendix D, count 5
  CHECK(o.valid_for_s == 0);
  CHECK_FALSE(fx.verify_otp("FTKMOB0000000043", "000000"));
  CHECK(fx.otp("FTKMOB0000000043").counter == 5);      // a refused code moves nothing
  CHECK(fx.verify_otp("FTKMOB0000000043", "162583"));  // count 7, within the look-ahead
  CHECK(fx.otp("FTKMOB0000000043").counter == 8);
  CHECK(fx.otp("FTKMOB0000000043").code == "399871");
  CHECK_FALSE(fx.verify_otp("FTKMOB0000000043", "162583"));  // never accepted twice
  fx.reset();
  CHECK(fx.otp("FTKMOB0000000043").counter == 5);
  CHECK(has(refusal([&] { fx.verify_otp("FTKMOB9999999999", "123456"); }), "no token FTKMOB9999999999"));
}

TEST_CASE("fixture: the listener refuses until opened, or for a while") {
  fixture fx(scenario_text{world});
  CHECK(fx.listening());
  fx.refuse();
  CHECK_FALSE(fx.listening());
  CHECK_THROWS_AS(client::import_licence(to(fx), client::device{}, other_code), client::transport_error);
  fx.open();
  CHECK(fx.listening());
  CHECK(import_error(fx, other_code) == 0);

  fx.refuse(200ms);
  CHECK_FALSE(fx.listening());
  CHECK(fx.wait_listening(true, 10s));
  CHECK(import_error(fx, other_code) == 0);

  fixture_options no_admin;
  no_admin.admin = false;
  fixture quiet(scenario_text{world}, no_admin);
  CHECK_FALSE(quiet.admin_address().has_value());
  quiet.refuse();  // the fixture's calls are made in process: no control API listener needed
  CHECK_FALSE(quiet.listening());
  CHECK_FALSE(quiet.status().listening);
  quiet.open();
  CHECK(quiet.listening());
  CHECK(quiet.count() == 0);
}

TEST_CASE("fixture: status tells the scenario, its counts, the clock and the listener") {
  fixture fx(scenario_text{world});
  CHECK(import_error(fx, other_code) == 0);
  auto s = fx.status();
  CHECK(s.scenario == "fixture");
  CHECK(s.seed == 5);
  CHECK(s.connections >= 1);
  CHECK(s.requests == 1);
  CHECK(s.clock == scenario_start);
  CHECK(s.listening);
  CHECK(s.in_flight == 0);
}

TEST_CASE("fixture: wait_in_flight answers once the requests are in flight, then once none are") {
  fixture fx(scenario_text{world});
  fx.add_rule(
      R"({"name": "slow", "when": {"operation": "activation_license"}, "then": {"action": "delay", "ms": 1000}})");
  auto flying = std::async(std::launch::async, [&] { return import_error(fx, other_code); });
  CHECK(fx.wait_in_flight(1, 10s).in_flight == 1);
  CHECK(fx.count(journal_query().stage("http")) == 0);  // still in its delay
  CHECK(fx.wait_in_flight(0, 10s).in_flight == 0);
  CHECK(fx.count(journal_query().stage("http")) == 1);  // its entry is in once it has ended
  REQUIRE(flying.wait_for(10s) == std::future_status::ready);
  CHECK(flying.get() == 0);
  CHECK(fx.wait_in_flight(1, 100ms).in_flight == 0);  // the time ran out
}

TEST_CASE("fixture: from a file, reload() takes an edit and refuses a bad one, and text has no file") {
  auto dir = std::filesystem::temp_directory_path() / ("fortisim-fixture-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = dir / "lab.json";
  std::filesystem::copy_file(FORTISIM_SOURCE_DIR "/scenarios/expired-license.json", file,
                             std::filesystem::copy_options::overwrite_existing);
  {
    fixture fx(scenario_file{file.string()});
    CHECK(import_error(fx, expired_code) == 14);
    fx.reload();
    CHECK(fx.status().scenario == "expired-license");
    std::ofstream(file) << R"({"name": "edited", "licenses": "not a list"})";
    auto why = refusal([&] { fx.reload(); });
    CHECK(has(why, "reload: "));
    CHECK(has(why, "$.licenses"));
    CHECK(fx.status().scenario == "expired-license");  // the last good scenario stays
    std::ofstream(file) << R"({"name": "edited", "unknown_codes": {"answer": "accept"}})";
    fx.reload();
    CHECK(fx.status().scenario == "edited");
  }
  std::filesystem::remove_all(dir);

  fixture text(scenario_text{world});
  CHECK_THROWS_AS(text.reload(), std::logic_error);
}

TEST_CASE("fixture: a bad scenario throws with its JSON path") {
  try {
    fixture bad(scenario_text{R"({"licenses": "not a list"})"});
    FAIL("a bad scenario started");
  } catch (const std::invalid_argument& e) {
    CHECK(has(e.what(), "$.licenses"));
  }
}

TEST_CASE(
    "fixture: one item reset — a licence, a device's bindings, a token, a lock — and an unknown one throws naming the "
    "call") {
  fixture fx(scenario_text{world});
  CHECK(import_error(fx, other_code, "FGT60F0000000001") == 0);
  int taken = import_error(fx, other_code, "FGT60F0000000002");  // bound to the first FortiGate
  CHECK(taken != 0);
  fx.reset_license(other_code);
  CHECK(import_error(fx, other_code, "FGT60F0000000002") == 0);
  CHECK(import_error(fx, other_code, "FGT60F0000000001") == taken);
  fx.reset_device("FGT60F0000000002");  // every licence it bound is free again
  CHECK(import_error(fx, other_code, "FGT60F0000000001") == 0);
  CHECK_NOTHROW(fx.reset_token("FTKMOB0000000042"));
  fx.release_lock("FTK2000000000001");
  fx.reset_hardware("FTK2000000000001");  // consumed again, as the scenario declares
  CHECK(activation_seed(fx, "FTK2000000000001").empty());
  auto why = refusal([&] { fx.reset_hardware("FTK2999999999999"); });
  CHECK(has(why, "reset(hardware=FTK2999999999999)"));
  CHECK(has(why, "FTK2999999999999"));
  CHECK(has(refusal([&] { fx.reset_license("0000-0000-0000-0000-0000"); }), "reset(license="));
}

TEST_CASE("fixture: devices() tells each client address, its serial and its verdict") {
  fixture fx(scenario_text{world});
  CHECK(fx.devices().empty());
  CHECK(import_error(fx, other_code, "FGT60F0000000001") == 0);
  auto devices = fx.devices();
  REQUIRE(devices.size() == 1);
  CHECK(devices[0].address == "127.0.0.1");
  CHECK(devices[0].serial == "FGT60F0000000001");
  CHECK(devices[0].verdict == "trusts our certificate");
  CHECK(devices[0].requests == 1);
  CHECK(devices[0].first_ms > 0);
  fx.reset();
  CHECK(fx.devices().empty());
}

TEST_CASE(
    "fixture: switch_scenario serves another file, a bad one throws and the scenario stays, reload reads the new one") {
  fixture fx(scenario_text{world});
  CHECK(import_error(fx, "9999-9999-9999-9999-0014") == 0);  // this world accepts every other code
  auto now = fx.switch_scenario(scenario_file{FORTISIM_SOURCE_DIR "/scenarios/default.json"}, true);
  CHECK(now.scenario == "default");
  CHECK(import_error(fx, "9999-9999-9999-9999-0014") == 14);  // default.json: codes ending -0014
  fortisim::test::temp_folder folder("fixture-switch");
  auto bad = folder.write("bad.json", R"({"name": "bad", "licenses": "not a list"})");
  auto why = refusal([&] { fx.switch_scenario(scenario_file{bad}); });
  CHECK(has(why, "switch_scenario("));
  CHECK(has(why, "$.licenses"));
  CHECK(fx.status().scenario == "default");
  CHECK_NOTHROW(fx.reload());  // started from text, it has a file now
}

}  // TEST_SUITE
