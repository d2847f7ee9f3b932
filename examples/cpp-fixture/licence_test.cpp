// What a project that talks to FortiCare would test: its licence import against a fortisim
// started in process, on 127.0.0.1:0, trusting fortisim's lab CA and nothing else.
#include <client/operations.hpp>
#include <fixture/fixture.hpp>

#include <doctest/doctest.h>

namespace {

using fortisim::protocol::json;

/// The world of these tests: one licence that has expired, every other code accepted.
const char* scenario = R"({
  "name": "example", "seed": 42,
  "unknown_codes": {"answer": "accept"},
  "licenses": [{"activation_code": "DA8C-0508-1F31-4CF7-C990", "valid_until": "2020-01-01"}]
})";

/// The code under test would do this: import a licence as FortiGate FGT60F0000000001.
fortisim::protocol::activation_license_response import_licence(const fortisim::fixture& fx, const std::string& code) {
  fortisim::client::connection_options to;  // 127.0.0.1, SNI directregistration.fortinet.com
  to.port = fx.port();
  to.cacert = fx.ca_path();
  fortisim::client::device fortigate;
  fortigate.serial = "FGT60F0000000001";
  auto x = fortisim::client::import_licence(to, fortigate, code);
  REQUIRE(x.received.status == 200);
  REQUIRE(x.reply.has_value());
  return std::get<fortisim::protocol::activation_license_response>(*x.reply);
}

}  // namespace

TEST_CASE("a licence import is answered, and journaled with the FortiGate's serial") {
  fortisim::fixture fx(fortisim::scenario_text{scenario});
  auto reply = import_licence(fx, "1234-5678-9ABC-DEF0-1234");
  CHECK_FALSE(reply.error.has_value());
  CHECK(reply.license.starts_with("EFTM"));
  auto entries = fx.journal(fortisim::journal_query().operation("activation_license"));
  REQUIRE(entries.size() == 1);
  CHECK(entries[0]["code"] == "1234-5678-9ABC-DEF0-1234");
  CHECK(fx.journal(fortisim::journal_query().serial("FGT60F0000000001")).size() == 1);
  CHECK(entries[0]["sni"] == "directregistration.fortinet.com");
}

TEST_CASE("an expired licence gets error 14") {
  fortisim::fixture fx(fortisim::scenario_text{scenario});
  auto reply = import_licence(fx, "DA8C-0508-1F31-4CF7-C990");
  REQUIRE(reply.error.has_value());
  CHECK(reply.error->code == 14);
  CHECK(reply.error->message == "forticare license expired");
  CHECK(fx.journal(fortisim::journal_query().error_code(14)).size() == 1);
}

TEST_CASE("a rule added at runtime answers the next import, then the world answers again") {
  fortisim::fixture fx(fortisim::scenario_text{scenario});
  fx.add_rule(json::parse(R"({"name": "card gone once", "when": {"operation": "activation_license"},
                              "times": 1, "then": {"action": "error", "code": 10}})"));
  CHECK(import_licence(fx, "1234-5678-9ABC-DEF0-1234").error->code == 10);
  CHECK_FALSE(import_licence(fx, "1234-5678-9ABC-DEF0-1234").error.has_value());
  CHECK(fx.journal(fortisim::journal_query().rule("card gone once")).size() == 1);
  fx.reset();
  CHECK(fx.journal().empty());
}
