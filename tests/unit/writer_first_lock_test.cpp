// The model's readers-writer lock lets a writer in while readers keep coming: three threads take
// the shared side over and over, always one of them holding it, and a writer must still get the
// lock (glibc's default rwlock, which std::shared_mutex is, can keep it waiting for many seconds).
#include "server/core/model/writer_first_lock.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

using fortisim::core::writer_first_lock;

TEST_SUITE("writer first lock") {

TEST_CASE("a writer gets the lock while readers overlap without a pause") {
  writer_first_lock lock;
  std::atomic<bool> stop{false};
  std::atomic<long> reads{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i)
    readers.emplace_back([&] {
      while (!stop) {
        std::shared_lock held(lock);
        auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
        while (std::chrono::steady_clock::now() < until) {
        }
        ++reads;
      }
    });
  while (reads < 1000) std::this_thread::yield();  // the readers are well under way
  auto writer = std::async(std::launch::async, [&] { std::lock_guard held(lock); });
  bool got_in = writer.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  stop = true;
  for (auto& t : readers) t.join();
  writer.wait();
  CHECK(got_in);
}

TEST_CASE("readers share it, and a writer excludes them") {
  writer_first_lock lock;
  {
    std::shared_lock a(lock);
    auto second_reader = std::async(std::launch::async, [&] { std::shared_lock b(lock); });
    CHECK(second_reader.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  }
  std::unique_lock w(lock);
  auto reader = std::async(std::launch::async, [&] { std::shared_lock b(lock); });
  CHECK(reader.wait_for(std::chrono::milliseconds(50)) == std::future_status::timeout);
  w.unlock();
  CHECK(reader.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
}
}
