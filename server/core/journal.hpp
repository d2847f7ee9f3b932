#pragma once
// The request journal: a bounded ring of what happened to every connection and request, with the
// rule that fired and the seed in force, so a test can assert on it and a run can be replayed.
// Slots are reused in place, so after warm-up recording an exchange allocates nothing.

#include "protocol/messages.hpp"

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace fortisim::core {

/// One exchange: a connection-stage or TLS-stage event, or an HTTP request and its outcome.
struct journal_entry {
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;  ///< real wall-clock time
  std::string stage;         ///< "connection", "tls", "http", "dns"
  std::uint64_t connection = 0;
  std::uint64_t request = 0;
  std::string client_address;
  std::string sni;
  std::string method;
  std::string target;
  std::string type;    ///< the request's __type (a DNS query's type)
  std::string rule;    ///< the rule that fired, "" for none
  std::string action;  ///< the action played, "" when answered by the model
  int status = 0;      ///< HTTP status, 0 where none was sent
  int error_code = 0;  ///< the FortiCare error code in the reply, 0 for none
  std::uint64_t seed = 0;
  std::string request_headers;  ///< the first 4 KiB of "Name: value" lines
  std::string request_body;     ///< the first 4 KiB
};

class journal {
 public:
  /// Keeps the last `capacity` exchanges (0: keeps none).
  explicit journal(std::size_t capacity = 1000) : slots_(capacity) {}
  /// Records one exchange: `fill` sets the fields of a per-thread entry (strings keep their
  /// capacity: assign to them rather than replacing them), which is then copied into the ring
  /// under the lock and handed to the observer outside it.
  template <class Fill>
  void record(Fill&& fill) {
    if (slots_.empty() && !observer_) return;
    thread_local journal_entry e;
    reset(e);
    e.time_ms = now_ms();
    fill(e);
    if (e.request_headers.size() > 4096) e.request_headers.resize(4096);
    if (e.request_body.size() > 4096) e.request_body.resize(4096);
    {
      std::lock_guard lock(mutex_);
      e.seq = next_++;
      if (!slots_.empty()) slots_[(e.seq - 1) % slots_.size()] = e;  // reuses the slot's storage
    }
    if (observer_) observer_(e);
  }
  /// Called with every entry as it is recorded (e.g. to log it); set before serving starts.
  void set_observer(std::function<void(const journal_entry&)> f) { observer_ = std::move(f); }
  /// One entry as JSON: what the control API shows.
  static protocol::json to_json(const journal_entry& e);
  /// One entry as a JSON log line {"event":"exchange",…}, appended to `out` without a tree.
  static void write_line(const journal_entry& e, std::string& out);
  /// Entries with seq > `after`, oldest first, as JSON.
  protocol::json to_json(std::uint64_t after = 0) const;
  void clear();

 private:
  static std::int64_t now_ms();
  static void reset(journal_entry& e);
  mutable std::mutex mutex_;
  std::vector<journal_entry> slots_;
  std::uint64_t next_ = 1;
  std::uint64_t cleared_before_ = 1;  ///< entries below this seq were cleared
  std::function<void(const journal_entry&)> observer_;
};

}  // namespace fortisim::core
