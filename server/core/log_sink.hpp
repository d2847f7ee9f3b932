#pragma once
// The exchange log's writer: lines go into a bounded queue and one thread of its own writes them
// to a file descriptor (stderr), in batches: after each write it lets lines gather for a moment
// (`pause`), so a busy log costs one write and no wake-up per line. A worker never waits for the
// log: when the queue is full (stderr is slow or not read at all) the line is dropped and counted,
// and /status says how many.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace fortisim::core {

class log_sink {
 public:
  /// Writes to `fd` (not closed here), holding at most `capacity` lines not yet written.
  explicit log_sink(int fd, std::size_t capacity = 4096);
  /// Writes what is queued (for at most a second), then stops the thread: lines a stalled reader
  /// has not taken by then are dropped, so a log nobody reads never holds up the exit.
  ~log_sink();
  log_sink(const log_sink&) = delete;
  log_sink& operator=(const log_sink&) = delete;

  /// Queues one line (without its newline): a copy into the queue's buffer, which the writer
  /// swaps with its own. Never blocks on the descriptor; once warm, never allocates.
  void write(std::string_view line);
  /// Waits (at most `ms`) until every queued line is written.
  void flush(int ms);
  std::uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  /// How long the writer lets lines gather after a write (a line waits at most this long).
  static constexpr std::chrono::milliseconds pause{2};
  void run();
  /// Waits until `fd_` takes bytes; false once the sink is abandoned (a reader gone for good).
  bool writable();
  /// Writes `batch` (in chunks of `chunk_`); how many bytes went out.
  std::size_t write_out(const std::string& batch);
  int fd_;
  int own_fd_ = -1;    ///< the descriptor opened again, non-blocking, if it could be
  std::size_t chunk_;  ///< the most bytes one write may take
  std::mutex mutex_;
  std::condition_variable wake_, drained_;
  /// The most bytes the queue holds (a line beyond is dropped), and the most either buffer keeps
  /// once written.
  static constexpr std::size_t max_queue_bytes = 16 << 20, max_kept_bytes = 1 << 20;
  std::size_t capacity_;  ///< the most lines the queue holds
  std::string queue_;     ///< the lines not yet taken by the writer, each with its newline
  std::size_t queued_ = 0;
  bool stopping_ = false;
  bool writing_ = false;
  bool idle_ = false;  ///< the writer waits for a line, and the next one must wake it
  int flushing_ = 0;   ///< callers of flush() waiting: the writer does not pause
  std::atomic<std::uint64_t> written_{0}, dropped_{0};
  std::atomic<bool> abandon_{false};
  std::thread thread_;
};

}  // namespace fortisim::core
