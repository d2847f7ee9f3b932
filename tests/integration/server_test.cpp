// fortisim over real TLS on 127.0.0.1:0: certificates, keep-alive, malformed input, the control
// API, and the whole activation story end to end.
#include "../support/temp_folder.hpp"
#include "support.hpp"

#include "pki/lab.hpp"
#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <unistd.h>

#include <ctime>
#include <fstream>
#include <future>

using namespace fortisim;
using protocol::json;
using namespace fortisim::test;

TEST_SUITE("server") {

TEST_CASE("the captured import over TLS yields the captured reply, for every lab host name, verified by the lab CA") {
  test_server srv(shipped("expired-license.json"));
  REQUIRE_FALSE(srv.ca().empty());
  for (const auto& name : pki::lab_host_names()) {
    CAPTURE(name);
    client_options o;
    o.ca = srv.ca();
    o.sni = name == "127.0.0.1" || name == "::1" ? "" : name;
    o.verify_name = name;
    client c(srv.port(), o);
    REQUIRE_MESSAGE(c.ok(), c.connected().detail);
    CHECK(c.connected().verify_result == X509_V_OK);
    auto r = c.post(captured_request);
    CHECK(r.what == outcome::kind::ok);
    CHECK(r.status == 200);
    CHECK(r.headers["content-type"] == "application/json; charset=utf-8");
    CHECK(r.body == captured_reply);
  }
}

TEST_CASE("TLS 1.2 and 1.3 are both served") {
  test_server srv(shipped("default.json"));
  client_options o;
  o.ca = srv.ca();
  o.max_tls = TLS1_2_VERSION;
  client c12(srv.port(), o);
  REQUIRE(c12.ok());
  CHECK(c12.connected().tls_version == "TLSv1.2");
  o.max_tls = 0;
  client c13(srv.port(), o);
  REQUIRE(c13.ok());
  CHECK(c13.connected().tls_version == "TLSv1.3");
}

TEST_CASE("keep-alive: malformed bodies get 9xx replies and the same connection keeps working") {
  test_server srv(shipped("default.json"));
  client c(srv.port());
  REQUIRE(c.ok());
  for (const char* body :
       {"{{{", "{\"d\": 1}", R"({"d": {"__type": "SoftToken.NoSuchRequest"}})",
        R"({"d": {"__type": "SoftToken.ActivationLicenseRequest", "license_activation_code": []}})"}) {
    CAPTURE(body);
    auto r = c.post(body);
    REQUIRE(r.what == outcome::kind::ok);
    CHECK(r.status == 200);
    CHECK(json::parse(r.body)["d"]["error"]["error_code"].get<int>() >= 990);
  }
  auto good = c.post(import_request("1111-2222-3333-4444-5555"));
  REQUIRE(good.what == outcome::kind::ok);
  CHECK(json::parse(good.body)["d"]["tokens"].size() == 5);
  auto card = c.post(import_request("1111-2222-3333-4444-0010"));
  CHECK(json::parse(card.body)["d"]["error"]["error_code"] == 10);
  CHECK(c.request("GET", "/SoftToken/Provisioning.asmx/Process", "").status == 405);
  CHECK(c.request("POST", "/index.html", "{}").status == 404);
  CHECK(c.post(captured_request).status == 200);  // still the same connection
}

TEST_CASE("Expect: 100-continue gets its go-ahead, then the reply") {
  test_server srv(shipped("default.json"));
  client c(srv.port());
  REQUIRE(c.ok());
  auto body = import_request("1234-1234-1234-1234-1234");
  auto r = c.raw_exchange(
      "POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  // Only the interim response came: the server waits for the body.
  CHECK(r.raw.starts_with("HTTP/1.1 100 Continue\r\n\r\n"));
  auto rest = c.raw_exchange(body);
  CHECK(rest.status == 200);
  CHECK(json::parse(rest.body)["d"]["tokens"].size() == 5);
}

TEST_CASE("an oversized body gets 413, oversized headers 431, a broken request 400, and the server keeps serving") {
  test_server srv(shipped("default.json"));
  {
    // Refused on its announced length, before any of the body is read.
    client c(srv.port());
    auto r = c.raw_exchange(
        "POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n");
    CHECK(r.status == 413);
    CHECK(r.headers["content-type"] == "text/html; charset=utf-8");  // every HTTP error in one style
    CHECK(r.body.find("<h1>413 - ") != std::string::npos);
    CHECK(r.headers.contains("date"));
  }
  {
    client c(srv.port());
    auto r = c.raw_exchange("NOT HTTP AT ALL\r\n\r\n");
    CHECK(r.status == 400);
  }
  {
    client c(srv.port());
    auto r = c.raw_exchange("POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') +
                            "\r\n\r\n");
    CHECK(r.status == 431);
    CHECK(r.headers["server"] == "Microsoft-IIS/10.0");  // the head every reply has
    CHECK(r.headers["connection"] == "close");
  }
  CHECK(post_once(srv.port(), captured_request).status == 200);
  auto journal = json::parse(control(srv.admin_port(), "GET", "/journal").second);
  int bad = 0;
  for (const auto& e : journal)
    if (e["reason"].get<std::string>().starts_with("bad request")) ++bad;
  CHECK(bad == 3);
}

TEST_CASE("HTTP as IIS answers it: HTTP/1.1 to an HTTP/1.0 request, a Date on every reply, paths without case") {
  test_server srv(shipped("default.json"));
  client c(srv.port());
  auto r = c.raw_exchange("POST /softtoken/PROVISIONING.asmx/process HTTP/1.0\r\nHost: x\r\nContent-Length: " +
                          std::to_string(captured_request.size()) + "\r\n\r\n" + captured_request);
  REQUIRE(r.what == outcome::kind::ok);
  CHECK(r.raw.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(r.headers["connection"] == "close");  // HTTP/1.0 without keep-alive: said, then done
  std::tm tm{};
  CHECK(::strptime(r.headers["date"].c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) != nullptr);
  CHECK(json::parse(r.body)["d"]["__type"] == "SoftToken.ActivationLicenseResponse");  // the page, in another case
  auto e = json::parse(control(srv.admin_port(), "GET", "/journal?stage=http").second).back();
  CHECK(e["operation"] == "activation_license");
  CHECK(post_once(srv.port(), captured_request, {}).headers.contains("date"));
  // IIS's own headers by default [assumed], on errors too; a scenario replaces or drops them.
  client again(srv.port());
  for (const auto& reply : {r, again.raw_exchange("GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")}) {
    CHECK(reply.headers.at("server") == "Microsoft-IIS/10.0");
    CHECK(reply.headers.at("x-powered-by") == "ASP.NET");
    CHECK(reply.headers.at("x-aspnet-version") == "4.0.30319");
    CHECK(reply.headers.at("cache-control") == "private");
  }
  // HEAD gets the head alone: its Content-Length, and not a byte of body before the connection ends.
  client head(srv.port());
  auto h =
      head.raw_exchange("HEAD /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(h.raw.starts_with("HTTP/1.1 405 "));
  CHECK(h.raw.find("\r\nContent-Length: ") != std::string::npos);
  CHECK(h.raw.ends_with("\r\n\r\n"));
  test_server plain(R"({"http": {"iis_headers": false, "headers": {"Server": "fortisim lab"}}})");
  auto p = post_once(plain.port(), captured_request);
  CHECK(p.headers["server"] == "fortisim lab");
  CHECK_FALSE(p.headers.contains("x-powered-by"));
}

TEST_CASE("a rule's headers are on the replies it fires on, and paths can be told to keep their case") {
  test_server srv(R"({"http": {"case_insensitive_paths": false},
    "rules": [{"name": "busy", "times": 1, "then": {"action": "status", "status": 503, "body": "busy"},
               "headers": {"Retry-After": "120", "Server": null}}]})");
  auto busy = post_once(srv.port(), captured_request);
  CHECK(busy.status == 503);
  CHECK(busy.headers["retry-after"] == "120");
  CHECK_FALSE(busy.headers.contains("server"));
  auto plain = post_once(srv.port(), captured_request);
  CHECK(plain.status == 200);
  CHECK_FALSE(plain.headers.contains("retry-after"));
  CHECK(plain.headers["server"] == "Microsoft-IIS/10.0");
  client c(srv.port());
  auto lower = c.raw_exchange(
      "POST /softtoken/provisioning.asmx/process HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
      "Content-Length: " +
      std::to_string(captured_request.size()) + "\r\n\r\n" + captured_request);
  CHECK(lower.raw.starts_with("HTTP/1.1 404 "));
}

TEST_CASE("a body of invalid UTF-8 gets error 990, and the journal still shows it") {
  test_server srv(shipped("default.json"));
  auto r = post_once(srv.port(), "{\"d\": \"\xff\xfe\"}");
  CHECK(json::parse(r.body)["d"]["error"]["error_code"] == 990);
  auto [status, body] = control(srv.admin_port(), "GET", "/journal");
  CHECK(status == 200);
  CHECK(json::parse(body)[0]["error_code"] == 990);
}

TEST_CASE("several worker threads share the port, and every one of them serves") {
  test_server srv(shipped("default.json"), 2);
  std::vector<std::future<int>> results;
  for (int i = 0; i < 32; ++i)
    results.push_back(std::async(std::launch::async, [&] { return post_once(srv.port(), captured_request).status; }));
  for (auto& r : results) {
    REQUIRE(r.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(r.get() == 200);
  }
  // The kernel spreads connections over the listeners by their ports: with 32 of them, a worker
  // that accepted none is a worker that is not listening (chance otherwise: 2^-31).
  auto workers = json::parse(control(srv.admin_port(), "GET", "/status").second)["workers"];
  REQUIRE(workers.size() == 2);
  CHECK(workers[0]["accepted"].get<int>() > 0);
  CHECK(workers[1]["accepted"].get<int>() > 0);
  CHECK(workers[0]["accepted"].get<int>() + workers[1]["accepted"].get<int>() == 32);
}

TEST_CASE("a token provisioned through the control API, without a FortiGate, activates on the phone") {
  test_server srv(shipped("default.json"));
  auto [status, body] = control(srv.admin_port(), "POST", "/tokens", "{}");
  REQUIRE(status == 200);
  auto made = json::parse(body);
  json m{{"d",
          {{"mobile_id", "0123456789abcdef"},
           {"__type", "SoftToken.MobileProvisionRequest"},
           {"token_activation_code", made["token_activation_code"]}}}};
  auto d = json::parse(post_once(srv.port(), m.dump()).body)["d"];
  CHECK(d["error"].is_null());
  CHECK(d["token"] == made["token"]);
  // A second phone is refused with error 40.
  m["d"]["mobile_id"] = "fedcba9876543210";
  CHECK(json::parse(post_once(srv.port(), m.dump()).body)["d"]["error"]["error_code"] == 40);
}

TEST_CASE("of concurrent hardware activations of one serial over TLS, exactly one gets the seed") {
  test_server srv(shipped("default.json"), 2);
  std::string body =
      R"({"d": {"__type": "SoftToken.HardwareActivationRequest", "__version": "4", "serial_number": "FG1",
                             "tokens": [{"token": "FTK2001234567890"}]}})";
  std::vector<std::future<json>> results;
  for (int i = 0; i < 12; ++i)
    results.push_back(std::async(std::launch::async, [&] { return json::parse(post_once(srv.port(), body).body); }));
  int seeds = 0, locked = 0;
  for (auto& r : results) {
    REQUIRE(r.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    auto t = r.get()["d"]["tokens"][0];
    if (!t["seed"].get<std::string>().empty()) ++seeds;
    if (t["error"].is_object() && t["error"]["error_code"] == 903) ++locked;
  }
  CHECK(seeds == 1);
  CHECK(locked == 11);
  // A control call releases the lock: one more chance.
  CHECK(control(srv.admin_port(), "POST", "/hardware/FTK2001234567890/release").first == 200);
  CHECK(json::parse(post_once(srv.port(), body).body)["d"]["tokens"][0]["seed"].get<std::string>().size() == 40);
}

TEST_CASE("the control API: status, journal, state, clock, and clear errors") {
  test_server srv(shipped("expired-license.json"));
  post_once(srv.port(), captured_request);
  auto status = json::parse(control(srv.admin_port(), "GET", "/status").second);
  CHECK(status["scenario"] == "expired-license");
  CHECK(status["requests"] == 1);
  auto journal = json::parse(control(srv.admin_port(), "GET", "/journal").second);
  REQUIRE(journal.size() == 1);
  CHECK(journal[0]["error_code"] == 14);
  CHECK(journal[0]["sni"] == "directregistration.fortinet.com");
  CHECK(control(srv.admin_port(), "DELETE", "/journal").first == 200);
  CHECK(json::parse(control(srv.admin_port(), "GET", "/journal").second).empty());
  auto before = json::parse(control(srv.admin_port(), "GET", "/clock").second)["now_s"].get<std::int64_t>();
  auto after = json::parse(control(srv.admin_port(), "POST", "/clock", R"({"advance_s": 86400})").second)["now_s"]
                   .get<std::int64_t>();
  CHECK(after - before >= 86400);
  CHECK(control(srv.admin_port(), "POST", "/clock", "{}").first == 400);
  CHECK(control(srv.admin_port(), "GET", "/nope").first == 404);
  CHECK(control(srv.admin_port(), "POST", "/clock", "not json").first == 400);
  CHECK(json::parse(control(srv.admin_port(), "GET", "/state").second)["licenses"].is_array());
}

}  // TEST_SUITE

TEST_SUITE("server") {

TEST_CASE("a data folder whose server certificate lacks a lab name gets a new one from the same CA") {
  temp_folder dir("oldcerts");
  auto first = pki::ensure_lab_certs(dir.path());
  auto ca_before = read_file(first.ca_cert);
  // An older fortisim's certificate: every name but fortinet-ca2.fortinet.com.
  auto ca = pki::load_cert_and_key(first.ca_cert, dir.file("ca-key.pem"));
  std::vector<std::string> old_names;
  for (const auto& n : pki::lab_host_names())
    if (n != "fortinet-ca2.fortinet.com") old_names.push_back(n);
  { std::ofstream(first.server_cert) << pki::make_server_cert(ca, old_names, -60, 86400).cert_pem() << ca.cert_pem(); }
  auto again = pki::ensure_lab_certs(dir.path());
  CHECK(read_file(again.ca_cert) == ca_before);  // clients keep trusting it
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(again.server_cert.c_str(), "r"), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  REQUIRE(cert);
  CHECK(X509_check_host(cert.get(), "fortinet-ca2.fortinet.com", 0, 0, nullptr) == 1);
}

}  // TEST_SUITE
