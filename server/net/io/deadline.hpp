#pragma once
// Timed waits of the network layer: a coroutine sleep, and a deadline that cancels a socket's
// pending operations (for waits that a stream's own expiry does not cover).

#include "server/net/io/asio.hpp"

#include <memory>

namespace fortisim::net {

task<> sleep_for(std::int64_t ms);

/// Cancels `socket`'s pending operations after `ms`. Safe when the timer's handler is already
/// queued as the owner goes away: the shared state tells it not to touch the socket.
class socket_deadline {
 public:
  socket_deadline(const asio::any_io_executor& ex, tcp_socket& socket, std::int64_t ms);
  /// The same for a datagram socket (the DNS responder's question to its upstream).
  socket_deadline(const asio::any_io_executor& ex, udp::socket& socket, std::int64_t ms);
  ~socket_deadline();
  socket_deadline(const socket_deadline&) = delete;
  socket_deadline& operator=(const socket_deadline&) = delete;
  bool expired() const { return state_->expired; }

 private:
  struct state {
    bool done = false;
    bool expired = false;
  };
  template <class Socket>
  void arm(Socket& socket);
  asio::steady_timer timer_;
  std::shared_ptr<state> state_;
};

/// Holds a connection open without answering until `ms` pass (0: a day) or the peer closes;
/// whatever the peer sends is read and dropped.
task<> hold_silently(tcp_socket& socket, std::int64_t ms);

}  // namespace fortisim::net
