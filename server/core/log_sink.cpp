#include "server/core/log_sink.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <string>
#include <utility>

namespace fortisim::core {

log_sink::log_sink(int fd, std::size_t capacity) : fd_(fd), capacity_(capacity < 1 ? 1 : capacity) {
  // A write must never block on a reader that has gone away. A file takes a batch whole. A pipe
  // or terminal is opened again, as a description of our own that can be non-blocking (setting
  // O_NONBLOCK on the inherited one would change it for every process that shares it): a batch
  // then goes in one write, as much as there is room for. What cannot be opened so (a socket) is
  // written PIPE_BUF bytes at a time, each once poll says there is room.
  struct stat st {};
  bool file = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (!file) {
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    own_fd_ = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (own_fd_ >= 0) fd_ = own_fd_;
  }
  chunk_ = file || own_fd_ >= 0 ? SIZE_MAX : PIPE_BUF;
  thread_ = std::thread([this] { run(); });
}

log_sink::~log_sink() {
  flush(1000);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  abandon_ = true;  // what a stalled reader has not taken within the flush is lost, not waited for
  wake_.notify_one();
  thread_.join();
  if (own_fd_ >= 0) ::close(own_fd_);
}

bool log_sink::writable() {
  for (;;) {
    pollfd p{fd_, POLLOUT, 0};
    int r = ::poll(&p, 1, abandon_ ? 0 : 100);
    if (r > 0) return true;  // room, or an error the write will report
    if (r < 0 && errno != EINTR) return true;
    if (abandon_) return false;
  }
}

std::size_t log_sink::write_out(const std::string& batch) {
  std::size_t done = 0;
  while (done < batch.size() && (chunk_ == SIZE_MAX || writable())) {
    auto n = ::write(fd_, batch.data() + done, std::min(batch.size() - done, chunk_));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN && writable()) continue;  // our own non-blocking description is full
    if (n <= 0) break;  // a closed or broken descriptor: the lines are lost, not the server
    done += static_cast<std::size_t>(n);
  }
  return done;
}

void log_sink::write(std::string_view line) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (queued_ == capacity_ || queue_.size() + line.size() >= max_queue_bytes) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.append(line).push_back('\n');
    ++queued_;
    // Only an idle writer is woken, or one pausing while the queue fills: a busy log costs the
    // workers no system call per line.
    wake = idle_ || queued_ == capacity_ / 2;
    idle_ = false;
  }
  if (wake) wake_.notify_one();
}

void log_sink::flush(int ms) {
  std::unique_lock lock(mutex_);
  ++flushing_;
  wake_.notify_one();
  drained_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return queued_ == 0 && !writing_; });
  --flushing_;
}

void log_sink::run() {
  std::string batch;  // the lines taken from the queue (swapped, not copied), written outside the lock
  for (;;) {
    std::size_t lines = 0;
    {
      std::unique_lock lock(mutex_);
      writing_ = false;
      drained_.notify_all();
      // Lets lines gather for a moment after a write, so that a busy log is written in batches.
      wake_.wait_for(lock, pause, [this] { return stopping_ || flushing_ > 0 || queued_ >= capacity_ / 2; });
      idle_ = queued_ == 0;
      wake_.wait(lock, [this] { return queued_ > 0 || stopping_; });
      idle_ = false;
      if (queued_ == 0) return;  // stopping, and nothing left
      batch.clear();
      if (batch.capacity() > max_kept_bytes) batch.shrink_to_fit();  // after a burst of long lines
      batch.swap(queue_);
      lines = std::exchange(queued_, 0);
      writing_ = true;
    }
    std::size_t done = write_out(batch);
    auto whole =
        static_cast<std::uint64_t>(std::count(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(done), '\n'));
    written_.fetch_add(whole, std::memory_order_relaxed);
    dropped_.fetch_add(lines - whole, std::memory_order_relaxed);
  }
}

}  // namespace fortisim::core
