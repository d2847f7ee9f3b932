#include "server/core/model/store.hpp"

#include "protocol/bounded_json.hpp"
#include "protocol/formats.hpp"

#include "server/core/model/checkpointer.hpp"
#include "server/core/model/store_statement.hpp"
#include "server/core/scenario/scenario.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

namespace fortisim::core {

namespace {

constexpr int schema_version = 3;  // PRAGMA user_version; 1 was the JSON state file of earlier versions

/// The tables, each written once: the CREATE statements and the start-up check of an existing
/// database (every table there, with exactly these columns in this order) both come from here.
struct table {
  const char* name;
  const char* columns;
};
constexpr table tables[] = {
    {"licences",
     "code TEXT PRIMARY KEY NOT NULL, serial TEXT NOT NULL, tokens TEXT NOT NULL, valid_until INTEGER, "
     "bound_to TEXT NOT NULL, registered_to TEXT NOT NULL"},
    {"tokens",
     "serial TEXT PRIMARY KEY NOT NULL, license TEXT NOT NULL, status TEXT NOT NULL, activation TEXT NOT NULL, "
     "secret TEXT NOT NULL, digits INTEGER NOT NULL, period INTEGER NOT NULL, expire INTEGER NOT NULL, "
     "issuer TEXT NOT NULL, mobile_id TEXT NOT NULL, os_ver TEXT NOT NULL, reg_id TEXT NOT NULL, "
     "provisions INTEGER NOT NULL, type TEXT NOT NULL DEFAULT 'totp', counter INTEGER NOT NULL DEFAULT 0"},
    {"hardware",
     "serial TEXT PRIMARY KEY NOT NULL, secret TEXT NOT NULL, lock TEXT NOT NULL, activated_by TEXT NOT NULL"},
    {"clock", "id INTEGER PRIMARY KEY CHECK (id = 1), now_ms INTEGER NOT NULL, real_ms INTEGER NOT NULL"},
};

/// The column names of `columns` ("code TEXT …, serial TEXT …"), in order.
std::vector<std::string> column_names(std::string_view columns) {
  std::vector<std::string> out;
  for (std::size_t start = 0; start < columns.size();) {
    auto end = std::min(columns.find(',', start), columns.size());
    auto column = columns.substr(start, end - start);
    column.remove_prefix(std::min(column.find_first_not_of(' '), column.size()));
    out.emplace_back(column.substr(0, column.find(' ')));
    start = end + 1;
  }
  return out;
}

/// Why an existing database's tables are not the ones this version writes, or "": a table
/// missing (a dropped `hardware` table would release every consumed lock) or its columns changed.
std::string schema_problem(sqlite3* db) {
  for (const auto& t : tables) {
    std::vector<std::string> have;
    statement info(db, ("PRAGMA table_info(" + std::string(t.name) + ")").c_str());
    while (info.next_row()) have.push_back(info.text(1));
    if (have.empty()) return "the table " + std::string(t.name) + " is missing";
    if (have != column_names(t.columns))
      return "the table " + std::string(t.name) + " does not have the columns expected (" + t.columns + ")";
  }
  return "";
}

/// Format 2 (0.2) had no OTP type or counter: its tokens are TOTP, as they always were.
constexpr const char* from_format_2 =
    "ALTER TABLE tokens ADD COLUMN type TEXT NOT NULL DEFAULT 'totp';"
    "ALTER TABLE tokens ADD COLUMN counter INTEGER NOT NULL DEFAULT 0;";

std::string create_statements() {
  std::string out;
  for (const auto& t : tables) out += "CREATE TABLE IF NOT EXISTS " + std::string(t.name) + " (" + t.columns + ");\n";
  return out;
}

std::string json_list(const std::vector<std::string>& v) { return protocol::json(v).dump(); }

/// `path` as an SQLite URI's path: the bytes a URI gives a meaning to, %-escaped.
std::string uri_path(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

/// How a check opens the file without writing a byte: a file no server has open (no -wal beside
/// it) as immutable, so SQLite makes no -wal or -shm and needs no write access to the folder; one
/// a server has open (or left after a crash), read-only beside its journal.
std::string check_uri(const std::string& path) {
  std::error_code ec;
  bool journal = std::filesystem::exists(path + "-wal", ec);
  return "file:" + uri_path(path) + (journal ? "?mode=ro" : "?mode=ro&immutable=1");
}

std::int64_t real_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

store::store(std::string path, access a, wal_bounds bounds) : path_(std::move(path)) {
  bool serve = a == access::serve;
  // A FIFO would hold the thread, a folder or device is no state: refused by what they are.
  if (struct stat st{}; ::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw storage_error(path_ + ": is " + kind_of(st.st_mode) + ", not a regular file: a state is a file");
  if (serve) prepare_file();
  int flags = serve ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
  auto target = serve ? path_ : check_uri(path_);
  if (sqlite3_open_v2(target.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw storage_error(path_ + ": cannot open the state database: " + why);
  }
  try {
    if (serve) {
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=FULL");  // a commit is on disk when it returns
    }
    statement version(db_, "PRAGMA user_version");
    version.next_row();
    auto v = version.integer(0);
    bool empty = statement(db_, "SELECT 1 FROM sqlite_master").next_row() == false;
    if (empty && !serve) throw storage_error("it holds no tables");
    if (!empty && v == 2 && serve) {
      exec(from_format_2);
      v = schema_version;
    }
    if (!empty && v == 2) throw storage_error("format 2 (fortisim 0.2): serving it with --state upgrades it");
    if (!empty && v != schema_version)
      throw storage_error("format " + std::to_string(v) + ", expected " + std::to_string(schema_version));
    if (auto why = empty ? "" : schema_problem(db_); !why.empty()) throw storage_error(why);
    if (serve) {
      exec(create_statements().c_str());
      exec(("PRAGMA user_version=" + std::to_string(schema_version)).c_str());
      // The hook replaces SQLite's checkpoint inside the commit: the copier copies instead.
      sqlite3_wal_hook(
          db_,
          [](void* pages, sqlite3*, const char*, int n) {
            *static_cast<int*>(pages) = n;
            return SQLITE_OK;
          },
          &log_pages_);
    }
  } catch (const storage_error& e) {
    sqlite3_close(db_);
    throw storage_error(path_ + ": not a fortisim state database (" + e.what() + ")" +
                        (serve ? "; pass --state with a new file, or delete this one to start clean" : ""));
  }
  if (!serve) return;
  try {
    copier_ = std::make_unique<checkpointer>(path_, bounds);
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

void store::prepare_file() const {
  // Temporary files a crash may have left beside the state are not state: they go.
  std::error_code ec;
  auto file = std::filesystem::path(path_);
  auto dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().filename().string().starts_with(file.filename().string() + ".tmp.")) std::filesystem::remove(e, ec);
  // Secrets live here: the file (and SQLite's -wal and -shm beside it, which copy its mode) is the
  // owner's alone from its first byte.
  if (int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); fd >= 0) ::close(fd);
}

struct store::writes {
  explicit writes(sqlite3* db)
      : begin(db, "BEGIN IMMEDIATE"),
        commit(db, "COMMIT"),
        drop_licence(db, "DELETE FROM licences WHERE code = ?1"),
        drop_token(db, "DELETE FROM tokens WHERE serial = ?1"),
        drop_hardware(db, "DELETE FROM hardware WHERE serial = ?1"),
        licence(db, "INSERT OR REPLACE INTO licences VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        token(
            db,
            "INSERT OR REPLACE INTO tokens VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"),
        hardware(db, "INSERT OR REPLACE INTO hardware VALUES (?1, ?2, ?3, ?4)"),
        clock(db, "INSERT OR REPLACE INTO clock VALUES (1, ?1, ?2)") {}
  statement begin, commit, drop_licence, drop_token, drop_hardware, licence, token, hardware, clock;
};

store::~store() {
  copier_.reset();  // first: the last connection to close copies the whole log and removes it
  writes_.reset();  // a statement left unfinalized would keep the database open
  sqlite3_close(db_);
}

std::uint64_t store::checkpoints() const { return copier_ ? copier_->copies() : 0; }

bool store::await_checkpoint(std::chrono::milliseconds bound) const { return copier_ && copier_->await_copied(bound); }

void store::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string why = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    throw storage_error(why);
  }
}

void store::write(const std::vector<const change*>& changes) {
  if (std::all_of(changes.begin(), changes.end(), [](const change* c) { return c->empty(); })) return;
  try {
    if (!writes_) writes_ = std::make_unique<writes>(db_);
    writes_->begin.run();
    for (const change* c : changes) write_locked(*c);
    writes_->commit.run();
  } catch (const storage_error& e) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    try {
      copier_->failed(db_);
    } catch (...) {  // a lock that could not be taken: what the caller hears is the write's failure
    }
    throw storage_error("cannot write the state to " + path_ + ": " + e.what());
  } catch (...) {  // out of memory: nothing of it stays open for the next group
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  try {  // durable already: nothing here may undo it
    copier_->committed(db_, log_pages_);
  } catch (...) {  // a lock that could not be taken: the log is copied at the next commit
  }
}

void store::write_locked(const change& c) {
  if (c.wipe) exec("DELETE FROM licences; DELETE FROM tokens; DELETE FROM hardware; DELETE FROM clock;");
  auto& w = *writes_;
  auto drop = [](statement& st, const std::vector<std::string>& keys) {
    for (const auto& k : keys) st.bind(1, k).run();
  };
  drop(w.drop_licence, c.dropped_licences);
  drop(w.drop_token, c.dropped_tokens);
  drop(w.drop_hardware, c.dropped_hardware);
  for (const auto& l : c.licences)
    w.licence.bind(1, l.code)
        .bind(2, l.serial)
        .bind(3, json_list(l.tokens))
        .bind(4, l.valid_until)
        .bind(5, json_list(l.bound_to))
        .bind(6, l.registered_to)
        .run();
  for (const auto& t : c.tokens)
    w.token.bind(1, t.serial)
        .bind(2, t.license)
        .bind(3, std::string(status_text(t.status)))
        .bind(4, t.activation)
        .bind(5, protocol::hex_encode(t.secret))
        .bind(6, std::int64_t{t.digits})
        .bind(7, std::int64_t{t.period})
        .bind(8, t.expire)
        .bind(9, t.issuer)
        .bind(10, t.mobile_id)
        .bind(11, t.os_ver)
        .bind(12, t.reg_id)
        .bind(13, static_cast<std::int64_t>(t.provisions))
        .bind(14, std::string(protocol::otp_type_text(t.type)))
        .bind(15, static_cast<std::int64_t>(t.counter))
        .run();
  for (const auto& h : c.hardware)
    w.hardware.bind(1, h.serial)
        .bind(2, protocol::hex_encode(h.secret))
        .bind(3, std::string(h.consumed ? "consumed" : "available"))
        .bind(4, h.activated_by)
        .run();
  if (c.clock_ms) w.clock.bind(1, *c.clock_ms).bind(2, real_ms()).run();
}

}  // namespace fortisim::core
