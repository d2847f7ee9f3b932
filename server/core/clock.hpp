#pragma once
// The virtual clock (issue: licence validity, activation-code expiry and OTPs follow it). A
// scenario sets "now" and a rate; the control API moves it forward. Thread-safe.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace fortisim::core {

class virtual_clock {
 public:
  /// `start_unix_ms` absent: start at the real time. `rate` 2.0: two virtual seconds per real
  /// second; 0: frozen.
  explicit virtual_clock(std::optional<std::int64_t> start_unix_ms = std::nullopt, double rate = 1.0);
  std::int64_t now_ms() const;
  std::int64_t now_s() const { return now_ms() / 1000; }
  double rate() const;
  /// Moves "now" forward (or back, with a negative value) by `ms`.
  void advance(std::int64_t ms);
  /// Sets "now"; the rate stays.
  void set(std::int64_t unix_ms);

 private:
  using steady = std::chrono::steady_clock;
  mutable std::mutex mutex_;
  steady::time_point base_real_;
  std::int64_t base_virtual_ms_;
  double rate_;
};

}  // namespace fortisim::core
