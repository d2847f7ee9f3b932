#include "server/core/observe/log_sink.hpp"

#include "server/core/observe/shards.hpp"

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

log_sink::log_sink(int fd, std::size_t capacity) : fd_(fd) {
  // A queue per core or so (workers rarely share one). Each holds `capacity` lines, so that one
  // thread's burst is not cut shorter than it was with one queue; the 16 MiB are shared out.
  std::size_t n = shard_count();
  for (std::size_t i = 0; i < n; ++i) queues_.push_back(std::make_unique<queue>());
  hands_.resize(n);
  queue_lines_ = std::max<std::size_t>(1, capacity);
  queue_bytes_ = max_queue_bytes / n;
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
  queue& q = own_queue();
  bool hurry = false;
  {
    std::lock_guard lock(q.mutex);
    lines& held = q.held;
    if (held.marks.size() == queue_lines_ || held.text.size() + line.size() >= queue_bytes_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // Room first: once the line has its place, nothing may fail before it is in the queue (a
    // place never filled would stop the merge for good).
    if (held.marks.size() == held.marks.capacity())
      held.marks.reserve(std::max<std::size_t>(64, 2 * held.marks.capacity()));
    held.text.reserve(held.text.size() + line.size() + 1);
    held.text.append(line).push_back('\n');
    held.marks.emplace_back(order_.fetch_add(1), held.text.size());  // its place, under the queue's lock
    hurry = held.marks.size() == std::max<std::size_t>(1, queue_lines_ / 2);
  }
  // Only an idle writer is woken, or one pausing while a queue fills: a busy log costs the workers
  // no system call per line. The writer says it is idle (or looks at hurry_), then looks at
  // order_, under mutex_; this thread added to order_ (and set hurry_), then looks at idle_: one of
  // the two sees the other, and taking mutex_ makes sure the writer waits before it is woken.
  if (hurry) hurry_ = true;
  if (hurry || (idle_.load() && idle_.exchange(false))) {
    { std::lock_guard lock(mutex_); }
    wake_.notify_one();
  }
}

void log_sink::flush(int ms) {
  std::unique_lock lock(mutex_);
  ++flushing_;
  wake_.notify_one();
  drained_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return merged_ == order_.load() && !writing_; });
  --flushing_;
}

log_sink::queue& log_sink::own_queue() { return *queues_[thread_ordinal() % queues_.size()]; }

void log_sink::lines::compact() {
  if (next == marks.size()) {
    text.clear();
    marks.clear();
    if (text.capacity() > max_kept_bytes) text.shrink_to_fit();  // after a burst of long lines
  } else if (next > 0) {  // a line whose turn had not come yet (its writer was between two steps)
    std::size_t gone = marks[next - 1].second;
    text.erase(0, gone);
    marks.erase(marks.begin(), marks.begin() + static_cast<std::ptrdiff_t>(next));
    for (auto& m : marks) m.second -= gone;
  }
  next = 0;
}

void log_sink::lines::take(lines& other) {
  if (marks.empty()) {
    std::swap(text, other.text);  // the usual case: no copy
    std::swap(marks, other.marks);
  } else {
    std::size_t base = text.size();
    text += other.text;
    for (auto [place, end] : other.marks) marks.emplace_back(place, base + end);
  }
  other.text.clear();
  other.marks.clear();
}

void log_sink::gather() {
  for (std::size_t i = 0; i < queues_.size(); ++i) {
    hands_[i].compact();
    std::lock_guard lock(queues_[i]->mutex);
    hands_[i].take(queues_[i]->held);
  }
}

std::size_t log_sink::merge(std::string& batch) {
  // Each hand is in order; every place below order_ as it was before gather() is in some hand.
  std::size_t n = 0;
  for (bool more = true; more;) {
    more = false;
    for (auto& h : hands_)
      for (; h.next < h.marks.size() && h.marks[h.next].first == next_; ++h.next, ++next_, ++n, more = true) {
        std::size_t begin = h.next > 0 ? h.marks[h.next - 1].second : 0;
        batch.append(h.text, begin, h.marks[h.next].second - begin);
      }
  }
  return n;
}

bool log_sink::wait_for_lines() {
  std::unique_lock lock(mutex_);
  merged_ = next_;
  writing_ = false;
  drained_.notify_all();
  // Lets lines gather for a moment after a write, so that a busy log is written in batches.
  wake_.wait_for(lock, pause, [this] { return stopping_ || flushing_ > 0 || hurry_.load(); });
  // Idle is said again before every look at order_: a worker whose line was already written may
  // take idle_ and wake the writer for nothing, and the next line must still find it set.
  for (;;) {
    idle_ = true;
    if (order_.load() != next_ || stopping_) break;
    wake_.wait(lock);
  }
  idle_ = false;
  writing_ = order_.load() != next_;
  return writing_;  // false: stopping, and nothing left
}

void log_sink::run() {
  std::string batch;  // the lines merged from the hands, written outside every lock
  while (wait_for_lines()) {
    hurry_ = false;
    gather();
    batch.clear();
    if (batch.capacity() > max_kept_bytes) batch.shrink_to_fit();
    std::size_t lines = merge(batch);
    std::size_t done = write_out(batch);
    std::uint64_t whole =
        done == batch.size() ? lines
                             : std::min<std::uint64_t>(
                                   lines, static_cast<std::uint64_t>(std::count(
                                              batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(done), '\n')));
    written_.fetch_add(whole, std::memory_order_relaxed);
    dropped_.fetch_add(lines - whole, std::memory_order_relaxed);
  }
}

}  // namespace fortisim::core
