#pragma once
// Private to server/net: a call that may block (an answer that waits for its change to be on
// disk), made on a pool of threads while the worker's loop goes on with its other connections.

#include "server/net/io/asio.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <exception>

namespace fortisim::net {

/// Runs `fn` on one of `pool`'s threads and resumes the calling coroutine on its own loop when
/// `fn` has returned (rethrowing what it threw). The loop is kept alive meanwhile.
template <class Fn>
task<> on_pool(asio::thread_pool& pool, Fn& fn) {
  std::exception_ptr failed;
  asio::use_awaitable_t<executor> token;
  co_await asio::async_initiate<decltype(token), void()>(
      [&](auto resume) {
        auto loop = asio::make_work_guard(asio::get_associated_executor(resume));
        asio::post(pool, [&, resume = std::move(resume), loop = std::move(loop)]() mutable {
          try {
            fn();
          } catch (...) {
            failed = std::current_exception();
          }
          auto on = loop.get_executor();
          asio::post(on, std::move(resume));
        });
      },
      token);
  if (failed) std::rethrow_exception(failed);
}

}  // namespace fortisim::net
