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
#include <type_traits>
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
    store_with(std::move(next), [](T&) {});
  }

  /// The value, and what `step()` returned, as one step: no store comes between them (a request's
  /// number and the rule book that numbers it from, however close a reset).
  template <class F>
  std::pair<std::shared_ptr<T>, std::invoke_result_t<F&>> load_with(F step) const {
    std::lock_guard lock(mutex_);
    return {value_, step()};
  }
  /// Stores `next` once `finish(*next)` has run, as one step with it (no load_with() between).
  template <class F>
  void store_with(std::shared_ptr<T> next, F finish) {
    {
      std::lock_guard lock(mutex_);
      if (next) finish(*next);
      value_.swap(next);
    }  // the value replaced goes here, outside the lock, if this was its last reference
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<T> value_;
};

}  // namespace fortisim::core
