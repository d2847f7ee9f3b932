// server/net/io/listeners: a listener that stops (a refusal, or a drain's close) accepts each
// connection still waiting in its backlog, hands it over to be recorded, then resets it. The
// kernel reset them unseen: a `refuse` rule's backlog left no record.
#include "server/net/io/listeners.hpp"
#include "support.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <vector>

using namespace fortisim::net;
using namespace std::chrono_literals;

namespace {

struct handed_over {
  unsigned short port;
  std::size_t worker;
  bool for_good;
};

/// The local port of the client socket `fd`: what the server saw as its peer's port.
unsigned short local_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  return ntohs(a.sin_port);
}

/// Connects `n` clients, which wait in the backlog (no accept loop runs): their sockets.
std::vector<int> waiting_clients(std::uint16_t port, int n) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = fortisim::test::connect_loopback(port, 2000ms);
    REQUIRE(fd >= 0);
    fds.push_back(fd);
  }
  return fds;
}

/// What each client meets: the errno of its first read (ECONNRESET for a reset).
void check_reset(const std::vector<int>& fds) {
  for (int fd : fds) {
    char byte;
    CHECK(::recv(fd, &byte, 1, 0) == -1);
    CHECK(errno == ECONNRESET);
    ::close(fd);
  }
}

}  // namespace

TEST_CASE("a listener that stops hands over each connection waiting in its backlog, then resets it") {
  asio::io_context loop;  // not run: without threads, each change applies at once
  std::vector<handed_over> seen;
  listener_set listeners({&loop}, tcp::endpoint(asio::ip::address_v4::loopback(), 0),
                         [](tcp::acceptor&, std::size_t) {});  // no accept loop: clients wait
  listeners.on_backlog_reset([&](const tcp::endpoint& peer, std::size_t worker, bool for_good) {
    CHECK(peer.address().to_string() == "127.0.0.1");
    seen.push_back({peer.port(), worker, for_good});
  });
  listeners.begin(0);
  auto first = waiting_clients(listeners.endpoint().port(), 3);
  listeners.refuse(0);
  REQUIRE(seen.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(seen[i].port == local_port(first[i]));
    CHECK(seen[i].worker == 0);
    CHECK_FALSE(seen[i].for_good);
  }
  check_reset(first);
  CHECK(fortisim::test::tcp_connect_errno(listeners.endpoint().port()) == ECONNREFUSED);  // refusing

  listeners.open();
  auto second = waiting_clients(listeners.endpoint().port(), 2);
  listeners.close();  // a drain
  REQUIRE(seen.size() == 5);
  CHECK(seen[3].port == local_port(second[0]));
  CHECK(seen[4].for_good);
  check_reset(second);
}
