#include "server/core/model/checkpointer.hpp"

#include "server/core/model/store.hpp"

#include <algorithm>

namespace fortisim::core {

checkpointer::checkpointer(const std::string& path, wal_bounds bounds)
    : bounds_(bounds), next_wake_(bounds.background) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK ||
      sqlite3_exec(db_, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw storage_error(path + ": cannot open a second connection to copy its log: " + why);
  }
  try {
    thread_ = std::thread([this] { run(); });
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

checkpointer::~checkpointer() {
  {
    std::lock_guard l(m_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_close(db_);
}

void checkpointer::committed(sqlite3* writer, int log_pages) {
  // A copy per `background` pages the log grows by: a writer that never pauses never lets the
  // log start afresh (a copy under way never catches up), and a copy per commit would double
  // the fsyncs.
  if (log_pages < last_log_) next_wake_ = bounds_.background;  // the log started afresh
  last_log_ = log_pages;
  bool wake = log_pages >= next_wake_ && log_pages < bounds_.inline_;
  if (wake) next_wake_ = log_pages + bounds_.background;
  {
    std::lock_guard l(m_);
    ++commits_;
    wanted_ = wanted_ || wake;
  }
  if (log_pages >= bounds_.inline_) {
    std::lock_guard l(copying_);  // after the thread's copy, if one is under way
    copy(writer);
  } else if (wake) {
    wake_.notify_one();
  }
}

void checkpointer::failed(sqlite3* writer) {
  // A full disk: the log cannot grow, and no commit will ask for a copy. Copied to its end, the
  // log starts afresh at the next commit, in the space it already has.
  std::lock_guard l(copying_);
  copy(writer);
}

void checkpointer::run() {
  std::unique_lock l(m_);
  while (true) {
    wake_.wait(l, [&] { return wanted_ || stopping_; });
    if (stopping_) return;
    wanted_ = false;
    l.unlock();
    {
      std::lock_guard c(copying_);
      copy(db_);
    }
    l.lock();
  }
}

void checkpointer::copy(sqlite3* db) {
  std::uint64_t upto = 0;
  {
    std::lock_guard l(m_);
    upto = commits_;
  }
  // PASSIVE: copies what no reader needs without waiting on anyone (the one reader is the
  // writer, between transactions); a failure (a full disk) leaves the pages in the log, durable,
  // for the next copy.
  int log = 0, copied = 0;
  if (sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) != SQLITE_OK) return;
  {
    std::lock_guard l(m_);
    ++copies_;
    if (copied == log) copied_ = std::max(copied_, upto);  // not a part: a reader held the rest
  }
  done_.notify_all();
}

std::uint64_t checkpointer::copies() const {
  std::lock_guard l(m_);
  return copies_;
}

bool checkpointer::await_copied(std::chrono::milliseconds bound) const {
  std::unique_lock l(m_);
  return done_.wait_for(l, bound, [&, target = commits_] { return copied_ >= target; });
}

}  // namespace fortisim::core
