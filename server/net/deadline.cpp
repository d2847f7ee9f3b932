#include "server/net/deadline.hpp"

namespace fortisim::net {

asio::awaitable<void> sleep_for(std::int64_t ms) {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(use_nothrow);
}

socket_deadline::socket_deadline(const asio::any_io_executor& ex, tcp::socket& socket, std::int64_t ms)
    : timer_(ex, std::chrono::milliseconds(ms)), state_(std::make_shared<state>()) {
  timer_.async_wait([&socket, st = state_](boost::system::error_code ec) {
    if (ec || st->done) return;
    st->expired = true;
    socket.cancel();
  });
}

socket_deadline::~socket_deadline() {
  state_->done = true;
  timer_.cancel();
}

asio::awaitable<void> hold_silently(tcp::socket& socket, std::int64_t ms) {
  socket_deadline deadline(co_await asio::this_coro::executor, socket, ms > 0 ? ms : 24LL * 3600 * 1000);
  char sink[4096];
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), use_nothrow);
    if (ec) break;
  }
}

}  // namespace fortisim::net
