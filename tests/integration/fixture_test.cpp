// The in-process fixture another project's C++ tests use (fixture/fixture.hpp), driven by the
// client library (client/operations.hpp) as such a project would: start from text or a file on
// 127.0.0.1:0, trust its CA, import, read the journal, add and remove rules, reset, stop.
#include "fixture/fixture.hpp"
#include "../support/fixtures.hpp"
#include "client/operations.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace fortisim;
using protocol::json;

namespace {

const char* expired_world = R"({"name": "fixture", "seed": 5, "unknown_codes": {"answer": "accept"},
  "licenses": [{"activation_code": "DA8C-0508-1F31-4CF7-C990", "valid_until": "2020-01-01"}]})";

client::connection_options to(const fixture& fx) {
  client::connection_options o;
  o.port = fx.port();
  o.cacert = fx.ca_path();
  o.timeout = std::chrono::seconds(5);
  return o;
}

/// The error code of a licence import of `code` through the fixture, 0 for none.
int import_error(const fixture& fx, const std::string& code) {
  auto x = client::import_licence(to(fx), client::device{}, code);
  REQUIRE(x.reply.has_value());
  const auto& r = std::get<protocol::activation_license_response>(*x.reply);
  return r.error ? r.error->code : 0;
}

}  // namespace

TEST_SUITE("fixture") {

TEST_CASE("a fixture from text serves on 127.0.0.1:0 with its own CA, and its journal tells what happened") {
  fixture fx(scenario_text{expired_world});
  CHECK(fx.port() != 0);
  CHECK(fx.address() == "127.0.0.1:" + std::to_string(fx.port()));
  CHECK(fx.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
  std::string folder = std::filesystem::path(fx.ca_path()).parent_path();
  CHECK(std::filesystem::exists(folder));

  CHECK(import_error(fx, "DA8C-0508-1F31-4CF7-C990") == 14);
  CHECK(import_error(fx, "1234-5678-9ABC-DEF0-1234") == 0);
  auto expired = fx.journal(journal_query().operation("activation_license").error_code(14));
  REQUIRE(expired.size() == 1);
  CHECK(expired[0]["code"] == "DA8C-0508-1F31-4CF7-C990");
  CHECK(expired[0]["serials"] == "FGT40FHA25099UXR FGT40FHA25099UXR");  // its serial, then __clustered_sns
  CHECK(fx.journal(journal_query().serial("FGT40FHA25099UXR").code("DA8C-0508-1F31-4CF7-C990")).size() == 1);
  CHECK(fx.journal(journal_query().serial("FGT60F0000000001")).empty());
  CHECK(fx.journal().size() == 2);

  fx.stop();
  CHECK_FALSE(std::filesystem::exists(folder));  // its own folder goes with it
  CHECK_THROWS_AS(fx.port(), std::logic_error);
}

TEST_CASE("rules added at runtime come first until removed — reset forgets them and the journal") {
  fixture_options no_admin;
  no_admin.admin = false;
  fixture fx(scenario_text{expired_world}, no_admin);
  CHECK_FALSE(fx.admin_address().has_value());
  fx.add_rule(json::parse(R"({"name": "card gone", "when": {"operation": "activation_license"},
                              "then": {"action": "error", "code": 10}})"));
  CHECK(fx.rules()[0]["name"] == "card gone");
  CHECK(import_error(fx, "1234-5678-9ABC-DEF0-1234") == 10);
  CHECK(fx.journal(journal_query().rule("card gone")).size() == 1);
  CHECK(fx.remove_rule("card gone"));
  CHECK_FALSE(fx.remove_rule("card gone"));
  CHECK(import_error(fx, "1234-5678-9ABC-DEF0-1234") == 0);

  fx.add_rule(json::parse(R"({"name": "again", "then": {"action": "error", "code": 10}})"));
  fx.reset();
  CHECK(fx.journal().empty());
  CHECK(fx.rules().size() == 0);
  CHECK_THROWS_AS(fx.add_rule(json::parse(R"({"then": {"action": "frobnicate"}})")), std::invalid_argument);
}

TEST_CASE("reset listens again after a refuse action shut the listener") {
  fixture_options no_admin;
  no_admin.admin = false;
  fixture fx(scenario_text{expired_world}, no_admin);
  fx.add_rule(json::parse(R"({"name": "shut", "when": {"connection": 1}, "then": {"action": "refuse"}})"));
  auto import = [&] { return client::import_licence(to(fx), client::device{}, "1234-5678-9ABC-DEF0-1234"); };
  CHECK_THROWS(import());                                                // this one is cut, and the listener shuts
  CHECK_THROWS_WITH(import(), doctest::Contains("Connection refused"));  // as the next ones are
  fx.reset();
  CHECK(import_error(fx, "1234-5678-9ABC-DEF0-1234") == 0);
}

TEST_CASE("a fixture from a shipped file — a bad scenario throws with its JSON path") {
  fixture fx(scenario_file{FORTISIM_SOURCE_DIR "/scenarios/expired-license.json"});
  CHECK(import_error(fx, "DA8C-0508-1F31-4CF7-C990") == 14);
  CHECK(fx.reload().empty());
  CHECK(fx.engine().status()["scenario"] == "expired-license");
  try {
    fixture bad(scenario_text{R"({"licenses": "not a list"})"});
    FAIL("a bad scenario started");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("$.licenses") != std::string::npos);
  }
}

}  // TEST_SUITE
