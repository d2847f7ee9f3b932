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
  bool wake = false;
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
    // Only an idle writer is woken, or one pausing while the queue fills: a busy log costs the
    // workers no system call per line.
    wake = idle_ || count_ == slots_.size() / 2;
    idle_ = false;
  }
  if (wake) wake_.notify_one();
}

void log_sink::flush(int ms) {
  std::unique_lock lock(mutex_);
  ++flushing_;
  wake_.notify_one();
  drained_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return count_ == 0 && !writing_; });
  --flushing_;
}

void log_sink::run() {
  std::string batch;  // lines taken from the queue, written outside the lock
  for (;;) {
    std::size_t lines = 0;
    {
      std::unique_lock lock(mutex_);
      writing_ = false;
      drained_.notify_all();
      // Lets lines gather for a moment after a write, so that a busy log is written in batches.
      wake_.wait_for(lock, pause, [this] { return stopping_ || flushing_ > 0 || count_ >= slots_.size() / 2; });
      idle_ = count_ == 0;
      wake_.wait(lock, [this] { return count_ > 0 || stopping_; });
      idle_ = false;
      if (count_ == 0) return;  // stopping, and nothing left
      batch.clear();
      for (; count_ > 0 && batch.size() < 256 * 1024; --count_, ++lines) {
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
