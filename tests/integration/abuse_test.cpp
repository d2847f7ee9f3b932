// Abuse, bounded: every input that once took fortisim down, slow and crowded clients, and limits
// reached. After each, the server must still answer correctly.
#include "prelude.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

namespace {

/// The server still answers the captured import correctly.
void still_serves(std::uint16_t port) {
  auto r = post_once(port, captured_request);
  REQUIRE(r.what == outcome::kind::ok);
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["d"]["license_activation_code"] == "DA8C-0508-1F31-4CF7-C990");
}

std::string chunked_with_trailer(const std::string& target, std::size_t trailer_bytes) {
  return "POST " + target +
         " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
         "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Big: " +
         std::string(trailer_bytes, 'a') + "\r\n\r\n";
}

}  // namespace

TEST_SUITE("abuse") {

TEST_CASE("a chunked body with a 64 KiB trailer field gets 431, on the TLS port and on the control API") {
  test_server srv(shipped("default.json"));
  client c(srv.port());
  REQUIRE(c.ok());
  auto r = c.raw_exchange(chunked_with_trailer("/SoftToken/Provisioning.asmx/Process", 65534));
  CHECK(r.status == 431);
  auto admin = control_raw(srv.admin_port(), chunked_with_trailer("/status", 70000));
  REQUIRE(admin.has_value());
  CHECK(admin->first == 431);
  still_serves(srv.port());
  CHECK(control(srv.admin_port(), "GET", "/health").first == 200);
}

TEST_CASE("chunk extensions count together against the header limit: 431, on the TLS port and the control API") {
  // Each was bounded by the read buffer, but not all of them: the control API read 40 chunks of a
  // byte each, each with a 1,000-byte extension.
  test_server srv(shipped("default.json"));
  auto request = [](const std::string& target, int chunks) {
    std::string r = "POST " + target +
                    " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < chunks; ++i) r += "1;x=" + std::string(1000, 'e') + "\r\n" + (i ? " " : "{") + "\r\n";
    return r + "1\r\n}\r\n0\r\n\r\n";
  };
  client few(srv.port());
  CHECK(few.raw_exchange(request("/SoftToken/Provisioning.asmx/Process", 10)).status == 200);  // 10 KB: read
  client many(srv.port());
  CHECK(many.raw_exchange(request("/SoftToken/Provisioning.asmx/Process", 40)).status == 431);
  auto admin = control_raw(srv.admin_port(), request("/rules", 40));
  REQUIRE(admin.has_value());
  CHECK(admin->first == 431);
  still_serves(srv.port());
}

TEST_CASE("the control API frames a body as the TLS port does: no second request hidden in it") {
  // A Transfer-Encoding it could not end was ignored there, and the body answered as a call of
  // its own (a hidden POST /listener/refuse shut the listener).
  test_server srv(shipped("default.json"));
  const std::string clock = "POST /clock HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
  const std::string hidden =
      "POST /listener/refuse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
      "application/json\r\nContent-Length: 2\r\n\r\n{}";
  for (const auto& te : std::vector<std::pair<std::string, int>>{
           {"gzip", 400}, {"identity", 400}, {"chunked, gzip", 400}, {"gzip, chunked", 501}}) {
    CAPTURE(te.first);
    auto r = control_raw(srv.admin_port(), clock + "Transfer-Encoding: " + te.first + "\r\n\r\n" + hidden);
    REQUIRE(r.has_value());
    CHECK(r->first == te.second);
    CHECK_MESSAGE(r->second.find(te.second == 501 ? "the transfer coding gzip, chunked" : "bad Transfer-Encoding") !=
                      std::string::npos,
                  r->second);
  }
  CHECK(json::parse(control(srv.admin_port(), "GET", "/health").second)["listening"] == true);
  // With --admin-token, a stranger gets 401 whatever its framing (it got 501 and 400 first).
  test_server guarded(shipped("default.json"), 1, std::nullopt,
                      [](net::server_config& cfg) { cfg.admin_token = "s3cret"; });
  for (const auto& te : {"gzip", "gzip, chunked"}) {
    CAPTURE(te);
    auto r = control_raw(guarded.admin_port(), clock + "Transfer-Encoding: " + te + "\r\n\r\n" + hidden);
    REQUIRE(r.has_value());
    CHECK(r->first == 401);
  }
}

TEST_CASE("a body nested 70,000 deep gets error 990 (it once overflowed the stack)") {
  test_server srv(shipped("default.json"));
  std::string deep = R"({"d":{"__type":"SoftToken.ActivationLicenseRequest","license_activation_code":)" +
                     std::string(70000, '[') + std::string(70000, ']') + "}}";
  auto r = post_once(srv.port(), deep);
  REQUIRE(r.status == 200);
  auto d = json::parse(r.body)["d"];
  CHECK(d["error"]["error_code"] == 990);
  CHECK(d["error"]["error_message"].get<std::string>().find("nesting deeper than 64") != std::string::npos);
  still_serves(srv.port());
}

/// An object of `n` keys k0, k1, … each holding 0.
std::string object_of_keys(int n) {
  std::string out = "{";
  for (int i = 0; i < n; ++i) out += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  return out + "}";
}

TEST_CASE("an object of more than 256 keys gets 990, in a request and a control call (70,000 took 4 s to read)") {
  test_server srv(shipped("default.json"));
  auto request = [](int keys) {
    return R"({"d":{"__type":"SoftToken.ActivationLicenseRequest","license_activation_code":"DA8C-0508-1F31-4CF7-C990",)"
           R"("serial_number":"FG1","extra":)" +
           object_of_keys(keys) + "}}";
  };
  auto at_bound = post_once(srv.port(), request(256));
  REQUIRE(at_bound.status == 200);
  CHECK(json::parse(at_bound.body)["d"]["error"].is_null());  // 256 keys are read; the unknown field is ignored
  auto past = post_once(srv.port(), request(257));
  REQUIRE(past.status == 200);
  auto error = json::parse(past.body)["d"]["error"];
  CHECK(error["error_code"] == 990);
  CHECK(error["error_message"] == "malformed request: body has an object of more than 256 keys");
  auto journal = json::parse(control(srv.admin_port(), "GET", "/journal?error_code=990").second);
  CHECK(journal.size() == 1);
  auto call = control(srv.admin_port(), "POST", "/rules",
                      R"({"then": {"action": "reply", "body": )" + object_of_keys(300) + "}}");
  CHECK(call.first == 400);
  CHECK(json::parse(call.second)["error"] == "the body's $.then.body is an object of more than 256 keys");
  still_serves(srv.port());
}

TEST_CASE("patterns run in linear time: a 40,000-character serial and a catastrophic pattern are answered") {
  test_server srv(R"({"unknown_codes": {"answer": "accept"}, "rules": [
    {"when": {"serial_number": {"regex": "^(a|aa)*$"}}, "then": {"action": "error", "code": 14}}]})");
  auto code_for = [&](const std::string& serial) {
    auto r = post_once(srv.port(), import_request("DA8C-0508-1F31-4CF7-C990", serial));
    REQUIRE(r.what == outcome::kind::ok);
    return json::parse(r.body)["d"]["error"];
  };
  CHECK(code_for(std::string(37, 'a') + "b").is_null());         // std::regex took 1.8 s on this
  CHECK(code_for(std::string(40000, 'a'))["error_code"] == 14);  // and crashed on this (it reads 4 KiB)
  still_serves(srv.port());
}

TEST_CASE("a scenario nested too deep is refused by validate and by a reload, and the server goes on") {
  temp_folder dir("deep-scenario");
  std::string file = dir.write("deep.json", R"({"rules": [{"then": {"action": "reply", "body": {"d": )" +
                                                std::string(5000, '[') + std::string(5000, ']') + "}}}]}");
  auto out = run(std::string(FORTISIM_BINARY) + " validate " + file + "; echo \"exit=$?\"");
  CHECK(out.find("nesting deeper than 64 levels") != std::string::npos);
  CHECK(out.find("exit=1") != std::string::npos);
  std::string good = dir.write("lab.json", R"({"unknown_codes": {"answer": "accept"}})");
  served_binary p({"--scenario", good, "--quiet"});
  auto port = p.port();
  std::filesystem::copy_file(file, good, std::filesystem::copy_options::overwrite_existing);
  p.signal(SIGHUP);
  auto refused = p.next_event("reload", 5s);
  CHECK_FALSE(refused.value("ok", true));
  still_serves(port);
}

TEST_CASE("--max-connections: one more is closed on accept and journaled — then it serves again") {
  test_server srv(shipped("default.json"), 1, std::nullopt, [](net::server_config& cfg) { cfg.max_connections = 3; });
  std::vector<std::unique_ptr<client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<client>(srv.port()));
    REQUIRE(held.back()->ok());
  }
  client extra(srv.port());
  CHECK_FALSE(extra.ok());
  core::journal_filter f;
  f.stage = "connection";
  auto journal = srv.engine().journal().select(f);
  REQUIRE_FALSE(journal.empty());
  CHECK(journal.back()["action"].get<std::string>().find("3 connections open (--max-connections)") !=
        std::string::npos);
  // Numbered and counted as every connection (it was connection 0, in no metric).
  CHECK(journal.back()["connection"] == 4);
  CHECK(journal.back()["outcome"] == "not_sent");
  std::string metrics;
  srv.engine().counters().write(metrics);
  CHECK(metrics.find("fortisim_connections_total 4\n") != std::string::npos);
  held.clear();
  // The server sees the closes a moment after us: answered once it holds none.
  CHECK(json::parse(control(srv.admin_port(), "GET", "/status?open=0&wait_ms=5000").second)["open"] == 0);
  CHECK(post_once(srv.port(), captured_request).status == 200);
}

TEST_CASE("slow and crowded: 2,000 idle connections and a slowloris do not stop a real client") {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  std::size_t crowd = std::min<std::size_t>(2000, limit.rlim_cur > 300 ? limit.rlim_cur - 300 : 0);
  served_binary p(
      {"--scenario", source + "/scenarios/default.json", "--quiet", "--threads", "2", "--idle-timeout-ms", "60000"});
  auto port = p.port();
  std::vector<int> fds;
  for (std::size_t i = 0; i < crowd; ++i) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      break;
    }
    if (i % 2 == 0) ::send(fd, "\x16\x03\x01\x00", 4, MSG_NOSIGNAL);  // half a record header, then nothing
    fds.push_back(fd);
  }
  CHECK(fds.size() == crowd);
  still_serves(port);
  auto status = json::parse(control(p.admin_port(), "GET", "/status").second);
  CHECK(status["listening"] == true);
  for (int fd : fds) ::close(fd);
}

TEST_CASE("a 900 KB serial number is kept as 1 KiB in the journal, cut and marked, in every entry") {
  test_server srv(R"({"seed": 1})");
  // Also the regression test of a stack overflow: reading a body whose TLS records had all arrived
  // recursed a record deeper each time, and overflowed a worker's stack in the ASan Debug build.
  std::string huge(900 * 1024, '7');
  auto r = post_once(srv.port(), R"({"d": {"__type": "SoftToken.ActivationLicenseRequest", "__version": "4",
      "license_activation_code": "AAAA-0000-0000-0000-0001", "serial_number": "FG)" +
                                     huge + R"("}})");
  REQUIRE(r.what == outcome::kind::ok);
  auto entries = json::parse(control(srv.admin_port(), "GET", "/journal?stage=http").second);
  REQUIRE(entries.size() == 1);
  for (const auto* field : {"serials", "reason", "request_body"}) {
    CAPTURE(field);
    CHECK(entries[0][field].get<std::string>().size() <= 4096);
  }
  CHECK(entries[0]["request_body"].get<std::string>().ends_with("…"));  // a body cut is marked too
  CHECK(entries[0]["serials"].get<std::string>().size() <= 1024);
  CHECK(entries[0]["serials"].get<std::string>().ends_with("…"));
  still_serves(srv.port());
}

TEST_CASE("a reply template that would render gigabytes answers 500 and is journaled, and the server goes on") {
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "{{d.serial_number}}";
  test_server srv(R"({"rules": [{"name": "echo", "when": {"operation": "activation_license"},
      "then": {"action": "reply", "body": {"d": {"echo": ")" +
                  many + R"("}}}}]})");
  auto r = post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001", "FG" + std::string(100 * 1024, '1')));
  REQUIRE(r.what == outcome::kind::ok);
  CHECK(r.status == 500);
  auto e = json::parse(control(srv.admin_port(), "GET", "/journal?stage=http").second)[0];
  CHECK(e["status"] == 500);
  CHECK(e["rule"] == "echo");
  CHECK(e["reason"].get<std::string>().find("more than 1 MiB") != std::string::npos);
  CHECK(control(srv.admin_port(), "GET", "/health").first == 200);
}

}  // TEST_SUITE
