#pragma once
// A connection's socket with a deadline for its operations, as Beast's tcp_stream has, but kept
// lazily: setting the deadline only writes down a time. One timer per connection waits for the
// earliest deadline it has been told of; when it fires early (the deadline moved later), it waits
// again. Beast arms and cancels a timer for every read and write, and each cancel is a completion
// through the loop: four per keep-alive request.
//
// An operation that runs past the deadline completes with beast::error::timeout and the socket is
// closed, as with Beast; an operation started after the deadline passed fails at once. Unlike
// Beast's stream, it must outlive its operations (the coroutine that owns it waits for them).

#include "server/net/io/asio.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace fortisim::net {

class timed_socket {
 public:
  using clock = std::chrono::steady_clock;
  using executor_type = executor;

  explicit timed_socket(tcp_socket&& socket);
  ~timed_socket();
  timed_socket(const timed_socket&) = delete;
  timed_socket& operator=(const timed_socket&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  tcp_socket& socket() { return socket_; }

  /// Operations from now on must end within `d` (they time out together, not each).
  void expires_after(clock::duration d);
  /// The bytes this socket has transmitted (bytes_transmitted()), also once the deadline closed it.
  std::optional<std::uint64_t> transmitted();

  /// For a composed operation that drives the socket itself: call `begin` before each socket
  /// operation and pass its result through `end`. False from `begin`: the deadline has passed;
  /// complete through `end` with beast::error::timeout, without starting the operation.
  bool begin();
  boost::system::error_code end(boost::system::error_code ec);
  /// Completes a composed operation's `self` with (timeout, 0) through the loop: an operation
  /// does not complete inside the call that started it.
  template <class Self>
  void post_timeout(Self&& self) {
    asio::post(socket_.get_executor(),
               asio::append(std::move(self), boost::system::error_code(boost::beast::error::timeout), std::size_t{0}));
  }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return run([&s = socket_, buffers](auto&& handler) { s.async_read_some(buffers, std::move(handler)); },
               std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return run([&s = socket_, buffers](auto&& handler) { s.async_write_some(buffers, std::move(handler)); },
               std::forward<Token>(token));
  }

 private:
  /// What the timer's handler may still reach once the socket is gone (its completion can be
  /// queued when the connection ends).
  struct timing {
    explicit timing(const executor& ex) : timer(ex) {}
    asio::basic_waitable_timer<clock, asio::wait_traits<clock>, executor> timer;
    clock::time_point deadline = clock::time_point::max();
    clock::time_point armed_for = clock::time_point::max();  ///< when the timer fires (max: idle)
    tcp_socket* socket = nullptr;                            ///< null once the owner is gone
    int pending = 0;                                         ///< operations under the deadline
    bool expired = false;
    std::optional<std::uint64_t> transmitted_at_expiry;  ///< what the socket had sent when closed
    void expire();
  };
  /// Waits for `t`'s deadline; the handler keeps `t`.
  static void arm(const std::shared_ptr<timing>& t);
  static void fired(const std::shared_ptr<timing>& t);

  template <class Start, class Token>
  auto run(Start start, Token&& token) {
    return asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        [this, start, started = false](auto& self, boost::system::error_code ec = {}, std::size_t n = 0) mutable {
          if (!started) {
            started = true;
            if (begin()) return start(std::move(self));
            return post_timeout(std::move(self));
          }
          self.complete(end(ec), n);
        },
        token, socket_);
  }

  tcp_socket socket_;
  std::shared_ptr<timing> timing_;
};

}  // namespace fortisim::net
