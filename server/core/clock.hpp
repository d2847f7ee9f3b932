#pragma once
// The virtual clock (issue: licence validity, activation-code expiry and OTPs follow it). A
// scenario sets "now" and a rate; the control API moves it forward. Thread-safe: every request
// reads it, so reading takes no lock (a sequence lock: a reader retries while a write is under
// way); writers, which are rare, take a mutex of their own.

#include <atomic>
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
  double rate() const { return rate_; }
  /// Moves "now" forward (or back, with a negative value) by `ms`, as one step: two calls at once
  /// move it by both.
  void advance(std::int64_t ms);
  /// Sets "now"; the rate stays.
  void set(std::int64_t unix_ms);

 private:
  using steady = std::chrono::steady_clock;
  /// "now" is `virtual_ms` at the steady time `real_ns`, moving at `rate_` since.
  struct base {
    std::int64_t real_ns, virtual_ms;
  };
  base read() const;
  std::int64_t at(base b) const;
  void write(base b);  // with write_mutex_ held
  const double rate_;
  std::mutex write_mutex_;
  /// Odd while a write is under way; a reader that saw it change reads again.
  std::atomic<std::uint64_t> version_{0};
  std::atomic<std::int64_t> base_real_ns_, base_virtual_ms_;
};

}  // namespace fortisim::core
