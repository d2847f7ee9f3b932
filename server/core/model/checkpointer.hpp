#pragma once
// Private to the store: copies the committed pages of SQLite's write-ahead log into the database
// file on a thread and a connection of its own. Left to itself, SQLite checkpoints inside the
// commit that takes the log past 1,000 pages, and every change waiting on that commit waits for
// the copy and its fsync too. Here a commit waits for its own fsync only, and the log stays
// bounded: should the thread fall behind (a writer never pausing), the writer copies the log
// itself once it reaches the bound, between two commits, so the next commit starts it afresh
// (unless a reader, `fortisim state check`, holds an older snapshot).

#include "server/core/model/store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace fortisim::core {

class checkpointer {
 public:
  /// Opens a second connection to the database at `path` (already in WAL mode) and starts the
  /// thread. Throws storage_error naming the file when the connection cannot be opened.
  checkpointer(const std::string& path, wal_bounds bounds);
  /// Stops the thread after the copy under way, if any, and closes its connection.
  ~checkpointer();
  checkpointer(const checkpointer&) = delete;
  checkpointer& operator=(const checkpointer&) = delete;

  /// The writer, after each commit, with the log's length in pages and the writer's connection.
  /// Wakes the thread past the first bound, copies on `writer` itself past the second. Never
  /// throws: what is committed is durable in the log whether or not it is copied.
  void committed(sqlite3* writer, int log_pages);
  /// The writer, after a commit that failed (and was rolled back): copies on `writer` what it can.
  void failed(sqlite3* writer);

  /// Copies made so far (the thread's and the writer's, whole or in part; a failed one is not
  /// counted).
  std::uint64_t copies() const;
  /// Waits, at most `bound`, until a copy has taken in every commit made so far: true when one has.
  bool await_copied(std::chrono::milliseconds bound) const;

 private:
  void run();
  void copy(sqlite3* db);  // under copying_

  wal_bounds bounds_;
  int last_log_ = 0;   // the writer's alone: the log's pages at the last commit
  int next_wake_ = 0;  // and where the thread is woken next
  sqlite3* db_ = nullptr;
  std::mutex copying_;  // one copy at a time: SQLite refuses a second rather than waiting for it
  mutable std::mutex m_;
  mutable std::condition_variable wake_, done_;
  bool wanted_ = false;
  bool stopping_ = false;
  std::uint64_t copies_ = 0;
  std::uint64_t commits_ = 0;  // committed() calls
  std::uint64_t copied_ = 0;   // the commits the last copy took in
  std::thread thread_;
};

}  // namespace fortisim::core
