// The connection's deadlines, from the client's side: an idle keep-alive connection is closed, a
// request counts against one deadline however slowly its bytes come, and a client that stops
// reading a reply is let go. (The handshake's deadline: faults_test.cpp.)
#include "support.hpp"

#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>

#include <thread>

using namespace fortisim;
using namespace fortisim::test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

long ms_since(steady::time_point t) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t).count());
}

// One deadline short, the others long: a test sees the one it is about, and a deadline that moved
// earlier (a long one giving way to a short one) must still be kept.
void short_idle(net::server_config& cfg) {
  cfg.handshake_timeout_ms = 10'000;
  cfg.idle_timeout_ms = 500;
  cfg.write_timeout_ms = 10'000;
}
void short_write(net::server_config& cfg) {
  cfg.handshake_timeout_ms = 10'000;
  cfg.idle_timeout_ms = 10'000;
  cfg.write_timeout_ms = 500;
}

/// Whether the server holds no connection open, once it holds none or `within` has passed.
bool all_closed(test_server& srv, std::chrono::milliseconds within) {
  auto target = "/status?open=0&wait_ms=" + std::to_string(within.count());
  return protocol::json::parse(control(srv.admin_port(), "GET", target).second)["open"] == 0;
}

}  // namespace

TEST_SUITE("timeouts") {

TEST_CASE("a keep-alive connection is closed once it idles past the idle timeout, and serves until then") {
  test_server srv("{}", 1, std::nullopt, short_idle);
  client c(srv.port());
  REQUIRE(c.ok());
  steady::time_point idle_from;
  for (int i = 0; i < 3; ++i) {  // each request in time, several timeouts' worth in all
    if (i > 0) std::this_thread::sleep_for(300ms);
    idle_from = steady::now();  // before the server starts waiting for the next request
    CHECK(c.post(captured_request).status == 200);
  }
  auto end = c.raw_exchange("");  // reads until the server closes (or 5 s)
  CHECK(end.what == outcome::kind::eof);
  CHECK(ms_since(idle_from) >= 500);
  CHECK(ms_since(idle_from) < 1500);
}

TEST_CASE("a request whose bytes trickle in is cut off at one idle timeout, not one per byte") {
  test_server srv("{}", 1, std::nullopt, short_idle);
  client c(srv.port());
  REQUIRE(c.ok());
  auto start = steady::now();                       // before the server starts waiting for the next request
  REQUIRE(c.post(captured_request).status == 200);  // and with it whatever TLS sent after the handshake
  std::string head = "POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n";
  long closed_after = -1;
  for (char ch : head) {  // a byte every 100 ms: each comes well within the timeout
    if (!c.send_raw(std::string(1, ch))) break;
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {  // the server closed (EOF or reset)
      closed_after = ms_since(start);
      break;
    }
  }
  CHECK(closed_after >= 500);
  CHECK(closed_after < 1500);  // the header would take 8 s to arrive
}

TEST_CASE("a client that stops reading a long reply is let go after the write timeout") {
  // A 16 MiB body: more than the kernel buffers between a client that reads nothing and us
  // (net.ipv4.tcp_wmem lets a send buffer grow to 4 MiB by default).
  test_server srv(R"({"rules": [{"then": {"action": "status", "status": 200, "body": ")" +
                      std::string(16 * 1024 * 1024, 'x') + R"("}}]})",
                  1, std::nullopt, short_write);
  client c(srv.port());
  REQUIRE(c.ok());
  int small = 64 * 1024;
  ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  REQUIRE(c.send_raw("POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                     std::to_string(captured_request.size()) + "\r\n\r\n" + captured_request));
  CHECK(all_closed(srv, 5s));  // without a write timeout it stays open as long as we do not read
  auto rest = c.raw_exchange("");
  CHECK(rest.raw.size() < 16u * 1024 * 1024);  // it gave up before the end
}

}  // TEST_SUITE
