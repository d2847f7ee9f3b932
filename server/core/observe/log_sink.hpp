#pragma once
// The exchange log's writer: lines go into bounded queues, one per worker or so, and one thread of
// its own writes them to a file descriptor (stderr), in batches: after each write it lets lines
// gather for a moment (`pause`), so a busy log costs one write and no wake-up per line. A worker
// never waits for the log: when its queue is full (stderr is slow or not read at all) the line is
// dropped and counted, and /status says how many.
//
// No lock is shared by all workers per line: each takes its own queue's lock and a place in the
// order of all lines (one atomic add), and the writer merges the queues by that place, so the log
// keeps the order in which lines were written, as one queue would.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace fortisim::core {

class log_sink {
 public:
  /// Writes to `fd` (not closed here), each queue holding at most `capacity` lines not yet written.
  explicit log_sink(int fd, std::size_t capacity = 4096);
  /// Writes what is queued (for at most a second), then stops the thread: lines a stalled reader
  /// has not taken by then are dropped, so a log nobody reads never holds up the exit.
  ~log_sink();
  log_sink(const log_sink&) = delete;
  log_sink& operator=(const log_sink&) = delete;

  /// Queues one line (without its newline): a copy into the calling thread's queue, whose buffer
  /// the writer swaps with its own. Never blocks on the descriptor; once warm, never allocates.
  void write(std::string_view line);
  /// Waits (at most `ms`) until every queued line is written.
  void flush(int ms);
  std::uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  /// How long the writer lets lines gather after a write (a line waits at most this long).
  static constexpr std::chrono::milliseconds pause{2};
  /// The most bytes all queues hold together (a line longer than its queue's share, 16 MiB over
  /// the number of queues, is dropped), and the most a buffer keeps once written.
  static constexpr std::size_t max_queue_bytes = 16 << 20, max_kept_bytes = 1 << 20;

  /// Lines in the order they were written, each with its newline and its place in the order of
  /// all lines.
  struct lines {
    std::string text;
    std::vector<std::pair<std::uint64_t, std::size_t>> marks;  ///< (place, where the line ends in text)
    std::size_t next = 0;                                      ///< the first line not yet merged
    /// Forgets the lines merged (and a burst's storage once all are).
    void compact();
    /// Takes `other`'s lines after its own, leaving `other` empty.
    void take(lines& other);
  };
  /// The queue of the threads that write into it (a thread keeps to one).
  struct alignas(64) queue {
    std::mutex mutex;
    lines held;
  };
  queue& own_queue();
  void run();
  /// Waits for lines; false once stopping with none left.
  bool wait_for_lines();
  /// Moves every queue's lines into the writer's hands.
  void gather();
  /// Appends to `batch` the lines whose turn it is, in order; how many.
  std::size_t merge(std::string& batch);
  /// Waits until `fd_` takes bytes; false once the sink is abandoned (a reader gone for good).
  bool writable();
  /// Writes `batch` (in chunks of `chunk_`); how many bytes went out.
  std::size_t write_out(const std::string& batch);

  int fd_;
  int own_fd_ = -1;    ///< the descriptor opened again, non-blocking, if it could be
  std::size_t chunk_;  ///< the most bytes one write may take
  std::vector<std::unique_ptr<queue>> queues_;
  std::size_t queue_lines_, queue_bytes_;  ///< the most one queue holds
  std::atomic<std::uint64_t> order_{0};    ///< the place the next line takes
  // The writer's side.
  std::vector<lines> hands_;  ///< each queue's lines taken and not yet merged
  std::uint64_t next_ = 0;    ///< the place of the next line to write
  // Between the workers, flush() and the writer.
  std::mutex mutex_;
  std::condition_variable wake_, drained_;
  std::uint64_t merged_ = 0;  ///< next_ when the writer last finished a batch (under mutex_)
  bool stopping_ = false;
  bool writing_ = false;
  int flushing_ = 0;                ///< callers of flush() waiting: the writer does not pause
  std::atomic<bool> idle_{false};   ///< the writer waits for a line, and the next one must wake it
  std::atomic<bool> hurry_{false};  ///< a queue is half full: the writer stops pausing
  std::atomic<std::uint64_t> written_{0}, dropped_{0};
  std::atomic<bool> abandon_{false};
  std::thread thread_;
};

}  // namespace fortisim::core
