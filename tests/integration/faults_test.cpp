// Fault injection, proven from the client's side over real sockets: every action, each shipped
// scenario's promised symptom, and replayable seeded randomness.
#include "server/core/observe/log_text.hpp"
#include "support.hpp"

#include <doctest/doctest.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <thread>

using namespace fortisim;
using namespace fortisim::test;
using protocol::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

std::string with_rule(const std::string& rule) {
  return R"({"seed": 3, "unknown_codes": {"answer": "accept"}, "rules": [)" + rule + "]}";
}

/// Whether a TCP connect gives `expected` (0: accepted, or ECONNREFUSED) once every worker listens
/// (or refuses) as that needs, or `within` has passed: GET /status?listening=…&wait_ms=….
bool eventually_connect(test_server& srv, int expected, std::chrono::milliseconds within) {
  auto target = std::string("/status?listening=") + (expected == 0 ? "true" : "false") +
                "&wait_ms=" + std::to_string(within.count());
  CHECK(control(srv.admin_port(), "GET", target).first == 200);
  return tcp_connect_errno(srv.port()) == expected;
}

long ms_since(steady::time_point t) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t).count());
}

client_options quick(std::chrono::milliseconds timeout = 400ms) {
  client_options o;
  o.timeout = timeout;
  return o;
}

}  // namespace

TEST_SUITE("faults") {

// ---- connection stage ----

TEST_CASE("refuse for_ms: the matching connection is reset, then nothing listens, then it serves again") {
  test_server srv(with_rule(R"({"when": {"connection": 2}, "then": {"action": "refuse", "for_ms": 700}})"));
  CHECK(post_once(srv.port(), captured_request).status == 200);
  client second(srv.port());
  CHECK_FALSE(second.ok());
  CHECK(tcp_connect_errno(srv.port()) == ECONNREFUSED);
  // The entry says what the client met: the reset, then the refusals (its reason was empty).
  core::journal_filter f;
  f.stage = "connection";
  auto entries = srv.engine().journal().select(f);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0]["reason"] == "reset; new connections refused (ECONNREFUSED) for 700 ms");
  CHECK(entries[0]["outcome"] == "not_sent");
  CHECK(eventually_connect(srv, 0, 5s));
  CHECK(post_once(srv.port(), captured_request).status == 200);
}

TEST_CASE("refuse first_ms: refused from the start, then served") {
  test_server srv(with_rule(R"({"then": {"action": "refuse", "first_ms": 600}})"));
  CHECK(tcp_connect_errno(srv.port()) == ECONNREFUSED);
  CHECK(eventually_connect(srv, 0, 5s));
  CHECK(post_once(srv.port(), captured_request).status == 200);
}

TEST_CASE("refused.json: refused until the control API opens the listener, and again when told") {
  test_server srv(shipped("refused.json"));
  CHECK(tcp_connect_errno(srv.port()) == ECONNREFUSED);
  CHECK(client(srv.port()).connected().what == outcome::kind::refused);
  CHECK(control(srv.admin_port(), "POST", "/listener/open").first == 200);
  CHECK(eventually_connect(srv, 0, 5s));
  CHECK(post_once(srv.port(), captured_request).status == 200);
  CHECK(control(srv.admin_port(), "POST", "/listener/refuse", "{}").first == 200);
  CHECK(eventually_connect(srv, ECONNREFUSED, 5s));
}

TEST_CASE("reset on accept: ECONNRESET") {
  test_server srv(with_rule(R"({"when": {"connection": 1}, "then": {"action": "reset"}})"));
  client c(srv.port());
  CHECK(c.connected().what == outcome::kind::reset);
  CHECK(post_once(srv.port(), captured_request).status == 200);  // only the first
  auto journal = json::parse(control(srv.admin_port(), "GET", "/journal").second);
  CHECK(journal[0]["stage"] == "connection");
  CHECK(journal[0]["action"] == "reset");
}

TEST_CASE("hang on accept: no answer within the client's deadline") {
  test_server srv(with_rule(R"({"when": {"connection": 1}, "then": {"action": "hang", "for_ms": 3000}})"));
  client c(srv.port(), quick());
  CHECK(c.connected().what == outcome::kind::timeout);
}

// ---- TLS stage ----

TEST_CASE("tls_alert for one SNI: a handshake_failure alert — other names handshake normally") {
  test_server srv(with_rule(R"({"when": {"sni": "fds1.fortinet.com"}, "then": {"action": "tls_alert"}})"));
  client_options o;
  o.sni = "fds1.fortinet.com";
  client bad(srv.port(), o);
  CHECK(bad.connected().what == outcome::kind::tls_error);
  CHECK(bad.connected().detail.find("handshake failure") != std::string::npos);
  o.sni = "directregistration.fortinet.com";
  client good(srv.port(), o);
  CHECK(good.ok());
  // The rule's entry is written before the alert goes: no wait (it came after, and said nothing).
  auto j = json::parse(control(srv.admin_port(), "GET", "/journal?stage=tls").second);
  REQUIRE(j.size() == 1);
  CHECK(j[0]["sni"] == "fds1.fortinet.com");
  CHECK(j[0]["action"] == "tls_alert");
  CHECK(j[0]["outcome"] == "not_sent");
  CHECK(j[0]["reason"] == "the fatal alert handshake_failure instead of a ServerHello");
}

TEST_CASE("tls_alert with another alert name") {
  test_server srv(with_rule(R"({"then": {"action": "tls_alert", "alert": "internal_error"}})"));
  client c(srv.port());
  CHECK(c.connected().what == outcome::kind::tls_error);
  CHECK(c.connected().detail.find("internal error") != std::string::npos);
}

TEST_CASE("tls_stall: the ClientHello is never answered") {
  test_server srv(with_rule(R"({"then": {"action": "tls_stall", "for_ms": 3000}})"));
  client c(srv.port(), quick());
  CHECK(c.connected().what == outcome::kind::timeout);
}

TEST_CASE("tls_cert: wrong name, expired, unknown CA, each failing verification that way") {
  struct row {
    const char* cert;
    long verify;
  };
  for (auto [cert, verify] :
       {row{"wrong_name", X509_V_ERR_HOSTNAME_MISMATCH}, row{"expired", X509_V_ERR_CERT_HAS_EXPIRED},
        row{"unknown_ca", X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY}}) {
    const auto& cert_ = cert;  // clang 14 cannot capture a structured binding
    CAPTURE(cert_);
    test_server srv(with_rule(std::string(R"({"then": {"action": "tls_cert", "cert": ")") + cert + R"("}})"));
    client_options o;
    o.ca = srv.ca();
    client c(srv.port(), o);
    CHECK(c.connected().what == outcome::kind::tls_error);
    CHECK(c.connected().verify_result == verify);
    // Without verification the handshake completes: the certificate really is the one served.
    client lax(srv.port());
    CHECK(lax.ok());
  }
}

TEST_CASE("tls_version: only the listed versions are offered") {
  test_server srv(
      with_rule(R"({"when": {"sni": "push.fortinet.com"}, "then": {"action": "tls_version", "versions": ["1.3"]}})"));
  client_options o;
  o.sni = "push.fortinet.com";
  o.max_tls = TLS1_2_VERSION;
  client old(srv.port(), o);
  CHECK(old.connected().what == outcome::kind::tls_error);
  CHECK(old.connected().detail.find("protocol version") != std::string::npos);
  o.max_tls = 0;
  client modern(srv.port(), o);
  CHECK(modern.ok());
  CHECK(modern.connected().tls_version == "TLSv1.3");

  test_server srv12(with_rule(R"({"then": {"action": "tls_version", "versions": ["1.2"]}})"));
  client c(srv12.port());
  REQUIRE(c.ok());
  CHECK(c.connected().tls_version == "TLSv1.2");
}

TEST_CASE("tls-broken.json: each host name fails its own way") {
  test_server srv(shipped("tls-broken.json"));
  auto attempt = [&](const std::string& sni, int max_tls = 0) {
    client_options o;
    o.sni = sni;
    o.ca = srv.ca();
    o.max_tls = max_tls;
    o.timeout = 500ms;
    auto c = std::make_unique<client>(srv.port(), o);
    return c->connected();
  };
  CHECK(attempt("directregistration.fortinet.com").detail.find("handshake failure") != std::string::npos);
  CHECK(attempt("fds1.fortinet.com").verify_result == X509_V_ERR_CERT_HAS_EXPIRED);
  CHECK(attempt("globalftm.fortinet.net").verify_result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  CHECK(attempt("fortitokenmobile.fortinet.com").verify_result == X509_V_ERR_HOSTNAME_MISMATCH);
  CHECK(attempt("update.fortiguard.net").what == outcome::kind::timeout);
  CHECK(attempt("push.fortinet.com", TLS1_2_VERSION).what == outcome::kind::tls_error);
  CHECK(attempt("push.fortinet.com").what == outcome::kind::ok);
  CHECK(attempt("localhost").what == outcome::kind::ok);
}

TEST_CASE("a client that connects and never speaks is dropped after the handshake timeout, with or without TLS rules") {
  for (const char* scenario : {"{}", R"({"rules": [{"when": {"sni": "x"}, "then": {"action": "tls_alert"}}]})"}) {
    CAPTURE(scenario);
    test_server srv(scenario);  // handshake timeout 1.5 s in tests
    auto closed = ms_until_closed(srv.port(), 6s);
    REQUIRE(closed.has_value());
    CHECK(*closed >= 1000);
  }
}

// ---- HTTP stage ----

TEST_CASE("delay: the reply comes at least that much later, and is the model's") {
  test_server srv(with_rule(R"({"then": {"action": "delay", "ms": 300}})"));
  client c(srv.port());
  REQUIRE(c.ok());
  auto t = steady::now();
  auto r = c.post(import_request("1234-1234-1234-1234-1234"));
  CHECK(ms_since(t) >= 300);
  CHECK(json::parse(r.body)["d"]["tokens"].size() == 5);
}

TEST_CASE("status: any status and body, e.g. an IIS-style 503") {
  test_server srv(with_rule(
      R"({"then": {"action": "status", "status": 503, "body": "<h1>Service Unavailable</h1>", "delay_ms": 50}})"));
  auto r = post_once(srv.port(), captured_request);
  CHECK(r.status == 503);
  CHECK(r.body == "<h1>Service Unavailable</h1>");
  CHECK(r.headers["content-type"] == "text/html; charset=utf-8");
}

TEST_CASE("status 204 or 304 with a body: the head alone, no Content-Length, the server unharmed") {
  // Beast's serializer threw on such a reply (a body where HTTP allows none) and ended the session.
  for (int code : {204, 304}) {
    test_server srv(with_rule(R"({"when": {"request": 1}, "then": {"action": "status", "status": )" +
                              std::to_string(code) + R"(, "body": "not sent"}})"));
    auto r = post_once(srv.port(), captured_request);
    CHECK(r.what == outcome::kind::ok);
    CHECK(r.status == code);
    CHECK(r.body.empty());
    CHECK(r.raw.find("not sent") == std::string::npos);
    CHECK(r.headers.count("content-length") == 0);
    CHECK(post_once(srv.port(), captured_request).status == 200);
  }
}

TEST_CASE("close: the request is read and the connection closed without a reply") {
  test_server srv(with_rule(R"({"then": {"action": "close"}})"));
  auto r = post_once(srv.port(), captured_request);
  CHECK(r.what == outcome::kind::eof);
  CHECK(r.raw.empty());
}

TEST_CASE("truncate: headers with the full length, part of the body, then close") {
  // The reply the model gives, in full, from a twin server without the rule (same seed, same world).
  test_server twin(with_rule(R"({"when": {"request": 999}, "then": {"action": "close"}})"));
  auto full = post_once(twin.port(), captured_request).body;
  REQUIRE(full.size() > 25);
  test_server srv(with_rule(R"({"then": {"action": "truncate", "bytes": 25}})"));
  auto r = post_once(srv.port(), captured_request);
  CHECK(r.what == outcome::kind::eof);
  auto body_at = r.raw.find("\r\n\r\n");
  REQUIRE(body_at != std::string::npos);
  CHECK(r.raw.substr(body_at + 4) == full.substr(0, 25));
  CHECK(r.raw.find("Content-Length: " + std::to_string(full.size()) + "\r\n") != std::string::npos);
}

TEST_CASE("garbage: random bytes instead of HTTP, then close — the same bytes for the same seed") {
  std::string first;
  for (int run = 0; run < 2; ++run) {
    test_server srv(with_rule(R"({"then": {"action": "garbage", "bytes": 64}})"));
    auto r = post_once(srv.port(), captured_request);
    CHECK(r.what == outcome::kind::eof);
    CHECK(r.raw.size() == 64);
    CHECK_FALSE(r.raw.starts_with("HTTP/"));
    if (run == 0)
      first = r.raw;
    else
      CHECK(r.raw == first);
  }
}

TEST_CASE("dribble: the whole reply, at about the given rate") {
  test_server srv(with_rule(R"({"then": {"action": "dribble", "bytes_per_second": 2000}})"));
  client c(srv.port(), quick(5000ms));
  REQUIRE(c.ok());
  auto t = steady::now();
  auto r = c.post(import_request("1234-1234-1234-1234-1234"));
  auto elapsed = ms_since(t);
  REQUIRE(r.what == outcome::kind::ok);
  CHECK(json::parse(r.body)["d"]["tokens"].size() == 5);
  // At 2000 bytes/s the reply (headers and body) takes at least (size/2000 - one chunk) seconds.
  CHECK(elapsed >= static_cast<long>(r.raw.size() * 1000 / 2000) - 100);
  CHECK(c.post(captured_request).what == outcome::kind::ok);  // keep-alive survives
}

TEST_CASE("lie_length: a Content-Length that is not the body's, then close") {
  test_server srv(with_rule(R"({"then": {"action": "lie_length", "content_length": 100000}})"));
  auto r = post_once(srv.port(), captured_request);
  CHECK(r.what == outcome::kind::eof);
  CHECK(r.raw.find("Content-Length: 100000\r\n") != std::string::npos);
  CHECK(r.raw.size() < 100000);
}

TEST_CASE("malformed_json: a well-framed 200 whose body does not parse") {
  test_server srv(with_rule(R"({"then": {"action": "malformed_json"}})"));
  auto r = post_once(srv.port(), captured_request);
  CHECK(r.status == 200);
  CHECK(r.what == outcome::kind::ok);
  CHECK(json::parse(r.body, nullptr, false).is_discarded());
}

TEST_CASE("reset and hang after the request is read") {
  test_server srv(with_rule(R"({"when": {"operation": "polling"}, "then": {"action": "hang", "for_ms": 3000}},
                               {"when": {"operation": "activation_license"}, "then": {"action": "reset"}})"));
  client c(srv.port(), quick());
  REQUIRE(c.ok());
  CHECK(c.post(captured_request).what == outcome::kind::reset);
  client p(srv.port(), quick());
  REQUIRE(p.ok());
  CHECK(p.post(R"({"d": {"__type": "SoftToken.PollingRequest", "tokens": []}})").what == outcome::kind::timeout);
}

TEST_CASE("flaky.json: the first two imports are reset, the third succeeds, other calls never fail") {
  test_server srv(shipped("flaky.json"));
  std::string poll = R"({"d": {"__type": "SoftToken.PollingRequest", "tokens": []}})";
  CHECK(post_once(srv.port(), poll).status == 200);
  CHECK(post_once(srv.port(), captured_request).what == outcome::kind::reset);
  CHECK(post_once(srv.port(), poll).status == 200);
  CHECK(post_once(srv.port(), captured_request).what == outcome::kind::reset);
  auto third = post_once(srv.port(), captured_request);
  REQUIRE(third.what == outcome::kind::ok);
  CHECK(json::parse(third.body)["d"]["tokens"].size() == 5);
  CHECK(post_once(srv.port(), captured_request).what == outcome::kind::ok);
}

TEST_CASE("slow.json: imports take at least 3 s and other replies are dribbled") {
  test_server srv(shipped("slow.json"));
  client c(srv.port(), quick(10s));
  REQUIRE(c.ok());
  auto t = steady::now();
  CHECK(c.post(captured_request).status == 200);
  CHECK(ms_since(t) >= 3000);
  t = steady::now();
  auto r = c.post(R"({"d": {"__type": "SoftToken.PollingRequest", "tokens": [{"token": "FTKMOB0000000001"}]}})");
  CHECK(r.status == 200);
  CHECK(ms_since(t) >= static_cast<long>(r.raw.size() * 1000 / 200) - 200);
}

// ---- protocol stage ----

TEST_CASE("protocol errors over TLS: by code, custom, and for single cluster members") {
  test_server srv(
      with_rule(R"({"when": {"serial_number": "FG1"}, "then": {"action": "error", "code": "license_expired"}},
                               {"when": {"serial_number": "FG2"}, "then": {"action": "error", "code": 4242, "message": "maintenance"}},
                               {"when": {"serial_number": "FG3"}, "then": {"action": "error", "members": {"FG4": "Product is not registered"}}})"));
  auto d1 = json::parse(post_once(srv.port(), import_request("1234-1234-1234-1234-1234", "FG1")).body)["d"];
  CHECK(d1["error"]["error_code"] == 14);
  auto d2 = json::parse(post_once(srv.port(), import_request("1234-1234-1234-1234-1234", "FG2")).body)["d"];
  CHECK(d2["error"] == json{{"error_code", 4242}, {"error_message", "maintenance"}});
  auto d3 =
      json::parse(post_once(srv.port(), import_request("1234-1234-1234-1234-1234", "FG3", {"FG3", "FG4"})).body)["d"];
  CHECK(d3["error"].is_null());
  CHECK(d3["__clustered_sns"][0]["error"].is_null());
  CHECK(d3["__clustered_sns"][1]["error"] == "Product is not registered");  // a string [seen]
  // The journal and the text log mark a member's error as an error, though it has no code.
  auto last = srv.engine().journal().select().back();
  CHECK(last["member_errors"] == "FG4: Product is not registered");
  CHECK(last["errors"] == "");
  core::journal_entry e;
  e.stage = "http";
  e.status = 200;
  e.member_errors = last["member_errors"];
  std::string line;
  core::write_text_line(e, line, core::secrets::hidden, false);
  CHECK(line.find(" -> 200 member_errors=\"FG4: Product is not registered\"") != std::string::npos);
}

TEST_CASE("a full reply override echoes request fields") {
  test_server srv(
      with_rule(R"({"then": {"action": "reply", "body": {"d": {"__type": "SoftToken.ActivationLicenseResponse",
      "serial_number": "{{d.serial_number}}", "note": "code {{d.license_activation_code}}", "result": 0, "error": null}}}})"));
  auto d = json::parse(post_once(srv.port(), captured_request).body)["d"];
  CHECK(d["serial_number"] == "FG4H0ETB20900993");
  CHECK(d["note"] == "code DA8C-0508-1F31-4CF7-C990");
}

TEST_CASE("lock-consumed.json: 903 without a seed, one seed then 903, 904 for strangers") {
  test_server srv(shipped("lock-consumed.json"));
  auto activate = [&](const std::string& serial) {
    return json::parse(
        post_once(srv.port(), R"({"d": {"__type": "SoftToken.HardwareActivationRequest", "__version": "4",
        "serial_number": "FG1", "tokens": [{"token": ")" +
                                  serial + R"("}]}})")
            .body)["d"]["tokens"][0];
  };
  auto consumed = activate("FTK2000000000001");
  CHECK(consumed["error"]["error_code"] == 903);
  CHECK(consumed["error"]["error_message"] == "token already activated, and seed won't be returned");
  CHECK(consumed["seed"] == "");
  CHECK(activate("FTK2000000000002")["seed"].get<std::string>().size() == 40);
  CHECK(activate("FTK2000000000002")["error"]["error_code"] == 903);
  CHECK(activate("FTK2009999999999")["error"]["error_code"] == 904);
}

// ---- determinism ----

TEST_CASE("two runs with the same seed give the same sequence of outcomes — the seed is journaled") {
  auto run = [](int seed) {
    test_server srv(R"({"seed": )" + std::to_string(seed) + R"(, "unknown_codes": {"answer": "accept"}, "rules": [
        {"probability": 0.5, "when": {"operation": "activation_license"}, "then": {"action": "close"}}]})");
    std::string seq;
    for (int i = 0; i < 24; ++i) seq += post_once(srv.port(), captured_request).what == outcome::kind::ok ? 'o' : 'x';
    auto j = json::parse(control(srv.admin_port(), "GET", "/journal").second);
    CHECK(j.size() == 24);
    for (const auto& e : j) CHECK(e["seed"] == seed);
    return seq;
  };
  auto a = run(11), b = run(11), c = run(12);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a.find('o') != std::string::npos);
  CHECK(a.find('x') != std::string::npos);
}

}  // TEST_SUITE
