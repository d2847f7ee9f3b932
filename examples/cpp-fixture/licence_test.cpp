// What a project that talks to FortiCare would test: its licence import against a fortisim
// started in process, on 127.0.0.1:0, trusting fortisim's lab CA and nothing else. The fixture's
// calls (fixture/fixture.hpp) set the stage and check what FortiCare saw.
#include <client/operations.hpp>
#include <fixture/fixture.hpp>

#include <doctest/doctest.h>

#include <chrono>

namespace {

using namespace std::chrono_literals;
using fortisim::journal_query;

/// The world of these tests: one licence valid until 2020, every other code accepted.
const char* scenario = R"({
  "name": "example", "seed": 42,
  "unknown_codes": {"answer": "accept"},
  "licenses": [{"activation_code": "DA8C-0508-1F31-4CF7-C990", "valid_until": "2020-01-01"}]
})";

fortisim::client::connection_options to(const fortisim::fixture& fx) {
  fortisim::client::connection_options o;  // 127.0.0.1, SNI directregistration.fortinet.com
  o.port = fx.port();
  o.cacert = fx.ca_path();
  return o;
}

/// The code under test would do this: import a licence as a FortiGate (FGT60F0000000001).
fortisim::protocol::activation_license_response import_licence(const fortisim::fixture& fx, const std::string& code,
                                                               const std::string& serial = "FGT60F0000000001") {
  fortisim::client::device fortigate;
  fortigate.serial = serial;
  auto x = fortisim::client::import_licence(to(fx), fortigate, code);
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
  auto entries = fx.journal(journal_query().operation("activation_license"));
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].code == "1234-5678-9ABC-DEF0-1234");
  CHECK(entries[0].sni == "directregistration.fortinet.com");
  CHECK(entries[0].error_code == 0);
  CHECK(fx.count(journal_query().serial("FGT60F0000000001")) == 1);
}

TEST_CASE("an expired licence gets error 14, unless the clock says it is 2019") {
  fortisim::fixture fx(fortisim::scenario_text{scenario});
  auto reply = import_licence(fx, "DA8C-0508-1F31-4CF7-C990");
  REQUIRE(reply.error.has_value());
  CHECK(reply.error->code == 14);
  CHECK(reply.error->message == "forticare license expired");
  CHECK(fx.count(journal_query().error_code(14)) == 1);

  fx.set_clock("2019-06-01T00:00:00Z");
  CHECK_FALSE(import_licence(fx, "DA8C-0508-1F31-4CF7-C990").error.has_value());
}

TEST_CASE("a rule added at runtime answers the next import, then the world answers again") {
  fortisim::fixture fx(fortisim::scenario_text{scenario});
  fx.add_rule(R"({"name": "card gone once", "when": {"operation": "activation_license"},
                  "times": 1, "then": {"action": "error", "code": 10}})");
  CHECK(import_licence(fx, "1234-5678-9ABC-DEF0-1234").error->code == 10);
  CHECK_FALSE(import_licence(fx, "1234-5678-9ABC-DEF0-1234").error.has_value());
  CHECK(fx.count(journal_query().rule("card gone once")) == 1);
  fx.reset();
  CHECK(fx.journal().empty());
}

TEST_CASE("FortiCare unreachable: the import fails to connect, and works once it listens again") {
  fortisim::fixture fx(fortisim::scenario_text{scenario});
  fx.refuse();  // until open()
  CHECK_THROWS_AS(fortisim::client::import_licence(to(fx), {}, "1234-5678-9ABC-DEF0-1234"),
                  fortisim::client::transport_error);
  fx.open();
  CHECK_FALSE(import_licence(fx, "1234-5678-9ABC-DEF0-1234").error.has_value());
  CHECK(fx.wait_count(journal_query().operation("activation_license"), 1, 5s) == 1);
}

TEST_CASE(
    "a licence bound to one FortiGate is freed for another by resetting it alone, and devices() tells who asked") {
  fortisim::fixture fx(fortisim::scenario_text{scenario});
  CHECK_FALSE(import_licence(fx, "1234-5678-9ABC-DEF0-1234").error.has_value());
  CHECK(import_licence(fx, "1234-5678-9ABC-DEF0-1234", "FGT60F0000000002").error.has_value());  // bound
  fx.reset_license("1234-5678-9ABC-DEF0-1234");
  CHECK_FALSE(import_licence(fx, "1234-5678-9ABC-DEF0-1234", "FGT60F0000000002").error.has_value());
  auto devices = fx.devices();
  REQUIRE(devices.size() == 1);  // one client address
  CHECK(devices[0].verdict == "trusts our certificate");
  CHECK(devices[0].requests == 3);
}
