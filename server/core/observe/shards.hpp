#pragma once
// A few shards of something every worker updates per request, chosen by the calling thread, so
// that workers do not contend for one lock or one cache line; readers merge them. A shard's mutex
// is almost always taken by its one owner thread only (uncontended: no system call).

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <thread>

namespace fortisim::core {

/// The calling thread's number, in the order threads first ask: the first N threads that take
/// shards land in N different ones (a hash of the thread id puts two workers in one shard one
/// time in eight).
inline std::size_t thread_ordinal() {
  static std::atomic<std::size_t> next{0};
  thread_local std::size_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine;
}

/// How many shards a per-thread structure sized by the machine takes: one per core or so, 2 to 8.
inline std::size_t shard_count() { return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 2, 8); }

template <class T, std::size_t N = 8>
class shards {
 public:
  struct shard {
    std::mutex mutex;
    T value;
  };
  /// The calling thread's shard.
  shard& mine() { return all_[thread_ordinal() % N]; }
  std::array<shard, N>& all() { return all_; }
  const std::array<shard, N>& all() const { return all_; }

 private:
  std::array<shard, N> all_;
};

}  // namespace fortisim::core
