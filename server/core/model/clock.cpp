#include "server/core/model/clock.hpp"

#include <algorithm>
#include <cmath>

#include "server/core/scenario/scenario.hpp"

namespace fortisim::core {

namespace {
std::int64_t real_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

virtual_clock::virtual_clock(std::optional<std::int64_t> start_unix_ms, double rate) : rate_(rate), offset_ms_(0) {
  set(start_unix_ms.value_or(real_unix_ms()));
}

double virtual_clock::scaled_steady_ms() const {
  auto ns = std::chrono::steady_clock::now().time_since_epoch();
  return std::chrono::duration<double, std::milli>(ns).count() * rate_;
}

std::int64_t virtual_clock::now_ms() const {
  constexpr double first_ms = first_time_s * 1000.0, last_ms = last_time_s * 1000.0 + 999.0;
  double now = offset_ms_.load(std::memory_order_relaxed) + scaled_steady_ms();
  return static_cast<std::int64_t>(std::floor(std::clamp(now, first_ms, last_ms)));
}

void virtual_clock::set(std::int64_t unix_ms) {
  offset_ms_.store(static_cast<double>(unix_ms) - scaled_steady_ms(), std::memory_order_relaxed);
}

}  // namespace fortisim::core
