#pragma once
// The console's live feed (GET /events): every journal entry and every notice (a reset, a moved
// clock, a reload…) as a Server-Sent Event, handed to each subscriber's bounded queue. A worker
// that records an exchange never waits for a browser: when a subscriber's queue is full the
// event is dropped for it and counted (the subscriber is told how many it missed, and GET /status
// says how many were dropped in all). With no subscriber, publishing costs one atomic load.

#include "server/core/observe/journal.hpp"
#include "server/core/observe/secrets.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace fortisim::core {

class live_feed {
 public:
  /// One browser's queue. `wake` is called (on a worker, never under a lock) when an event is
  /// queued into an empty queue; the network layer makes it post to the subscriber's loop.
  class subscription {
   public:
    subscription(std::size_t capacity, std::function<void()> wake) : capacity_(capacity), wake_(std::move(wake)) {}
    /// The most one subscriber's queue holds in bytes, whatever its count: a browser that does
    /// not read holds at most this much of the server's memory.
    static constexpr std::size_t byte_limit = std::size_t{1} << 20;
    /// Moves the queued events (SSE text) to the end of `out`, but for exchanges sent already
    /// from the journal's backlog (`seq` up to `sent_upto`); returns how many were dropped since
    /// the last call. (Workers publish outside the journal's lock, so events may come a little
    /// out of seq order: only the backlog's bound is a safe filter.)
    std::uint64_t take(std::string& out, std::uint64_t sent_upto);

   private:
    friend class live_feed;
    struct event {
      std::uint64_t seq;  ///< the exchange's, 0 for a notice
      std::string text;
    };
    /// Queues one event; false (and counted) when the queue is full, in events or in bytes.
    bool push(std::uint64_t seq, const std::string& text, bool& was_empty);
    std::mutex mutex_;
    std::deque<event> queue_;
    std::size_t capacity_;
    std::size_t bytes_ = 0;  ///< the queued events' text
    std::uint64_t dropped_ = 0;
    std::function<void()> wake_;
  };

  /// `show_secrets`: whether exchanges keep their seeds (fortisim serve --show-secrets).
  explicit live_feed(bool show_secrets = false) : show_secrets_(show_secrets) {}

  /// A new subscriber holding at most `capacity` events (and subscription::byte_limit bytes);
  /// null when `max_subscribers` are open.
  std::shared_ptr<subscription> subscribe(std::size_t capacity, std::function<void()> wake,
                                          std::size_t max_subscribers = 16);
  void unsubscribe(const std::shared_ptr<subscription>& s);

  /// `id: <seq>`, `event: exchange`, and the entry as JSON (seeds hidden unless shown).
  void publish_exchange(const journal_entry& e);
  /// `event: notice` with {"event": "reset", …fields}.
  void publish_notice(std::string_view event, const protocol::json& fields);
  /// One exchange as the feed and the console show it.
  protocol::json exchange_json(const journal_entry& e) const;
  /// An exchange as one SSE event.
  std::string exchange_event(const journal_entry& e) const;

  std::size_t subscribers() const { return count_.load(std::memory_order_relaxed); }
  /// Events dropped because a subscriber's queue was full, over all subscribers.
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  void publish(std::uint64_t seq, const std::string& text);
  bool show_secrets_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<subscription>> subs_;
  std::atomic<std::size_t> count_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace fortisim::core
