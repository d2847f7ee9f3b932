#pragma once
// Private to server/net: the Asio names every file of the network layer uses. (Asio, Asio-SSL and
// Beast are compiled once, in asio_impl.cpp.)

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace fortisim::net {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using udp = boost::asio::ip::udp;

/// The executor of a worker's loop, named as what it is: every coroutine and every connection's
/// socket runs on one, and need not pay for a type-erased `any_io_executor` on each operation.
using executor = asio::io_context::executor_type;
/// A coroutine on a worker's loop.
template <class T = void>
using task = asio::awaitable<T, executor>;
/// A connection's socket, on its worker's loop.
using tcp_socket = tcp::socket::rebind_executor<executor>::other;

/// For results we expect (end of stream, timeouts): errors as values, not exceptions.
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable_t<executor>{});

}  // namespace fortisim::net
