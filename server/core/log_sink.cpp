#include "server/core/log_sink.hpp"

#include <unistd.h>
#include <cerrno>
#include <chrono>

namespace fortisim::core {

log_sink::log_sink(int fd, std::size_t capacity) : fd_(fd), slots_(capacity < 1 ? 1 : capacity) {
  thread_ = std::thread([this] { run(); });
}

log_sink::~log_sink() {
  flush(1000);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void log_sink::write(std::string_view line) {
  {
    std::lock_guard lock(mutex_);
    if (count_ == slots_.size()) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto& slot = slots_[(head_ + count_) % slots_.size()];
    slot.assign(line);
    slot += '\n';
    ++count_;
  }
  wake_.notify_one();
}

void log_sink::flush(int ms) {
  std::unique_lock lock(mutex_);
  drained_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return count_ == 0 && !writing_; });
}

void log_sink::run() {
  std::string batch;  // lines taken from the queue, written outside the lock
  for (;;) {
    std::size_t lines = 0;
    {
      std::unique_lock lock(mutex_);
      writing_ = false;
      drained_.notify_all();
      wake_.wait(lock, [this] { return count_ > 0 || stopping_; });
      if (count_ == 0) return;  // stopping, and nothing left
      batch.clear();
      for (; count_ > 0 && batch.size() < 64 * 1024; --count_, ++lines) {
        batch += slots_[head_];
        head_ = (head_ + 1) % slots_.size();
      }
      writing_ = true;
    }
    for (std::size_t done = 0; done < batch.size();) {
      auto n = ::write(fd_, batch.data() + done, batch.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // a closed or broken descriptor: the lines are lost, not the server
      done += static_cast<std::size_t>(n);
    }
    written_.fetch_add(lines, std::memory_order_relaxed);
  }
}

}  // namespace fortisim::core
