#include "server/core/clock.hpp"

namespace fortisim::core {

namespace {
std::int64_t real_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

virtual_clock::virtual_clock(std::optional<std::int64_t> start_unix_ms, double rate)
    : rate_(rate), base_real_ns_(steady_ns()), base_virtual_ms_(start_unix_ms.value_or(real_unix_ms())) {}

virtual_clock::base virtual_clock::read() const {
  for (;;) {
    auto v = version_.load(std::memory_order_acquire);
    base b{base_real_ns_.load(std::memory_order_relaxed), base_virtual_ms_.load(std::memory_order_relaxed)};
    std::atomic_thread_fence(std::memory_order_acquire);
    if ((v & 1) == 0 && version_.load(std::memory_order_relaxed) == v) return b;
  }
}

void virtual_clock::write(base b) {
  auto v = version_.load(std::memory_order_relaxed);
  version_.store(v + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  base_real_ns_.store(b.real_ns, std::memory_order_relaxed);
  base_virtual_ms_.store(b.virtual_ms, std::memory_order_relaxed);
  version_.store(v + 2, std::memory_order_release);
}

std::int64_t virtual_clock::at(base b) const {
  auto elapsed_ms = static_cast<double>(steady_ns() - b.real_ns) / 1e6;
  return b.virtual_ms + static_cast<std::int64_t>(elapsed_ms * rate_);
}

std::int64_t virtual_clock::now_ms() const { return at(read()); }

void virtual_clock::advance(std::int64_t ms) {
  std::lock_guard lock(write_mutex_);
  write({steady_ns(), at(read()) + ms});
}

void virtual_clock::set(std::int64_t unix_ms) {
  std::lock_guard lock(write_mutex_);
  write({steady_ns(), unix_ms});
}

}  // namespace fortisim::core
