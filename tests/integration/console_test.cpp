// The web console over real sockets: its files and their headers, who may have them, GET /world
// (OTPs shown, seeds hidden unless asked for), and GET /events, the live feed, including a browser
// that never reads. (The page itself is driven by headless Chromium: tests/browser/.)
#include "../support/temp_folder.hpp"
#include "support.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace fortisim;
using namespace fortisim::test;
using protocol::json;
using namespace std::chrono_literals;

namespace {

const char* world = R"({"seed": 7,
  "licenses": [{"activation_code": "AAAA-0000-0000-0000-0001", "license": "EFTM000000000001", "token_count": 2}],
  "mobile_tokens": [{"token": "FTKMOB0000000042", "secret": "3132333435363738393031323334353637383930"}],
  "hardware_tokens": [{"token": "FTK2000000000001", "secret": "3132333435363738393031323334353637383930"}]})";

/// A raw connection to the control API that reads only when told to, within a deadline.
class raw_connection {
 public:
  explicit raw_connection(std::uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~raw_connection() { ::close(fd_); }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;
  void send(const std::string& s) { ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL); }
  /// Reads until `needle` has arrived (true) or `within` has passed (false).
  bool read_until(const std::string& needle, std::chrono::milliseconds within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (received.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[8192];
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return false;
      received.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  std::string received;

 private:
  int fd_ = -1;
};

std::string get(const std::string& target, const std::string& host = "localhost", const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra + "\r\n";
}

/// One request on a new connection: everything the server sent until it closed.
std::string exchange_raw(std::uint16_t port, const std::string& request) {
  raw_connection c(port);
  c.send(request.substr(0, request.size() - 2) + "Connection: close\r\n\r\n");
  c.read_until("\x01never", 5s);  // reads until the server closes
  return c.received;
}

}  // namespace

TEST_SUITE("console") {

TEST_CASE("the page, its script and style sheet come from the binary, and no other site may frame them") {
  test_server srv(world);
  auto admin = srv.admin_port();
  auto page = exchange_raw(admin, get("/"));
  CHECK(page.starts_with("HTTP/1.1 200"));
  CHECK(page.find("Content-Type: text/html; charset=utf-8") != std::string::npos);
  CHECK(page.find("X-Frame-Options: DENY") != std::string::npos);
  CHECK(page.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(page.find("<title>fortisim console</title>") != std::string::npos);
  auto script = exchange_raw(admin, get("/console.js"));
  CHECK(script.starts_with("HTTP/1.1 200"));
  CHECK(script.find("text/javascript") != std::string::npos);
  CHECK(script.find("fetch('/events") != std::string::npos);
  CHECK(exchange_raw(admin, get("/console.css")).starts_with("HTTP/1.1 200"));
  // A page that reaches the listener through DNS rebinding gets nothing.
  CHECK(exchange_raw(admin, get("/", "attacker.example:80")).starts_with("HTTP/1.1 403"));
  CHECK(exchange_raw(admin, get("/events", "attacker.example:80")).starts_with("HTTP/1.1 403"));
  CHECK(exchange_raw(admin, get("/events", "localhost", "Origin: http://attacker.example\r\n"))
            .starts_with("HTTP/1.1 403"));
  CHECK(exchange_raw(admin, get("/events?after=x")).starts_with("HTTP/1.1 400"));
}

TEST_CASE("with a token the page is served to anyone, and everything it reads needs the token") {
  test_server srv(world, 1, std::nullopt, [](net::server_config& cfg) { cfg.admin_token = "s3cret"; });
  auto admin = srv.admin_port();
  CHECK(exchange_raw(admin, get("/", "lab-host:8080")).starts_with("HTTP/1.1 200"));
  CHECK(exchange_raw(admin, get("/events", "lab-host:8080")).starts_with("HTTP/1.1 401"));
  CHECK(exchange_raw(admin, get("/world", "lab-host:8080")).starts_with("HTTP/1.1 401"));
  raw_connection events(admin);
  events.send(get("/events", "lab-host:8080", "Authorization: Bearer s3cret\r\n"));
  CHECK(events.read_until(": fortisim live feed", 5s));
}

TEST_CASE("GET /world: licences, tokens with their OTP, locks and the clock, without seeds") {
  test_server srv(world);
  auto [status, body] = control(srv.admin_port(), "GET", "/world");
  REQUIRE(status == 200);
  auto w = json::parse(body);
  CHECK(w["licenses"][0]["activation_code"] == "AAAA-0000-0000-0000-0001");
  auto token = w["tokens"][0];
  CHECK(token["token"] == "FTKMOB0000000042");
  CHECK(token["status"] == "provisioning");
  CHECK(token["secret"] == "(hidden)");
  CHECK(token["otp"]["code"].get<std::string>().size() == 6);
  CHECK(token["otp"]["valid_for_s"].get<int>() > 0);
  CHECK(w["hardware_tokens"][0]["secret"] == "(hidden)");
  CHECK(w["hardware_tokens"][0]["lock"] == "available");
  CHECK(w["clock"]["rate"] == 1.0);
  CHECK(w["listening"] == true);
  CHECK(w["secrets_shown"] == false);
  CHECK(body.find("3132333435") == std::string::npos);
}

TEST_CASE("with --show-secrets the world and the feed show seeds") {
  core::engine_options opts;
  opts.show_secrets = true;
  auto engine = std::make_shared<core::engine>(scenario_from(world), opts);
  net::server_config cfg;
  cfg.listen = "127.0.0.1:0";
  cfg.admin = "127.0.0.1:0";
  cfg.data_dir = test_data_dir();
  net::server srv(cfg, engine);
  srv.start();
  auto a = *srv.admin_address();
  auto admin = static_cast<std::uint16_t>(std::stoi(a.substr(a.rfind(':') + 1)));
  auto w = json::parse(control(admin, "GET", "/world").second);
  CHECK(w["secrets_shown"] == true);
  CHECK(w["tokens"][0]["secret"] == "3132333435363738393031323334353637383930");
  CHECK(w["hardware_tokens"][0]["secret"] == "3132333435363738393031323334353637383930");
}

TEST_CASE("GET /events: the journal's backlog, then each exchange and notice as it happens") {
  test_server srv(world);
  auto admin = srv.admin_port();
  auto first = post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001", "FG100F0000000001"));
  REQUIRE(first.status == 200);
  raw_connection events(admin);
  events.send(get("/events"));
  REQUIRE(events.read_until("\"serials\":\"FG100F0000000001\"", 5s));  // the backlog
  CHECK(events.received.starts_with("HTTP/1.1 200"));
  CHECK(events.received.find("Content-Type: text/event-stream") != std::string::npos);
  CHECK(events.received.find("Transfer-Encoding: chunked") != std::string::npos);
  CHECK(json::parse(control(admin, "GET", "/status").second)["console"]["subscribers"] == 1);

  REQUIRE(post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001", "FG100F0000000002")).status == 200);
  REQUIRE(events.read_until("\"serials\":\"FG100F0000000002\"", 5s));  // live
  auto at = events.received.find("\"serials\":\"FG100F0000000002\"");
  auto line = events.received.substr(events.received.rfind("data: ", at) + 6);
  auto e = json::parse(line.substr(0, line.find('\n')));
  CHECK(e["operation"] == "activation_license");
  CHECK(e["error_code"] == 901);  // bound to the first device
  CHECK(e["reply_body"].get<std::string>().find("\"error_code\":901") != std::string::npos);

  REQUIRE(control(admin, "POST", "/clock", R"({"advance_s": 60})").first == 200);
  CHECK(events.read_until("event: notice\ndata: {\"event\":\"control\",\"action\":\"clock\"", 5s));

  auto first_seq = json::parse(control(admin, "GET", "/journal?limit=1").second)[0]["seq"].get<std::uint64_t>();
  raw_connection later(admin);  // asks only for what came after the first exchange
  later.send(get("/events?after=" + std::to_string(first_seq)));
  REQUIRE(later.read_until("FG100F0000000002", 5s));
  CHECK(later.received.find("\"serials\":\"FG100F0000000001\"") == std::string::npos);
}

TEST_CASE("GET /events: every control call that changes something, once, as a control notice") {
  const std::string lab = R"({"name": "lab", "hardware_tokens": [{"token": "FTK2000000000077"}]})";
  temp_folder dir("events-control");
  std::string file = dir.write("lab.json", lab);
  test_server srv(lab, 1, std::nullopt, [&](net::server_config& c) { c.scenario_path = file; });
  auto admin = srv.admin_port();
  raw_connection events(admin);
  events.send(get("/events"));
  REQUIRE(events.read_until(": fortisim live feed", 5s));
  struct step {
    std::string method, target, body, notice;
  };
  const std::string control_event = R"(event: notice
data: {"event":"control","action":)";
  for (const auto& [method, target, body, notice] : std::vector<step>{
           {"POST", "/clock", R"({"advance_s": 60})", R"("clock","advance_s":60,"now_ms":)"},
           {"POST", "/tokens", "{}", R"("new token","token":"FTKMOB)"},
           {"POST", "/hardware/FTK2000000000077/release", "", R"("release lock","token":"FTK2000000000077"})"},
           {"POST", "/listener/refuse", R"({"for_ms": 0})", R"("refuse","for_ms":0})"},
           {"POST", "/listener/open", "", R"("open"})"},
           {"POST", "/rules", R"({"name": "r1", "then": {"action": "delay", "ms": 1}})", R"("add rule","name":"r1"})"},
           {"DELETE", "/rules/r1", "", R"("delete rule","name":"r1"})"},
           {"POST", "/reload", "", R"("reload"})"},
           {"DELETE", "/journal", "", R"("clear journal"})"},
           {"POST", "/reset", R"({"hardware": "FTK2000000000077"})", R"("reset","hardware":"FTK2000000000077"})"},
           {"POST", "/reset", "{}", R"("reset","scenario":"lab"})"},
       }) {
    const auto& target_ = target;  // clang 14 cannot capture a structured binding
    CAPTURE(target_);
    REQUIRE(control(admin, method, target, body).first == 200);
    CHECK(events.read_until(control_event + notice, 5s));
  }
  // The reload's outcome is its own event, as a SIGHUP's is; nothing is told twice.
  CHECK(events.received.find(R"(data: {"event":"reload","file":")" + file + R"(","ok":true)") != std::string::npos);
  for (const auto* old : {R"({"event":"clock")", R"({"event":"listener")", R"({"event":"reset")",
                          R"({"event":"lock released")", R"({"event":"rule added")"})
    CHECK(events.received.find(old) == std::string::npos);
}

TEST_CASE("a browser that never reads holds up no worker: its events are dropped and counted") {
  test_server srv(world);
  auto admin = srv.admin_port();
  raw_connection stuck(admin, 4096);  // a small window, read once and then never again
  stuck.send(get("/events"));
  REQUIRE(stuck.read_until(": fortisim live feed", 5s));
  auto status = [&] { return json::parse(control(admin, "GET", "/status").second)["console"]; };
  REQUIRE(status()["subscribers"] == 1);
  // Large bodies fill the socket buffers soon, then the queue of 1,024 events.
  std::string body = import_request("AAAA-0000-0000-0000-0001", "FG100F0000000001");
  body.insert(body.size() - 2, ",\"pad\":\"" + std::string(4000, 'x') + "\"");
  client c(srv.port());
  REQUIRE(c.ok());
  int sent = 0, answered = 0;
  auto started = std::chrono::steady_clock::now();
  while (sent < 5000 && status()["dropped"] == 0)
    for (int j = 0; j < 100; ++j, ++sent) answered += c.post(body).status == 200;
  CHECK(status()["dropped"].get<std::uint64_t>() > 0);
  CHECK(answered == sent);
  CHECK(std::chrono::steady_clock::now() - started < 60s);
  CHECK(control(admin, "GET", "/health").first == 200);  // and the control API still answers
}

}  // TEST_SUITE
