// server/net/io/on_pool.hpp: a call that blocks is made on the pool, and the worker's loop goes on
// with its other coroutines meanwhile (with --state, an answer waiting for its commit).
#include "server/net/io/on_pool.hpp"

#include <doctest/doctest.h>

#include <boost/asio/detached.hpp>

#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

using namespace fortisim::net;

namespace {

struct blocked_call {
  std::promise<void> release;
  bool released_in_time = false;
  bool resumed = false;
  std::thread::id ran_on, resumed_on;
  std::string failure;
};

/// Blocks on the pool until `call->release` is set (at most 10 s), then notes where it resumed.
task<> wait_on_pool(asio::thread_pool* pool, blocked_call* call, bool fail) {
  auto released = call->release.get_future();
  auto fn = [&] {
    call->ran_on = std::this_thread::get_id();
    call->released_in_time = released.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    if (fail) throw std::runtime_error("the disk is full");
  };
  try {
    co_await on_pool(*pool, fn);
  } catch (const std::runtime_error& e) {
    call->failure = e.what();
  }
  call->resumed = true;
  call->resumed_on = std::this_thread::get_id();
}

/// Another connection's work on the same loop: it releases the blocked call.
task<> release_it(blocked_call* call) {
  call->release.set_value();
  co_return;
}

/// On a loop of one thread and a pool of one: a call that blocks on the pool (and throws if
/// `fail`) and, on the loop, the work that releases it. Returns once both are done.
blocked_call run_blocked(bool fail) {
  asio::io_context loop{1};
  asio::thread_pool pool(1);
  blocked_call call;
  asio::co_spawn(loop, wait_on_pool(&pool, &call, fail), asio::detached);
  asio::co_spawn(loop, release_it(&call), asio::detached);
  loop.run();  // returns once both are done: the pool's call kept the loop alive meanwhile
  return call;
}

}  // namespace

TEST_SUITE("on pool") {

TEST_CASE("a blocking call runs on the pool while the loop runs others, and resumes on the loop") {
  auto call = run_blocked(false);
  CHECK(call.released_in_time);  // the loop ran release_it while the call was blocked
  CHECK(call.resumed);
  CHECK(call.ran_on != std::this_thread::get_id());
  CHECK(call.resumed_on == std::this_thread::get_id());
  CHECK(call.failure.empty());
}

TEST_CASE("what the call throws is thrown where it is awaited") {
  auto call = run_blocked(true);
  CHECK(call.released_in_time);
  CHECK(call.resumed);
  CHECK(call.failure == "the disk is full");
  CHECK(call.resumed_on == std::this_thread::get_id());
}

}  // TEST_SUITE
