#include "server/core/clock.hpp"

namespace fortisim::core {

namespace {
std::int64_t real_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

virtual_clock::virtual_clock(std::optional<std::int64_t> start_unix_ms, double rate)
    : base_real_(steady::now()), base_virtual_ms_(start_unix_ms.value_or(real_unix_ms())), rate_(rate) {}

std::int64_t virtual_clock::now_ms() const {
  std::lock_guard lock(mutex_);
  auto elapsed = std::chrono::duration<double, std::milli>(steady::now() - base_real_).count();
  return base_virtual_ms_ + static_cast<std::int64_t>(elapsed * rate_);
}

double virtual_clock::rate() const {
  std::lock_guard lock(mutex_);
  return rate_;
}

void virtual_clock::advance(std::int64_t ms) { set(now_ms() + ms); }

void virtual_clock::set(std::int64_t unix_ms) {
  std::lock_guard lock(mutex_);
  base_real_ = steady::now();
  base_virtual_ms_ = unix_ms;
}

}  // namespace fortisim::core
