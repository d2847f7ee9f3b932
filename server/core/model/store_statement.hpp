#pragma once
// Private to the store: a prepared SQLite statement, finalized on scope exit.

#include "server/core/model/store.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

namespace fortisim::core {

/// A prepared statement, finalized on scope exit.
class statement {
 public:
  statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) throw storage_error(sqlite3_errmsg(db));
  }
  ~statement() { sqlite3_finalize(st_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  statement& bind(int i, const std::string& v) {
    check(sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  statement& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(st_, i, v));
    return *this;
  }
  statement& bind(int i, std::optional<std::int64_t> v) {
    check(v ? sqlite3_bind_int64(st_, i, *v) : sqlite3_bind_null(st_, i));
    return *this;
  }
  /// Runs an insert or update to its end, and readies the statement to run again, whatever came:
  /// reset, its values let go (a token's secret is not kept between writes).
  void run() {
    int rc = sqlite3_step(st_);
    std::optional<storage_error> why;
    if (rc != SQLITE_DONE) why.emplace(sqlite3_errmsg(db_));
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
    if (why) throw *why;
  }
  bool next_row() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) throw storage_error(sqlite3_errmsg(db_));
    return false;
  }
  std::string text(int col) const {
    auto* p = sqlite3_column_text(st_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st_, col)))
             : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(st_, col); }
  bool null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
  bool is_integer(int col) const { return sqlite3_column_type(st_, col) == SQLITE_INTEGER; }
  bool is_text(int col) const { return sqlite3_column_type(st_, col) == SQLITE_TEXT; }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw storage_error(sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

}  // namespace fortisim::core
