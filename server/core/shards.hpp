#pragma once
// A few shards of something every worker updates per request, chosen by the calling thread, so
// that workers do not contend for one lock or one cache line; readers merge them. A shard's mutex
// is almost always taken by its one owner thread only (uncontended: no system call).

#include <array>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>

namespace fortisim::core {

template <class T, std::size_t N = 8>
class shards {
 public:
  struct shard {
    std::mutex mutex;
    T value;
  };
  /// The calling thread's shard.
  shard& mine() { return all_[std::hash<std::thread::id>{}(std::this_thread::get_id()) % N]; }
  std::array<shard, N>& all() { return all_; }
  const std::array<shard, N>& all() const { return all_; }

 private:
  std::array<shard, N> all_;
};

}  // namespace fortisim::core
