#pragma once
// A value replaced whole while workers read it (the scenario in force, the runtime rules): each
// read gets a pin that keeps the value it read alive, however soon it is replaced.
//
// A read shares nothing with other workers while the value stays: each thread keeps a reference
// to the value it read last, with that value's version, and a read that finds the version
// unchanged pins the thread's own reference. It reads one word that only a replacement writes,
// so no cache line passes between workers: no lock, no shared reference count. A read that finds
// a new version takes the lock once and keeps the new value. So a replaced value lives until
// every thread that read it has read again or ended: a thread holds at most one old value of each
// type T (the slot is per type, so two snapshots of one T read on one thread take turns in it).
//
// Not std::atomic<std::shared_ptr> for the rest: libstdc++ 12 guards it with a lock bit that a
// read releases with a relaxed store, so nothing orders the read before a later replacement's
// write (a data race, which ThreadSanitizer reported). The lock below orders both.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

namespace fortisim::core {

template <class T>
class snapshot {
  /// What a thread keeps: the value it read last, its version, and how many pins use it.
  struct slot {
    std::uint64_t version = 0;  // 0: none (every stored value's version is even and at least 2)
    std::shared_ptr<T> value;
    int pins = 0;
  };
  static slot& mine() {
    thread_local slot kept;
    return kept;
  }

 public:
  /// A value read: alive while the pin is. A pin is let go on the thread that took it.
  class pin {
   public:
    pin() = default;
    pin(pin&& other) noexcept
        : value_(std::exchange(other.value_, nullptr)),
          slot_(std::exchange(other.slot_, nullptr)),
          own_(std::move(other.own_)) {}
    pin& operator=(pin&& other) noexcept {
      if (this != &other) {
        let_go();
        value_ = std::exchange(other.value_, nullptr);
        slot_ = std::exchange(other.slot_, nullptr);
        own_ = std::move(other.own_);
      }
      return *this;
    }
    pin(const pin&) = delete;
    pin& operator=(const pin&) = delete;
    ~pin() { let_go(); }
    T* get() const { return value_; }
    T& operator*() const { return *value_; }
    T* operator->() const { return value_; }
    explicit operator bool() const { return value_ != nullptr; }

   private:
    friend class snapshot;
    explicit pin(slot& s) : value_(s.value.get()), slot_(&s) { ++s.pins; }
    explicit pin(std::shared_ptr<T> owned) : value_(owned.get()), own_(std::move(owned)) {}
    void let_go() {
      if (slot_) --slot_->pins;
      slot_ = nullptr;
    }
    T* value_ = nullptr;
    slot* slot_ = nullptr;    // the thread's slot, when the pin uses its reference
    std::shared_ptr<T> own_;  // else a reference of its own (a read while the slot was pinned to an older value)
  };

  explicit snapshot(std::shared_ptr<T> first = nullptr) : value_(std::move(first)), version_(next_version()) {}
  snapshot(const snapshot&) = delete;
  snapshot& operator=(const snapshot&) = delete;

  /// The value, as a reference of the caller's own (for the control API: not on the hot path).
  std::shared_ptr<T> load() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  /// The value, pinned.
  pin read() const {
    slot& s = mine();
    if (version_.load() == s.version) return pin(s);
    std::unique_lock lock(mutex_);
    return keep(s, value_, version_.load(), lock);
  }

  /// The value, and what `step()` returned, as one step: no store comes between them (a request's
  /// number and the rule book that numbers it from, however close a reset). `step` must make a
  /// sequentially consistent read-modify-write (a fetch_add with the default order), and each
  /// store's `finish` reads what it counts from with sequentially consistent loads: then
  /// `owns(value, result)` says whether `result` was taken after `value` was stored (a number past
  /// the value's first), and a step that raced a store is given to the value it belongs to.
  template <class F, class Owns>
  std::pair<pin, std::invoke_result_t<F&>> read_with(F step, Owns owns) const {
    slot& s = mine();
    if (std::uint64_t seen = version_.load(); seen == s.version) {
      auto result = step();
      if (version_.load() == seen) return {pin(s), result};  // no store began between the two loads
      // A store began: the step belongs to the value it stored if the store counted from before
      // the step, else to the value it replaced, if that is the one read.
      std::unique_lock lock(mutex_);
      if (value_ && owns(*value_, result)) return {keep(s, value_, version_.load(), lock), result};
      if (replaced_version_ == seen) return {pin(s), result};
      // Several stores since the value was read: the step belongs to one already replaced, which
      // no rule of it can now count; take another, for the value in force (the first id is never
      // seen: a gap in the ids, never a repeat).
      result = step();
      return {keep(s, value_, version_.load(), lock), result};
    }
    std::unique_lock lock(mutex_);
    auto result = step();
    return {keep(s, value_, version_.load(), lock), result};
  }

  void store(std::shared_ptr<T> next) {
    store_with(std::move(next), [](T&) {});
  }
  /// Stores `next` once `finish(*next)` has run, as one step with it (no read_with() between).
  template <class F>
  void store_with(std::shared_ptr<T> next, F finish) {
    {
      std::lock_guard lock(mutex_);
      std::uint64_t version = next_version();
      replaced_version_ = version_.load();
      version_.store(version - 1);  // odd, while it is replaced: no slot holds that
      if (next) finish(*next);
      value_.swap(next);
      version_.store(version);
    }  // the value replaced goes here, outside the lock, if this was its last reference
  }

 private:
  /// Even versions, never repeated for any snapshot of T: a thread's slot names one value.
  static std::uint64_t next_version() {
    static std::atomic<std::uint64_t> last{0};
    return last.fetch_add(2) + 2;
  }
  /// `value` pinned: by the thread's slot, which keeps it from now on, unless a pin still uses
  /// the slot's value (a read within a read), then by a reference of its own.
  static pin keep(slot& s, std::shared_ptr<T> value, std::uint64_t version, std::unique_lock<std::mutex>& lock) {
    lock.unlock();
    if (s.pins > 0) return pin(std::move(value));
    s.version = version;
    s.value.swap(value);  // the value the slot held goes at this scope's end, if this was its last reference
    return pin(s);
  }

  mutable std::mutex mutex_;
  std::shared_ptr<T> value_;
  std::atomic<std::uint64_t> version_;  // value_'s version; odd while a store replaces it
  std::uint64_t replaced_version_ = 0;  // the version of the value value_ replaced (under mutex_)
};

}  // namespace fortisim::core
