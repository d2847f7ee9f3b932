#include "server/net/io/deadline.hpp"

namespace fortisim::net {

task<> sleep_for(std::int64_t ms) {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(use_nothrow);
}

template <class Socket>
void socket_deadline::arm(Socket& socket) {
  timer_.async_wait([&socket, st = state_](boost::system::error_code ec) {
    if (ec || st->done) return;
    st->expired = true;
    boost::system::error_code ignored;
    socket.cancel(ignored);
  });
}

socket_deadline::socket_deadline(const asio::any_io_executor& ex, tcp_socket& socket, std::int64_t ms)
    : timer_(ex, std::chrono::milliseconds(ms)), state_(std::make_shared<state>()) {
  arm(socket);
}

socket_deadline::socket_deadline(const asio::any_io_executor& ex, udp::socket& socket, std::int64_t ms)
    : timer_(ex, std::chrono::milliseconds(ms)), state_(std::make_shared<state>()) {
  arm(socket);
}

socket_deadline::~socket_deadline() {
  state_->done = true;
  timer_.cancel();
}

task<> hold_silently(tcp_socket& socket, std::int64_t ms) {
  socket_deadline deadline(co_await asio::this_coro::executor, socket, ms > 0 ? ms : 24LL * 3600 * 1000);
  char sink[4096];
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), use_nothrow);
    if (ec) break;
  }
}

}  // namespace fortisim::net
