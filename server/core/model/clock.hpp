#pragma once
// The virtual clock (issue: licence validity, activation-code expiry and OTPs follow it). A
// scenario sets "now" and a rate; the control API moves it forward. Thread-safe without a lock:
// every request reads it, so "now" is kept as one atomic offset from the steady clock.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace fortisim::core {

class virtual_clock {
 public:
  /// `start_unix_ms` absent: start at the real time. `rate` 2.0: two virtual seconds per real
  /// second; 0: frozen.
  explicit virtual_clock(std::optional<std::int64_t> start_unix_ms = std::nullopt, double rate = 1.0);
  /// Held to the times fortisim takes (first_time_s to the last millisecond of last_time_s): a
  /// running clock left near the end stops there rather than run into a time no state may hold.
  std::int64_t now_ms() const;
  std::int64_t now_s() const { return now_ms() / 1000; }
  double rate() const { return rate_; }
  /// Sets "now"; the rate stays. (The control API's "advance" is a set under the model's lock,
  /// which stores the new time before it is used.)
  void set(std::int64_t unix_ms);

 private:
  /// The steady clock in milliseconds, times the rate: what "now" is offset from.
  double scaled_steady_ms() const;
  const double rate_;
  /// "now" in virtual milliseconds is offset_ms_ + scaled_steady_ms() (a double holds every
  /// millisecond count up to 2^53 exactly, and the steady part to well under a millisecond).
  std::atomic<double> offset_ms_;
};

}  // namespace fortisim::core
