#pragma once
// Durable state (--state FILE): the world's records in SQLite, WAL mode, one transaction per
// group of changes (commit.cpp), fsync'd before any of them is acknowledged. A change costs what it writes,
// not the size of the world; a `kill -9` at any moment leaves every committed change. What is
// loaded is validated like a scenario: every problem with its row and column, and fortisim
// refuses to start rather than drop data.

#include "server/core/model/records.hpp"
#include "server/core/scenario/scenario.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

struct sqlite3;

namespace fortisim::core {

class checkpointer;

/// When the store copies its log (SQLite's WAL) into the database file, in pages of the log
/// (4 KiB each): checkpointer.hpp.
struct wal_bounds {
  int background = 1000;  ///< a thread of its own copies it, once per this many pages grown
  int inline_ = 4000;     ///< the committing thread copies what is left: about 16 MiB
};

/// A write that could not be made durable: nothing of the change was applied.
struct storage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class store {
 public:
  /// serve: opens (or creates) the database to read and write. check: opens an existing one
  /// read-only and changes nothing (`fortisim state check`).
  enum class access { serve, check };
  /// Opens the database at `path`; an existing one must have this version's tables and columns.
  /// Throws storage_error naming the file and the fix. Served, its log is copied into the file
  /// off the commit path, within `bounds` (checkpointer.hpp).
  explicit store(std::string path, access a = access::serve, wal_bounds bounds = {});
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// Everything stored.
  struct contents {
    std::vector<licence_record> licences;
    std::vector<token_record> tokens;
    std::vector<hardware_record> hardware;
    std::optional<std::int64_t> clock_ms;  ///< the virtual time when the clock was last moved
    std::int64_t clock_real_ms = 0;        ///< the real time then
  };
  /// Reads and validates every row: the contents, or every problem ("tokens[FTKMOB…].secret:
  /// expected 40 hex digits").
  std::variant<contents, std::vector<problem>> load();
  /// Writes `changes`, in order, in one transaction (one fsync for all: a group commit), durable
  /// when it returns. Throws storage_error (and writes nothing) when it cannot: a full disk, a
  /// read-only file, no descriptors left.
  void write(const std::vector<const change*>& changes);
  void write(const change& c) { write(std::vector<const change*>{&c}); }
  const std::string& path() const { return path_; }
  /// The log's copies into the database file so far (checkpointer.hpp); 0 when checked.
  std::uint64_t checkpoints() const;
  /// Waits, at most `bound`, until a copy has taken in every commit so far: true when one has.
  bool await_checkpoint(std::chrono::milliseconds bound) const;

 private:
  struct writes;
  void prepare_file() const;
  void exec(const char* sql);
  /// One change's rows, inside the transaction write() opened.
  void write_locked(const change& c);
  std::string path_;
  sqlite3* db_ = nullptr;
  /// The statements write() runs, prepared on its first call and kept: a group of changes
  /// parses no SQL.
  std::unique_ptr<writes> writes_;
  int log_pages_ = 0;  // the log's length after the last commit, from SQLite's WAL hook
  std::unique_ptr<checkpointer> copier_;
};

}  // namespace fortisim::core
