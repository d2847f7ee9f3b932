// The readable log line (--log-format text), without sockets: each stage's shape, the SNI and
// client address on a TLS failure, values quoted only when they need it, events with their fields.
#include "server/core/observe/log_text.hpp"

#include <doctest/doctest.h>

using namespace fortisim::core;
using fortisim::protocol::json;

namespace {

journal_entry entry(const std::string& stage) {
  journal_entry e;
  e.time_ms = 1795855262123;  // 2026-11-28T08:41:02.123Z
  e.stage = stage;
  e.connection = 7;
  e.client_address = "192.0.2.1";
  return e;
}

/// The line as --log-bodies writes it (the body last), or without the body.
std::string text(const journal_entry& e, bool bodies = true) {
  std::string out;
  write_text_line(e, out, secrets::hidden, bodies);
  return out;
}

}  // namespace

TEST_SUITE("log text") {

TEST_CASE("the time is UTC to the millisecond") {
  std::string out;
  append_time(1795855262123, out);
  CHECK(out == "2026-11-28T08:41:02.123Z");
  out.clear();
  append_time(5, out);
  CHECK(out == "1970-01-01T00:00:00.005Z");
}

TEST_CASE("an HTTP exchange: who, SNI, what, the status and error, the rule, then the details") {
  auto e = entry("http");
  e.request = 2;
  e.sni = "directregistration.fortinet.com";
  e.method = "POST";
  e.target = "/SoftToken/Provisioning.asmx/Process";
  e.type = "SoftToken.ActivationLicenseRequest";
  e.status = 200;
  e.error_code = 14;
  e.errors = "14";
  e.outcome = "sent";
  e.rule = "codes ending -0014: expired";
  e.action = "error";
  e.serials = "FG4H0ETB20900993";
  e.request_body = R"({"d":{}})";
  CHECK(text(e) ==
        "2026-11-28T08:41:02.123Z http #7.2 192.0.2.1 sni=directregistration.fortinet.com POST "
        "/SoftToken/Provisioning.asmx/Process SoftToken.ActivationLicenseRequest -> 200 error 14 "
        "rule=\"codes ending -0014: expired\" action=error serials=FG4H0ETB20900993 "
        "body=\"{\\\"d\\\":{}}\"");
  // By default the body is the journal's alone: the line fits a terminal row.
  CHECK(text(e, false) == text(e).substr(0, text(e).find(" body=")));
  e.status = 0;  // a reset or a close: nothing was sent
  e.error_code = 0;
  e.errors.clear();
  e.outcome = "not_sent";
  e.rule = "reset twice";
  e.action = "reset";
  e.serials.clear();
  e.request_body.clear();
  CHECK(text(e).ends_with("-> no reply rule=\"reset twice\" action=reset"));
}

TEST_CASE("a TLS failure names the client, the SNI (- when none) and the failure in words") {
  auto e = entry("tls");
  e.action = "handshake failed: tlsv1 alert unknown ca (SSL routines)";
  CHECK(text(e) ==
        "2026-11-28T08:41:02.123Z tls #7 192.0.2.1 sni=- -> handshake failed: tlsv1 alert unknown ca "
        "(SSL routines)");
  e.sni = "fds1.fortinet.com";
  CHECK(text(e).find(" tls #7 192.0.2.1 sni=fds1.fortinet.com -> ") != std::string::npos);
}

TEST_CASE("a DNS query: who asked, the name, the type, the answer") {
  auto e = entry("dns");
  e.target = "fds1.fortinet.com";
  e.type = "AAAA";
  e.action = "NXDOMAIN";
  CHECK(text(e) == "2026-11-28T08:41:02.123Z dns 192.0.2.1 fds1.fortinet.com AAAA -> NXDOMAIN");
  e.rule = "names gone";  // a DNS rule decided it: said as an HTTP rule is
  CHECK(text(e) == "2026-11-28T08:41:02.123Z dns 192.0.2.1 fds1.fortinet.com AAAA -> NXDOMAIN rule=\"names gone\"");
  e.rule.clear();
  e.target = "bad name\n";  // client data with a control byte is quoted, never raw
  CHECK(text(e).find(" \"bad name\\n\" AAAA") != std::string::npos);
}

TEST_CASE("a body that is not UTF-8 or holds control bytes is quoted: U+FFFD and JSON escapes") {
  auto e = entry("http");
  e.status = 400;
  e.request_body =
      "a\xff\x01"
      "b\tc \xc3\xa9";  // a stray byte, a control byte, a tab, then é in UTF-8
  CHECK(text(e).ends_with(" body=\"a\xEF\xBF\xBD\\u0001b\\tc \xc3\xa9\""));
  CHECK(json::parse(text(e).substr(text(e).find("body=") + 5)) ==
        "a\xEF\xBF\xBD\x01"
        "b\tc \xc3\xa9");
}

TEST_CASE("an event: its name, then key=value in order, strings bare unless they need quotes") {
  CHECK(text_notice("listener", json{{"listening", false}, {"for_ms", 5000}}, 0) ==
        "1970-01-01T00:00:00.000Z listener listening=false for_ms=5000");
  CHECK(text_notice("reload", json{{"file", "a b.json"}, {"ok", true}, {"names", json::array({"x"})}}, 0) ==
        "1970-01-01T00:00:00.000Z reload file=\"a b.json\" ok=true names=[\"x\"]");
  CHECK(text_notice("stopped", json::object(), 0) == "1970-01-01T00:00:00.000Z stopped");
}

}  // TEST_SUITE

TEST_CASE("per-token errors are marked as a top-level error is, and a reply nobody heard says so") {
  auto e = entry("http");
  e.request = 3;
  e.method = "POST";
  e.status = 200;
  e.errors = "903 904";
  e.outcome = "client_gone";
  e.bytes_sent = 0;
  CHECK(text(e) ==
        "2026-11-28T08:41:02.123Z http #7.3 192.0.2.1 sni=- POST -> 200 error 903,904 (client_gone: 0 bytes written)");
  e.errors.clear();
  e.outcome = "timeout";
  e.bytes_sent = 65536;
  CHECK(text(e) == "2026-11-28T08:41:02.123Z http #7.3 192.0.2.1 sni=- POST -> 200 (timeout: 65536 bytes written)");
}

TEST_CASE("a TLS rule's entry carries the client's verdict") {
  auto e = entry("tls");
  e.sni = "fds1.fortinet.com";
  e.rule = "expired cert";
  e.action = "tls_cert";
  e.outcome = "client_refused";
  e.reason = "the client refused our certificate: certificate expired";
  CHECK(text(e) ==
        "2026-11-28T08:41:02.123Z tls #7 192.0.2.1 sni=fds1.fortinet.com -> tls_cert rule=\"expired cert\" "
        "outcome=client_refused reason=\"the client refused our certificate: certificate expired\"");
}
