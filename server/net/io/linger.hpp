#pragma once
// A lingering close: before closing a connection on a refused request, read (and drop) what the
// client still sends, for a moment. Closing on unread data resets the connection, and the reset
// can discard our answer before the client reads it (nginx's lingering close).

#include "server/net/io/asio.hpp"

#include <boost/beast/core/stream_traits.hpp>

#include <chrono>

namespace fortisim::net {

template <class Stream>
task<> linger(Stream& stream) {
  boost::beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(1000));
  char sink[4096];
  for (std::size_t drained = 0; drained < 4 * 1024 * 1024;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_nothrow);
    if (ec) co_return;
    drained += n;
  }
}

}  // namespace fortisim::net
