// The virtual clock: read by every request without a lock, written by the control API. Readers
// on other threads see only times that were set, in the order they were set.
#include "server/core/model/clock.hpp"

#include "server/core/scenario/scenario.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

using fortisim::core::virtual_clock;

TEST_SUITE("virtual clock") {

TEST_CASE("a frozen clock says what it was set to") {
  virtual_clock c(1'000'000, 0.0);
  CHECK(c.now_ms() == 1'000'000);
  CHECK(c.now_s() == 1'000);
  c.set(1'002'500);
  CHECK(c.now_ms() == 1'002'500);
  c.set(7'000);
  CHECK(c.now_ms() == 7'000);
  CHECK(c.rate() == 0.0);
}

TEST_CASE("a running clock moves at its rate from where it was set") {
  virtual_clock c(0, 1000.0);  // a virtual second per real millisecond
  auto first = c.now_ms();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto later = c.now_ms();
  CHECK(later - first >= 5'000);
  c.set(10'000'000);
  CHECK(c.now_ms() >= 10'000'000);
}

TEST_CASE("a running clock stops at the last millisecond fortisim takes, and never goes before 1970") {
  constexpr std::int64_t last_ms = fortisim::core::last_time_s * 1000 + 999;
  virtual_clock c(last_ms - 2'000, 1000.0);  // two real milliseconds from the end
  auto start = std::chrono::steady_clock::now();
  while (c.now_ms() < last_ms && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    std::this_thread::yield();
  }
  CHECK(c.now_ms() == last_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // 5,000 virtual seconds past the end
  CHECK(c.now_ms() == last_ms);
  CHECK(c.now_s() == fortisim::core::last_time_s);
  c.set(-10'000'000);
  CHECK(c.now_ms() == 0);
}

TEST_CASE("a reader on another thread sees only times that were set, never going back") {
  constexpr std::int64_t start = 5'000, steps = 200'000;
  virtual_clock c(start, 0.0);
  std::atomic<bool> done{false};
  std::atomic<std::int64_t> outside{0}, backwards{0};
  std::thread reader([&] {
    std::int64_t last = start;
    while (!done.load()) {
      auto now = c.now_ms();
      if (now < start || now > start + steps) outside.fetch_add(1);
      if (now < last) backwards.fetch_add(1);
      last = now;
    }
  });
  for (std::int64_t i = 1; i <= steps; ++i) c.set(start + i);
  done = true;
  reader.join();
  CHECK(c.now_ms() == start + steps);
  CHECK(outside.load() == 0);
  CHECK(backwards.load() == 0);
}

}  // TEST_SUITE
