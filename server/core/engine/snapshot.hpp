#pragma once
// A value replaced whole while workers read it (the scenario in force, the runtime rules): each
// read gets a reference that keeps the value it read alive, however soon it is replaced.
//
// Not std::atomic<std::shared_ptr>: libstdc++ 12 guards it with a lock bit that a read releases
// with a relaxed store, so nothing orders the read before a later replacement's write. That is a
// data race by the memory model's letter, and ThreadSanitizer stopped a CI run on it (a reload
// while requests were answered). A mutex held for the pointer's copy orders both, at the cost the
// lock bit had: one atomic read-modify-write to take it, one to give it back.

#include <memory>
#include <mutex>
#include <utility>

namespace fortisim::core {

template <class T>
class snapshot {
 public:
  explicit snapshot(std::shared_ptr<T> first = nullptr) : value_(std::move(first)) {}
  snapshot(const snapshot&) = delete;
  snapshot& operator=(const snapshot&) = delete;

  std::shared_ptr<T> load() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  void store(std::shared_ptr<T> next) {
    {
      std::lock_guard lock(mutex_);
      value_.swap(next);
    }  // the value replaced goes here, outside the lock, if this was its last reference
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<T> value_;
};

}  // namespace fortisim::core
