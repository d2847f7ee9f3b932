// The control API as a test harness uses it: strict answers to bad input, access rules, reset,
// journal filters and counts, runtime rules, metrics, health, the CA, a token's QR code, where
// fortisim listens.
#include "prelude.hpp"

#include "protocol/seed_crypto.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <future>

using namespace fortisim;
using namespace fortisim::test;
using protocol::json;
using namespace std::chrono_literals;

namespace {

const char* world = R"({"seed": 4, "unknown_codes": {"answer": "accept"}, "unknown_hardware": "accept",
  "licenses": [{"activation_code": "AAAA-0000-0000-0000-0001", "license": "EFTM000000000001", "token_count": 2}]})";

int status_of(std::uint16_t admin, const std::string& method, const std::string& target, const std::string& body = "") {
  return control(admin, method, target, body).first;
}

std::string error_of(std::uint16_t admin, const std::string& method, const std::string& target,
                     const std::string& body = "") {
  return json::parse(control(admin, method, target, body).second).value("error", "");
}

/// A request with headers of our choosing, as a browser or another tool would send it.
int raw_status(std::uint16_t admin, const std::string& head, const std::string& body = "") {
  auto r = control_raw(
      admin, head + "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  REQUIRE(r.has_value());
  return r->first;
}

json d_of(const outcome& o) { return json::parse(o.body)["d"]; }

std::string without_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

/// What an independent reader (zbar) reads in a PNG.
std::string qr_read(const std::string& png) {
  temp_folder dir("qr");
  return without_newlines(run("zbarimg --raw -q " + dir.write("qr.png", png) + " 2>/dev/null"));  // stderr: D-Bus noise
}

/// A FortiGate's ProvisionRequest for `token` with its own seed, a code lasting `code_expire` minutes.
std::string provision_request(const std::string& serial, const std::string& token, int code_expire) {
  json t{{"token", token}, {"seed", "A84E2CAAD3BCEA970E05DC1A9B7BD2D562622F4A"},
         {"type", "totp"}, {"period", 60},
         {"digits", 6},    {"code_expire", code_expire}};
  json d{{"__type", "SoftToken.ProvisionRequest"},
         {"__version", "4"},
         {"serial_number", serial},
         {"__clustered_sns", {{{"sn", serial}}}},
         {"tokens", {t}}};
  return json{{"d", d}}.dump();
}

/// The phone's MobileProvisionRequest with the 16 hex digits of an activation code.
std::string phone_request(const std::string& hex_code) {
  return json{{"d",
               {{"mobile_id", "0123456789abcdef"},
                {"__type", "SoftToken.MobileProvisionRequest"},
                {"token_activation_code", hex_code}}}}
      .dump();
}

}  // namespace

TEST_SUITE("control API") {

TEST_CASE("bad input gets 400 with the reason, never silence") {
  test_server srv(world);
  auto admin = srv.admin_port();
  CHECK(error_of(admin, "GET", "/journal?after=abc").find("after: expected an integer") != std::string::npos);
  CHECK(error_of(admin, "GET", "/journal?typ=x").find("unknown parameter \"typ\"") != std::string::npos);
  CHECK(error_of(admin, "POST", "/listener/refuse", R"({"for_ms": "10"})").find("for_ms: expected an integer") !=
        std::string::npos);
  CHECK(status_of(admin, "POST", "/clock", R"({"advance_s": 9223372036854775807})") == 400);
  CHECK(status_of(admin, "POST", "/clock", R"({"advance_s": 1, "advance_ms": 1})") == 400);
  // The clock stays within 1970 to 9999: no OTP is computed for a negative time.
  CHECK(error_of(admin, "POST", "/clock", R"({"advance_s": -3162240000})").find("would leave 1970 to 9999") !=
        std::string::npos);
  CHECK(status_of(admin, "POST", "/clock", R"({"now": -1})") == 400);
  CHECK(status_of(admin, "POST", "/clock", R"({"now": 253402300800})") == 400);
  CHECK(error_of(admin, "POST", "/tokens", R"({"tokn": "x"})").find("unknown key \"tokn\"") != std::string::npos);
  CHECK(status_of(admin, "POST", "/tokens", "{\"token\": \"\xff\"}") == 400);  // not UTF-8: not JSON
  CHECK(status_of(admin, "POST", "/tokens", "[1]") == 400);
  CHECK(error_of(admin, "POST", "/tokens", R"({"token": ""})").find("no \"token\": a new one") !=
        std::string::npos);  // not a new serial: that is {}
  CHECK(status_of(admin, "GET", "/journal?error_code=1e3") == 400);
  // A key given twice: which one was meant is not guessed (JSON would keep the last), as a query
  // parameter given twice is not; nothing is added.
  auto rules_before = control(admin, "GET", "/rules").second;
  CHECK(error_of(admin, "POST", "/rules", R"({"then": {"action": "error", "code": 14, "code": 10}})") ==
        "the body's key $.then.code is given twice in one object (JSON would keep the last one silently)");
  CHECK(control(admin, "GET", "/rules").second == rules_before);
  auto wrong_method = control(admin, "DELETE", "/status");
  CHECK(wrong_method.first == 405);
  CHECK(status_of(admin, "GET", "/no/such/call") == 404);
  CHECK(status_of(admin, "GET", "/health") == 200);  // and it still answers
}

TEST_CASE("every route is in one table: the console's files, its feed and GET /ca answer 405 as any call does") {
  test_server srv(world);
  auto admin = srv.admin_port();
  for (const char* path : {"/", "/console.js", "/events", "/ca", "/health"}) {
    std::string where = path;
    auto [status, body] = control(admin, "POST", path, "{}");
    CHECK_MESSAGE(status == 405, where);
    CHECK_MESSAGE(json::parse(body)["error"].get<std::string>().find("takes GET") != std::string::npos, where);
  }
  CHECK(status_of(admin, "GET", "/console.js?v=2") == 200);  // a query does not hide a file
  CHECK(status_of(admin, "GET", "/console.html") == 404);
  CHECK(status_of(admin, "GET", "/ca") == 200);
}

TEST_CASE("browsers and strangers are refused — a token, when set, is required") {
  test_server srv(world);
  auto admin = srv.admin_port();
  // A web page's cross-origin "simple" POST (text/plain, no preflight) and a DNS-rebinding Host.
  CHECK(raw_status(admin,
                   "POST /listener/refuse HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example\r\n"
                   "Content-Type: text/plain\r\n",
                   "{}") == 403);
  CHECK(raw_status(admin, "POST /listener/refuse HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n", "{}") ==
        415);
  CHECK(raw_status(admin, "GET /state HTTP/1.1\r\nHost: evil.example:" + std::to_string(admin) + "\r\n") == 403);
  CHECK(raw_status(admin, "GET /state HTTP/1.1\r\nHost: 127.0.0.1.evil.example\r\n") == 403);
  CHECK(raw_status(admin, "GET /status HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(admin) +
                              "\r\nOrigin: http://127.0.0.1:" + std::to_string(admin) + "\r\n") == 200);
  CHECK(tcp_connect_errno(srv.port()) == 0);  // nothing was refused

  test_server guarded(world, 1, std::nullopt, [](net::server_config& cfg) { cfg.admin_token = "s3cret"; });
  CHECK(raw_status(guarded.admin_port(), "GET /status HTTP/1.1\r\nHost: lab-host\r\n") == 401);
  CHECK(raw_status(guarded.admin_port(), "GET /status HTTP/1.1\r\nHost: lab-host\r\nAuthorization: Bearer nope\r\n") ==
        401);
  CHECK(raw_status(guarded.admin_port(),
                   "GET /status HTTP/1.1\r\nHost: lab-host\r\nAuthorization: Bearer s3cret\r\n") == 200);
}

TEST_CASE("reset: everything back to the scenario's start, or one licence, token, device or hardware token") {
  test_server srv(world);
  auto admin = srv.admin_port();
  auto import = [&](const std::string& code, const std::string& serial) {
    return d_of(post_once(srv.port(), import_request(code, serial)));
  };
  CHECK(import("AAAA-0000-0000-0000-0001", "FG1")["error"].is_null());
  CHECK(import("AAAA-0000-0000-0000-0001", "FG2")["error"]["error_code"] == 901);
  CHECK(status_of(admin, "POST", "/reset", R"({"license": "AAAA-0000-0000-0000-0001"})") == 200);
  CHECK(import("AAAA-0000-0000-0000-0001", "FG2")["error"].is_null());  // free again, now FG2's
  CHECK(status_of(admin, "POST", "/reset", R"({"serial": "FG2"})") == 200);
  CHECK(import("AAAA-0000-0000-0000-0001", "FG3")["error"].is_null());
  CHECK(status_of(admin, "POST", "/reset", R"({"license": "FFFF-0000-0000-0000-0009"})") == 404);
  CHECK(status_of(admin, "POST", "/reset", R"({"license": "x", "token": "y"})") == 400);

  std::string hw =
      R"({"d":{"__type":"SoftToken.HardwareActivationRequest","serial_number":"FG1","tokens":[{"token":"FTK2000000000077"}]}})";
  CHECK(d_of(post_once(srv.port(), hw))["tokens"][0]["error"].is_null());
  CHECK(d_of(post_once(srv.port(), hw))["tokens"][0]["error"]["error_code"] == 903);
  CHECK(status_of(admin, "POST", "/reset", R"({"hardware": "FTK2000000000077"})") == 200);
  CHECK(d_of(post_once(srv.port(), hw))["tokens"][0]["error"].is_null());

  CHECK(status_of(admin, "POST", "/clock", R"({"advance_s": 3600})") == 200);
  CHECK(status_of(admin, "POST", "/rules", R"({"name": "x", "then": {"action": "close"}})") == 200);
  CHECK(status_of(admin, "POST", "/reset", "{}") == 200);
  auto state = json::parse(control(admin, "GET", "/state").second);
  CHECK(state["tokens"].empty());
  CHECK(state["hardware_tokens"].empty());
  CHECK(json::parse(control(admin, "GET", "/journal").second).empty());
  CHECK(json::parse(control(admin, "GET", "/rules").second).empty());
  CHECK(import("AAAA-0000-0000-0000-0001", "FG9")["error"].is_null());
}

TEST_CASE("the journal filters and counts, and says why each exchange got its answer") {
  test_server srv(world);
  auto admin = srv.admin_port();
  post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001", "FG1", {"FG1", "FG2"}));
  post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001", "FG7"));
  post_once(srv.port(), "not json");
  auto count = [&](const std::string& query) {
    return json::parse(control(admin, "GET", "/journal/count?" + query).second)["count"].get<int>();
  };
  CHECK(count("operation=activation_license") == 2);
  CHECK(count("serial=FG2") == 1);
  CHECK(count("error_code=901") == 1);
  CHECK(count("error_code=990") == 1);
  CHECK(count("code=AAAA-0000-0000-0000-0001&serial=FG7") == 1);
  CHECK(count("type=ActivationLicenseRequest") == 2);
  CHECK(count("stage=tls") == 0);
  auto refused = json::parse(control(admin, "GET", "/journal?error_code=901").second);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0]["reason"].get<std::string>().find("is bound to FG1, FG2; FG7 is not in its cluster") !=
        std::string::npos);
  auto first = json::parse(control(admin, "GET", "/journal?limit=1").second);
  REQUIRE(first.size() == 1);
  CHECK(first[0]["serials"] == "FG1 FG1 FG2");
  auto later = json::parse(control(admin, "GET", "/journal?after=" + first[0]["seq"].dump()).second);
  CHECK(later.size() == 2);
}

TEST_CASE("rules at runtime: validated like a scenario's, tried first, kept across a reload, deleted by name") {
  temp_folder dir("runtime-rules");
  std::string file = dir.write("lab.json", world);
  test_server srv(world, 1, std::nullopt, [&](net::server_config& cfg) { cfg.scenario_path = file; });
  auto admin = srv.admin_port();
  auto rule =
      R"({"name": "expired for FG5", "when": {"serial_number": "FG5"}, "then": {"action": "error", "code": 14}})";
  CHECK(status_of(admin, "POST", "/rules", rule) == 200);
  CHECK(status_of(admin, "POST", "/rules", rule) == 422);  // the name is taken
  auto bad = control(admin, "POST", "/rules", R"({"name": "typo", "then": {"action": "explode"}})");
  CHECK(bad.first == 422);
  CHECK(bad.second.find("$.then.action") != std::string::npos);
  auto code = [&] { return d_of(post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001", "FG5")))["error"]; };
  CHECK(code()["error_code"] == 14);
  CHECK(status_of(admin, "POST", "/reload") == 200);
  CHECK(code()["error_code"] == 14);  // still there after a reload of the file
  auto rules = json::parse(control(admin, "GET", "/rules").second);
  REQUIRE_FALSE(rules.empty());
  CHECK(rules[0]["source"] == "runtime");
  CHECK(rules[0]["fired"] == 2);
  CHECK(rules[0]["rule"]["when"]["serial_number"] == "FG5");
  CHECK(status_of(admin, "DELETE", "/rules/expired%20for%20FG5") == 200);
  CHECK(status_of(admin, "DELETE", "/rules/expired%20for%20FG5") == 404);
  CHECK(code().is_null());  // the licence answers from the model again
  // In a path, '+' is itself (a space only in a query): deleting "a+b" never deletes "a b".
  for (const char* name : {"a b", "a+b"})
    REQUIRE(status_of(admin, "POST", "/rules",
                      json{{"name", name}, {"then", {{"action", "error"}, {"code", 14}}}}.dump()) == 200);
  CHECK(status_of(admin, "DELETE", "/rules/a+b") == 200);
  std::vector<std::string> left;
  for (const auto& r : json::parse(control(admin, "GET", "/rules").second))
    if (r["source"] == "runtime") left.push_back(r["name"]);
  CHECK(left == std::vector<std::string>{"a b"});
  auto bad_escape = control(admin, "DELETE", "/rules/%zz");
  CHECK(bad_escape.first == 400);
  CHECK(bad_escape.second.find("the path has a bad %-escape") != std::string::npos);
}

TEST_CASE("runtime rules are bounded: 256 at once, names of at most 128 bytes") {
  test_server srv(world);
  auto admin = srv.admin_port();
  for (int i = 0; i < 256; ++i)
    REQUIRE(status_of(admin, "POST", "/rules",
                      R"({"name": "r)" + std::to_string(i) + R"(", "then": {"action": "delay", "ms": 1}})") == 200);
  auto full = control(admin, "POST", "/rules", R"({"name": "one more", "then": {"action": "delay", "ms": 1}})");
  CHECK(full.first == 422);
  CHECK(full.second.find("256 runtime rules") != std::string::npos);
  CHECK(status_of(admin, "DELETE", "/rules/r0") == 200);
  CHECK(status_of(admin, "POST", "/rules", R"({"name": "one more", "then": {"action": "delay", "ms": 1}})") == 200);
  auto long_name = control(admin, "POST", "/rules",
                           R"({"name": ")" + std::string(129, 'n') + R"(", "then": {"action": "delay", "ms": 1}})");
  CHECK(long_name.first == 422);
  CHECK(long_name.second.find("at most 128") != std::string::npos);
}

TEST_CASE("metrics, health and the CA") {
  test_server srv(world);
  auto admin = srv.admin_port();
  post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001", "FG1"));
  post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001", "FG2"));
  auto metrics = control(admin, "GET", "/metrics").second;
  CHECK(
      metrics.find(
          R"(fortisim_requests_total{endpoint="process",operation="activation_license",error_code="901",status="200"} 1)") !=
      std::string::npos);
  CHECK(metrics.find("fortisim_request_duration_seconds_count") != std::string::npos);
  CHECK(metrics.find("fortisim_connections_total 2") != std::string::npos);
  CHECK(json::parse(control(admin, "GET", "/health").second)["status"] == "ok");
  auto ca = control(admin, "GET", "/ca");
  CHECK(ca.first == 200);
  CHECK(ca.second == read_file(srv.ca()));
}

TEST_CASE("GET /tokens/<serial>/qr: FortiCare's qr_code as a PNG while the token waits for its phone, else 404") {
  test_server srv(world);
  auto admin = srv.admin_port();
  post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001", "FG1"));
  std::string token = json::parse(control(admin, "GET", "/world").second)["licenses"][0]["tokens"][0];
  std::string path = "/tokens/" + token + "/qr";
  CHECK(status_of(admin, "GET", path) == 404);  // imported, not provisioned: no code yet
  auto provisioned = d_of(post_once(srv.port(), provision_request("FG1", token, 60)))["tokens"][0];
  REQUIRE(provisioned["error"].is_null());
  auto [status, png] = control(admin, "GET", path);
  REQUIRE(status == 200);
  CHECK(png.starts_with(std::string("\x89PNG\r\n\x1a\n", 8)));
  CHECK(png == protocol::base64_decode(provisioned["qr_code"].get<std::string>()).value_or(""));
  CHECK(qr_read(png) == provisioned["token_activation_code"]);
  CHECK(error_of(admin, "GET", path + "?size=2").find("size") != std::string::npos);
  CHECK(status_of(admin, "GET", "/tokens/FTKMOB0000000000/qr") == 404);
  CHECK(status_of(admin, "POST", path) == 405);
  // Past its code's expiry, the token no longer waits.
  control(admin, "POST", "/clock", R"({"advance_s": 3660})");
  CHECK(status_of(admin, "GET", path) == 404);

  // A token made through the control API: its code, until the phone has used it.
  auto made = json::parse(control(admin, "POST", "/tokens", "{}").second);
  std::string made_path = "/tokens/" + made["token"].get<std::string>() + "/qr";
  auto made_qr = control(admin, "GET", made_path);
  REQUIRE(made_qr.first == 200);
  CHECK(qr_read(made_qr.second) == made["activation_code"]);
  REQUIRE(d_of(post_once(srv.port(), phone_request(made["token_activation_code"]))).at("error").is_null());
  CHECK(status_of(admin, "GET", made_path) == 404);
}

TEST_CASE("GET /status says where fortisim listens and which lab CA it serves, as the ready line does") {
  served_binary p({"--scenario", source + "/scenarios/default.json", "--dns", "127.0.0.1:0", "--quiet"});
  auto status = json::parse(control(p.admin_port(), "GET", "/status").second);
  CHECK(status["addresses"] == json{{"https", p.listen()}, {"dns", p.ready()["dns"]}, {"admin", p.ready()["admin"]}});
  CHECK(status["ca"]["sha256"] == p.ready()["ca_sha256"]);
  CHECK(status["ca"]["sha256"] == without_newlines(control(p.admin_port(), "GET", "/ca?format=sha256").second));
  // The QR route as a browser reads it: a PNG, said so.
  auto made = json::parse(control(p.admin_port(), "POST", "/tokens", "{}").second);
  auto head = run("curl -sS --noproxy '*' --max-time 10 -o /dev/null -w '%{content_type} %{http_code}' http://" +
                  p.ready()["admin"].get<std::string>() + "/tokens/" + made["token"].get<std::string>() + "/qr");
  CHECK(head == "image/png 200");

  served_binary without_dns({"--scenario", source + "/scenarios/default.json", "--quiet"});
  CHECK(json::parse(control(without_dns.admin_port(), "GET", "/status").second)["addresses"]["dns"].is_null());
}

TEST_CASE("reset is total: the world, the clock, rule counters, runtime rules, the journal and the listener") {
  test_server srv(R"({"seed": 4, "clock": {"now": "2026-01-01T00:00:00Z", "rate": 0},
    "licenses": [{"activation_code": "AAAA-0000-0000-0000-0001", "license": "EFTM000000000001", "token_count": 2}],
    "hardware_tokens": [{"token": "FTK2000000000077"}],
    "rules": [{"name": "FG-S once", "times": 1, "when": {"serial_number": "FG-S"}, "then": {"action": "error", "code": 31}}]})");
  auto admin = srv.admin_port();
  auto get = [&](const std::string& target) { return json::parse(control(admin, "GET", target).second); };
  auto import = [&](const std::string& serial) {
    return d_of(post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001", serial)))["error"];
  };
  const json state = get("/state"), rules = get("/rules"), clock = get("/clock");
  REQUIRE(get("/health")["listening"] == true);

  CHECK(import("FG1").is_null());  // a binding
  std::string hw =
      R"({"d":{"__type":"SoftToken.HardwareActivationRequest","serial_number":"FG1","tokens":[{"token":"FTK2000000000077"}]}})";
  CHECK(d_of(post_once(srv.port(), hw))["tokens"][0]["error"].is_null());  // the lock consumed
  CHECK(import("FG-S")["error_code"] == 31);                               // a scenario rule's counter
  CHECK(status_of(admin, "POST", "/rules",
                  R"({"name": "x", "when": {"serial_number": "FG-R"}, "then": {"action": "close"}})") == 200);
  CHECK(status_of(admin, "POST", "/clock", R"({"advance_s": 3600})") == 200);
  CHECK(status_of(admin, "POST", "/listener/refuse", "{}") == 200);
  CHECK(tcp_connect_errno(srv.port()) == ECONNREFUSED);
  REQUIRE(get("/state") != state);
  REQUIRE(get("/rules") != rules);
  REQUIRE_FALSE(get("/journal").empty());

  CHECK(status_of(admin, "POST", "/reset", "{}") == 200);
  CHECK(get("/state") == state);  // bindings, tokens, locks, the clock
  CHECK(get("/rules") == rules);  // no runtime rule, every counter at 0
  CHECK(get("/clock") == clock);
  CHECK(get("/journal").empty());
  CHECK(get("/status")["requests"] == 0);
  CHECK(get("/health")["listening"] == true);
  CHECK(tcp_connect_errno(srv.port()) == 0);
  CHECK(import("FG-S")["error_code"] == 31);  // the scenario's rule fires again, as at the start
}

TEST_CASE("reset refuses again when the scenario refuses from the start") {
  test_server srv(R"({"rules": [{"name": "refuse until told otherwise", "then": {"action": "refuse"}}]})");
  auto admin = srv.admin_port();
  CHECK(tcp_connect_errno(srv.port()) == ECONNREFUSED);
  CHECK(status_of(admin, "POST", "/listener/open", "{}") == 200);
  CHECK(tcp_connect_errno(srv.port()) == 0);
  CHECK(status_of(admin, "POST", "/reset", "{}") == 200);
  CHECK(json::parse(control(admin, "GET", "/health").second)["listening"] == false);
  CHECK(tcp_connect_errno(srv.port()) == ECONNREFUSED);
}

TEST_CASE("a runtime rule keeps its counters when other rules are added and deleted") {
  test_server srv(world);
  auto admin = srv.admin_port();
  auto fired = [&](const std::string& name) {
    for (const auto& r : json::parse(control(admin, "GET", "/rules").second))
      if (r["name"] == name) return r["fired"].get<int>();
    return -1;
  };
  auto code = [&] { return d_of(post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001", "FG1")))["error"]; };
  CHECK(status_of(admin, "POST", "/rules",
                  R"({"name": "once", "times": 1, "then": {"action": "error", "code": 14}})") == 200);
  CHECK(code()["error_code"] == 14);
  CHECK(code().is_null());
  CHECK(status_of(admin, "POST", "/rules",
                  R"({"name": "other", "when": {"serial_number": "FG-X"}, "then": {"action": "close"}})") == 200);
  CHECK(fired("once") == 1);
  CHECK(code().is_null());
  CHECK(status_of(admin, "DELETE", "/rules/other") == 200);
  CHECK(fired("once") == 1);
  CHECK(code().is_null());
}

TEST_CASE("a runtime rule cannot take a name a rule has, nor a reloaded file's rule a runtime rule's") {
  temp_folder folder("rule-names");
  std::string dir = folder.path();
  std::string file = dir + "/lab.json";
  const char* lab =
      R"({"rules": [{"name": "slow", "when": {"serial_number": "FG-X"}, "then": {"action": "delay", "ms": 1}}]})";
  { std::ofstream(file) << lab; }
  test_server srv(lab, 1, std::nullopt, [&](net::server_config& cfg) { cfg.scenario_path = file; });
  auto admin = srv.admin_port();
  auto clash = control(admin, "POST", "/rules", R"({"name": "slow", "then": {"action": "close"}})");
  CHECK(clash.first == 422);
  std::string why = json::parse(clash.second)["error"];
  CHECK(why.find("$.name: \"slow\" is the name of the scenario's rule $.rules[0]") != std::string::npos);

  CHECK(status_of(admin, "POST", "/rules",
                  R"({"name": "mine", "when": {"serial_number": "FG-Y"}, "then": {"action": "close"}})") == 200);
  { std::ofstream(file) << R"({"seed": 9, "rules": [{"name": "mine", "then": {"action": "close"}}]})"; }
  CHECK(status_of(admin, "POST", "/reload") == 422);
  auto refused = error_of(admin, "POST", "/reload");
  CHECK(refused.ends_with("\nrefused: the last good scenario stays live"));
  CHECK(refused.find("\n\n") == std::string::npos);
  CHECK(error_of(admin, "POST", "/reload").find(file + ": $.rules[0].name: \"mine\" is the name of a runtime rule") !=
        std::string::npos);
  CHECK(json::parse(control(admin, "GET", "/status").second)["seed"] == 1);  // the last good scenario stays live
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "a switch with a reset is one change: a failed write answers 503 and changes nothing, a good one commits once") {
  // From an attacker's trial: the switch and the reset were two writes; when the second failed,
  // the switch that had taken (file, world, rules) was answered 503.
  temp_folder dir("switch-reset");
  auto state = dir.file("state.db");
  auto a = dir.write("a.json", world);
  auto b = dir.write("b.json", R"({"seed": 5, "unknown_codes": {"answer": "accept"}})");
  test_server srv(world, 1, state, [&](net::server_config& cfg) { cfg.scenario_path = a; });
  auto admin = srv.admin_port();
  auto status = [&] { return json::parse(control(admin, "GET", "/status").second); };
  REQUIRE(d_of(post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001", "FG1")))["error"].is_null());
  REQUIRE(status_of(admin, "POST", "/rules",
                    R"({"name": "x", "when": {"serial_number": "FG9"}, "then": {"action": "close"}})") == 200);
  auto world_now = [&] {  // without the running clock
    auto w = json::parse(control(admin, "GET", "/state").second);
    w.erase("clock_ms");
    return w;
  };
  auto world_before = world_now();
  auto file_before = status()["file"];
  auto switch_to_b = json{{"scenario", b}, {"reset", true}}.dump();
  sqlite3* other = nullptr;  // holds the database's write lock: the next commit fails at once
  REQUIRE(sqlite3_open(state.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto [refused, why] = control(admin, "POST", "/scenario", switch_to_b);
  CHECK(refused == 503);
  CHECK(json::parse(why)["error"].get<std::string>().find("cannot write the state") != std::string::npos);
  CHECK(status()["file"] == file_before);
  CHECK(status()["seed"] == 4);
  CHECK(status()["last_reload"]["ok"] == false);
  CHECK(world_now() == world_before);
  CHECK(json::parse(control(admin, "GET", "/rules").second).size() == 1);
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  auto commits = status()["state"]["commits"].get<int>();
  CHECK(status_of(admin, "POST", "/scenario", switch_to_b) == 200);
  auto after = status();
  CHECK(after["file"] == b);
  CHECK(after["seed"] == 5);
  CHECK(after["state"]["commits"] == commits + 1);  // the switch and the reset, written at once
  CHECK(json::parse(control(admin, "GET", "/state").second)["tokens"].empty());
  CHECK(json::parse(control(admin, "GET", "/rules").second).empty());
}

TEST_CASE("changes are made one at a time, whoever asks, and reads go on beside a change") {
  test_server srv(world);
  auto admin = srv.admin_port();
  std::unique_lock held(srv.engine().admin_mutex());  // a change under way (a reload, say)
  auto change =
      std::async(std::launch::async, [&] { return try_control(admin, "POST", "/clock", R"({"advance_s": 60})"); });
  auto in_process = std::async(std::launch::async, [&] { return srv.server().reload(); });
  // Reads answer at once (asked in process: the control listener's worker waits with its change);
  // the changes wait their turn.
  CHECK(srv.server().control("GET", "/world", "").status == 200);
  CHECK(srv.server().control("GET", "/journal/count", "").status == 200);
  CHECK(change.wait_for(100ms) == std::future_status::timeout);
  CHECK(in_process.wait_for(0ms) == std::future_status::timeout);
  held.unlock();
  REQUIRE(change.wait_for(10s) == std::future_status::ready);
  auto answered = change.get();
  REQUIRE(answered.has_value());
  CHECK(answered->first == 200);
  REQUIRE(in_process.wait_for(10s) == std::future_status::ready);
  in_process.get();  // no scenario file: "" or a reason, either way answered
}

}  // TEST_SUITE
