#pragma once
// The request journal: a bounded record of what happened to every connection and request, with
// the rule that fired or the model's reason, and the seed in force, so a test can assert on it (and
// count) and a run can be replayed. Slots are reused in place, so after warm-up recording an
// exchange allocates nothing.
//
// Workers record into rings of their own (a thread keeps to one ring), so no lock is shared by all
// workers per request. Each entry takes its sequence number under its ring's lock, and a reader
// holds every ring's lock while it reads: every number handed out by then is in a ring, so a reader
// sees a gap-free prefix in sequence order (`?after=N` never misses N+1).

#include "protocol/messages.hpp"
#include "server/core/observe/journal_entry.hpp"
#include "server/core/observe/secrets.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fortisim::core {

class journal {
 public:
  /// Keeps the last `capacity` exchanges (0: keeps none), and at most `ring_bytes` of them in each
  /// ring (about one per worker): the oldest go first when either is reached.
  explicit journal(std::size_t capacity = 1000, std::size_t ring_bytes = default_ring_bytes);
  /// The bytes a ring holds by default: the default 1,000 entries at their largest (about 25 KiB
  /// each, every field at its cut) fit in it.
  static constexpr std::size_t default_ring_bytes = std::size_t{32} << 20;
  /// Records one exchange: `fill` sets the fields of a per-thread entry (strings keep their
  /// capacity: assign to them rather than replacing them), which is then copied into the ring
  /// under the lock and handed to the observers outside it.
  ///
  /// `begun` is the epoch() when the event began: one that began before a clear() (a reset) is
  /// logged and shown but not kept, so a reset journal holds only what happened after it. An HTTP
  /// entry is kept by its request's number instead: see clear().
  template <class Fill>
  void record(Fill&& fill, std::uint64_t begun = current_epoch) {
    if (capacity_ == 0 && observers_.empty()) return;
    thread_local journal_entry e;
    blank(e);
    e.time_ms = now_ms();
    fill(e);
    cap(e);
    {
      ring& r = own_ring();
      std::lock_guard lock(r.mutex);
      bool keep = e.request ? e.request > requests_cleared_
                            : begun == current_epoch || begun == epoch_.load(std::memory_order_relaxed);
      e.seq = keep ? next_.fetch_add(1, std::memory_order_seq_cst) : 0;
      if (capacity_ > 0 && keep) r.keep(e, capacity_, ring_bytes_);
    }
    for (const auto& observe : observers_) observe(e);
    if (watchers_count_.load(std::memory_order_seq_cst) > 0) wake_watchers();
  }
  /// Adds a function called with every entry as it is recorded (the log, the console's live
  /// feed); added before serving starts. An observer must not block: it runs on a worker.
  void add_observer(std::function<void(const journal_entry&)> f) { observers_.push_back(std::move(f)); }
  /// Calls `wake` after each entry from now until unwatch(id), on the recording thread (it must
  /// not block): how a control call waits for an entry instead of polling. Returns the id.
  std::uint64_t watch(std::function<void()> wake);
  void unwatch(std::uint64_t id);
  /// A watch for as long as it lives: unwatched on every way out (an exception, a coroutine
  /// frame destroyed as the server stops), so `wake` never runs after its waiter is gone.
  class watching {
   public:
    watching(journal& j, std::function<void()> wake) : journal_(j), id_(j.watch(std::move(wake))) {}
    ~watching() { journal_.unwatch(id_); }
    watching(const watching&) = delete;
    watching& operator=(const watching&) = delete;

   private:
    journal& journal_;
    std::uint64_t id_;
  };
  /// The seq of the newest entry recorded so far (0 for none): a waiter reads it before it counts,
  /// and after it starts watching, to know whether it missed one.
  std::uint64_t last_seq() const { return next_.load(std::memory_order_acquire) - 1; }
  /// Wakes the watchers without an entry: something a waiting control call asks about changed
  /// (requests in flight). Costs one load when nobody watches.
  void nudge() {
    if (watchers_count_.load(std::memory_order_seq_cst) == 0) return;
    nudges_.fetch_add(1, std::memory_order_seq_cst);
    wake_watchers();
  }
  /// Entries and nudges so far: a waiter reads it before it asks, and waits while it is unchanged.
  std::uint64_t changes() const { return last_seq() + nudges_.load(std::memory_order_seq_cst); }
  /// A reply is being written whose entry follows at once (engine::finish): until end_write(),
  /// readers wait for it (briefly, see settle), so a client that has read a reply finds its entry.
  void begin_write() { writing_.fetch_add(1, std::memory_order_seq_cst); }
  void end_write() { writing_.fetch_sub(1, std::memory_order_seq_cst); }
  /// One entry as JSON: what the control API shows.
  static protocol::json to_json(const journal_entry& e, secrets s = secrets::hidden);
  /// One entry as a JSON log line {"event":"exchange",…}, appended to `out` without a tree.
  static void write_line(const journal_entry& e, std::string& out, secrets s = secrets::hidden);
  /// The entries `f` selects, oldest first, as JSON.
  protocol::json select(const journal_filter& f = {}, secrets s = secrets::hidden) const;
  /// How many entries `f` selects (limit aside).
  std::size_t count(const journal_filter& f) const;
  /// The newest entries, newest last (for a live view).
  std::vector<journal_entry> since(std::uint64_t after) const;
  /// Forgets every entry. `count` runs while no entry can be recorded and returns the number of
  /// the last request counted before the clear: an HTTP entry of that request or an earlier one,
  /// ending after the clear, is logged but not kept, so the journal and the request count agree.
  void clear(const std::function<std::uint64_t()>& count);
  /// How many times it was cleared: an event notes it when it begins (see record).
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_relaxed); }
  static constexpr std::uint64_t current_epoch = UINT64_MAX;
  /// Every field of `e` back to empty or 0, the strings keeping their storage.
  static void blank(journal_entry& e);
  /// Each field of `e` cut to the bytes its declaration keeps (text marked where cut).
  static void cap(journal_entry& e);
  /// Every field of `e` back to empty or 0, the strings' storage freed.
  static void release(journal_entry& e);

 private:
  /// One ring: the last `capacity_` entries of the threads that record into it, within its bytes.
  struct ring {
    std::mutex mutex;
    std::vector<journal_entry> slots;
    std::uint64_t written = 0;  ///< entries ever kept; the live ones are [oldest, written)
    std::uint64_t oldest = 0;
    std::size_t bytes = 0;  ///< what the live slots hold (their strings' storage included)
    /// Keeps `e`, overwriting the oldest slot when full (its storage reused), then lets the
    /// oldest go (their storage freed) while more than `byte_limit` is held.
    void keep(const journal_entry& e, std::size_t capacity, std::size_t byte_limit);
  };
  /// The bytes an entry holds: itself and its strings' storage.
  static std::size_t held_bytes(const journal_entry& e);
  /// The entries after `after`, in seq order, while every ring is locked: `f` returns false to stop.
  template <class F>
  void each_locked(std::uint64_t after, F&& f) const;
  /// Every ring's lock, taken in ring order (writers take one only).
  std::vector<std::unique_lock<std::mutex>> lock_all() const;
  ring& own_ring();
  static std::int64_t now_ms();
  void wake_watchers();
  /// Waits (at most 50 ms) until no reply is being written: called by every reader first.
  void settle() const;
  std::size_t capacity_;
  std::size_t ring_bytes_;
  std::vector<std::unique_ptr<ring>> rings_;
  std::atomic<std::uint64_t> next_{1};
  std::atomic<std::uint64_t> epoch_{0};  ///< changed under every ring's lock
  std::atomic<int> writing_{0};          ///< replies being written, their entries not yet recorded
  std::uint64_t cleared_before_ = 1;     ///< entries below this seq were cleared (under every lock)
  std::uint64_t requests_cleared_ = 0;   ///< HTTP entries of requests up to this are not kept (ditto)
  std::vector<std::function<void(const journal_entry&)>> observers_;
  std::mutex watchers_mutex_;
  std::vector<std::pair<std::uint64_t, std::function<void()>>> watchers_;
  std::uint64_t next_watcher_ = 1;
  std::atomic<std::size_t> watchers_count_{0};  ///< read without the lock on every entry
  std::atomic<std::uint64_t> nudges_{0};
};

}  // namespace fortisim::core
