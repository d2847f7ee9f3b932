// server/core/store: a state that does not read back exactly is refused with every problem, by row
// and column; nothing is silently defaulted (a misspelt lock must not release a lock).
#include "server/core/model/model.hpp"

#include "protocol/formats.hpp"

#include "../support/fixtures.hpp"
#include "../support/temp_folder.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <sys/resource.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace fortisim;
using core::model;

namespace {

const char* world = R"({"unknown_codes": {"answer": "accept"}, "hardware_tokens": [{"token": "FTK2000000000001"}],
  "licenses": [{"activation_code": "AAAA-0000-0000-0000-0001", "tokens": ["FTKMOB0000000001"]}]})";

void sql(const std::string& path, const std::string& statement) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

/// A state made from `world` at `path`: a licence imported, a token provisioned.
void make_state(const std::string& path) {
  model m(test::scenario_from(world), path);
  m.import_license({{"", "4", "FG1", "7.2", "1", {}}, "AAAA-0000-0000-0000-0001"});
  m.provision_for_test("FTKMOB0000000001");
}

/// A change of one licence whose registration fills about three of the log's 4 KiB pages.
core::change big_licence(int i) {
  core::change c;
  c.licences.push_back({"CODE-" + std::to_string(i), "EFTM" + std::to_string(i), {}, {}, {}, std::string(10000, 'x')});
  return c;
}

/// A change of one licence `i` and its one token, which names it: a reader that saw the token but
/// not the licence would find an orphan.
core::change licence_and_token(int i) {
  char token[17];
  std::snprintf(token, sizeof token, "FTKMOB%010d", i);
  char code[25];
  std::snprintf(code, sizeof code, "AAAA-0000-0000-0000-%04X", i);
  core::change c;
  c.licences.push_back({code, "EFTM" + std::to_string(i), {token}, {}, {"FG1"}, "FG1"});
  c.tokens.push_back(core::fresh_token(token, "EFTM" + std::to_string(i)));
  c.tokens.back().secret = std::string(20, 's');
  return c;
}

/// The licences the database file alone holds, without its log: a copy of the file read as is.
std::int64_t licences_in_file(const test::temp_folder& dir, const std::string& path) {
  auto copy = dir.file("file-alone.db");
  std::filesystem::copy_file(path, copy, std::filesystem::copy_options::overwrite_existing);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(("file:" + copy + "?immutable=1").c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                          nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::int64_t n = -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM licences", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/// While it lives, no file this process writes grows past `bytes`: a write past it fails (EFBIG,
/// its signal ignored), as on a full disk.
class file_size_limit {
 public:
  explicit file_size_limit(std::uintmax_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &before_);
    signal_before_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = before_;
    limit.rlim_cur = static_cast<rlim_t>(bytes);
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
  }
  ~file_size_limit() {
    ::setrlimit(RLIMIT_FSIZE, &before_);
    std::signal(SIGXFSZ, signal_before_);
  }
  file_size_limit(const file_size_limit&) = delete;
  file_size_limit& operator=(const file_size_limit&) = delete;

 private:
  rlimit before_{};
  void (*signal_before_)(int) = nullptr;
};

/// Why fortisim refuses to start on the state at `path`, or "" when it starts.
std::string refusal(const std::string& path) {
  try {
    model again(test::scenario_from(world), path);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_SUITE("store") {

TEST_CASE("damaged rows are refused with their row and column, and the file is left as it was") {
  test::temp_folder dir("store");
  std::string path = dir.file("state.db");
  {
    model m(test::scenario_from(world), path);
    m.import_license({{"", "4", "FG1", "7.2", "1", {}}, "AAAA-0000-0000-0000-0001"});
    m.provision_for_test("FTKMOB0000000001");
  }
  sql(path,
      "UPDATE hardware SET lock = 'Consumed'; UPDATE tokens SET secret = 'zz', period = 0; "
      "UPDATE licences SET bound_to = 'FG1';");
  std::string why;
  try {
    model again(test::scenario_from(world), path);
  } catch (const std::runtime_error& e) {
    why = e.what();
  }
  CAPTURE(why);
  CHECK(why.find("state.db: hardware[FTK2000000000001].lock: expected \"available\" or \"consumed\"") !=
        std::string::npos);
  CHECK(why.find("tokens[FTKMOB0000000001].secret: expected 40 hex digits") != std::string::npos);
  CHECK(why.find("tokens[FTKMOB0000000001].period: expected an integer from 1 to 3600, got 0") != std::string::npos);
  CHECK(why.find("licences[AAAA-0000-0000-0000-0001].bound_to: expected a JSON array") != std::string::npos);
  // Refusing wrote nothing back: the damage is still there for a person to see.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT lock FROM hardware", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "Consumed");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_CASE("a format 2 state (0.2, no OTP type or counter) is upgraded when served: its tokens are TOTP") {
  test::temp_folder dir("store-v2");
  std::string path = dir.file("state.db");
  make_state(path);
  sql(path, "ALTER TABLE tokens DROP COLUMN type; ALTER TABLE tokens DROP COLUMN counter; PRAGMA user_version=2;");
  CHECK_THROWS_WITH_AS(core::store(path, core::store::access::check), doctest::Contains("format 2 (fortisim 0.2)"),
                       std::runtime_error);
  {
    model again(test::scenario_from(world), path);
    auto otp = again.otp("FTKMOB0000000001");
    REQUIRE(otp.has_value());
    CHECK(otp->params.type == protocol::otp_type::totp);
  }
  sql(path, "UPDATE tokens SET type = 'HOTP', counter = -1");
  auto why = refusal(path);
  CHECK(why.find("tokens[FTKMOB0000000001].type: expected \"totp\" or \"hotp\"") != std::string::npos);
  CHECK(why.find("tokens[FTKMOB0000000001].counter: expected an integer from 0") != std::string::npos);
}

TEST_CASE("a file that is not a fortisim state database is refused, named, with the fix") {
  test::temp_folder dir("notdb");
  std::string path = dir.write("state.json", R"({"format": 1, "licenses": []})");  // an earlier fortisim's JSON state
  CHECK_THROWS_WITH_AS(model(test::scenario_from(world), path), doctest::Contains("not a fortisim state database"),
                       std::runtime_error);
}

TEST_CASE("a state keeps its relations and ranges: NULL keys, orphans, a token twice, fractions, far clocks") {
  struct damage {
    const char* sql;
    const char* refused;
  };
  const damage cases[] = {
      // A table as earlier versions made it (a TEXT PRIMARY KEY may be NULL there), holding a NULL code.
      {"ALTER TABLE licences RENAME TO old; CREATE TABLE licences (code TEXT PRIMARY KEY, serial TEXT NOT NULL, "
       "tokens TEXT NOT NULL, valid_until INTEGER, bound_to TEXT NOT NULL, registered_to TEXT NOT NULL); "
       "INSERT INTO licences SELECT NULL, serial, tokens, valid_until, bound_to, registered_to FROM old; "
       "DROP TABLE old",
       "licences[].code: expected text, not NULL"},
      {"UPDATE tokens SET license = 'EFTM000000000002'",
       "tokens[FTKMOB0000000001].license: no stored licence has the serial EFTM000000000002"},
      {"INSERT INTO licences SELECT 'BBBB-0000-0000-0000-0002', 'EFTM2', tokens, valid_until, bound_to, "
       "registered_to FROM licences",
       "FTKMOB0000000001 is listed by licence AAAA-0000-0000-0000-0001 too"},
      {"INSERT INTO licences SELECT 'BBBB-0000-0000-0000-0002', serial, '[]', valid_until, bound_to, "
       "registered_to FROM licences",
       "is the serial of licence AAAA-0000-0000-0000-0001 too"},
      {"UPDATE licences SET tokens = '[]'", "does not list this token among its tokens"},
      // A token of no licence that a licence lists (POST /tokens made one, found by an attacker's trial).
      {"UPDATE tokens SET license = ''",
       "tokens[FTKMOB0000000001].license: names no licence, but licence AAAA-0000-0000-0000-0001 lists this token"},
      {"UPDATE tokens SET period = 30.5", "period: expected an integer from 1 to 3600, got 30.5"},
      // Two tokens with one code: the phone would get either (a phone's code names one token).
      {"CREATE TEMP TABLE copy AS SELECT * FROM tokens; UPDATE copy SET serial = 'FTKMOB0000000002', license = ''; "
       "INSERT INTO tokens SELECT * FROM copy",
       "tokens[FTKMOB0000000002].activation: is token FTKMOB0000000001's code too"},
      // Stored bytes reach a terminal escaped, and cut: no escape sequence, no 2 MB line.
      {"UPDATE hardware SET serial = char(27) || '[2J' || char(7)", "hardware[\\x1B[2J\\x07].serial"},
      {"UPDATE tokens SET digits = printf('%.3000c', 'x')",
       "got xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"},
      {"INSERT OR REPLACE INTO clock VALUES (1, 9223372036854775807, 0)",
       "clock[1].now_ms: expected an integer from 0 to 253402300799999"},
      {"INSERT OR REPLACE INTO clock VALUES (1, 1e300, 0)", "clock[1].now_ms: expected an integer"},
      {"INSERT OR REPLACE INTO clock VALUES (1, -1, 0)", "clock[1].now_ms: expected an integer"},
  };
  for (const auto& d : cases) {
    test::temp_folder dir("store-relations");
    std::string path = dir.file("state.db");
    make_state(path);
    sql(path, d.sql);
    auto why = refusal(path);
    std::string expected = d.refused;
    CAPTURE(expected);
    CAPTURE(why);
    CHECK(why.find(expected) != std::string::npos);
  }
}

TEST_CASE("a dropped table refuses start-up: it is never made afresh (that would release every lock)") {
  test::temp_folder dir("store-dropped");
  std::string path = dir.file("state.db");
  make_state(path);
  sql(path, "DROP TABLE hardware");
  CHECK(refusal(path).find("the table hardware is missing") != std::string::npos);
  sql(path, "CREATE TABLE hardware (serial TEXT PRIMARY KEY, secret TEXT NOT NULL)");
  CHECK(refusal(path).find("the table hardware does not have the columns expected") != std::string::npos);
}

TEST_CASE("the log is copied into the file by a thread of its own, not inside a commit") {
  test::temp_folder dir("store-copier");
  std::string path = dir.file("state.db");
  core::store s(path, core::store::access::serve, {.background = 4, .inline_ = 1'000'000});
  for (int i = 0; i < 20; ++i) s.write(big_licence(i));
  // SQLite by itself copies at 1,000 pages, inside a commit: these 60 would stay in the log.
  REQUIRE(s.await_checkpoint(std::chrono::seconds(10)));
  CHECK(s.checkpoints() >= 1);
  CHECK(licences_in_file(dir, path) == 20);
}

TEST_CASE("the log is bounded: past its bound the writer copies it before the next commit") {
  test::temp_folder dir("store-log-bound");
  std::string path = dir.file("state.db");
  core::store s(path, core::store::access::serve, {.background = 1'000'000, .inline_ = 8});
  s.write(big_licence(0));  // the tables made and one licence: past the bound already
  auto first = std::filesystem::file_size(path + "-wal");
  for (int i = 1; i < 50; ++i) s.write(big_licence(i));  // 4 or 5 pages each: 200 and more in all
  CHECK(s.checkpoints() >= 20);
  // Never longer than it was: each copy let the next commit start the log afresh.
  CHECK(std::filesystem::file_size(path + "-wal") == first);
  CHECK(first < 20 * (4096 + 24) + 32);
  CHECK(licences_in_file(dir, path) >= 48);
}

TEST_CASE("after a write the disk refused, the log is copied and starts afresh: the next change fits") {
  test::temp_folder dir("store-refused-write");
  std::string path = dir.file("state.db");
  {
    core::store s(path, core::store::access::serve, {.background = 1'000'000, .inline_ = 1'000'000});
    for (int i = 0; i < 10; ++i) s.write(big_licence(i));  // 30 pages and more, none copied
    // No file may grow past the log's size now (a full disk, to SQLite): the log cannot grow, and
    // the file, which holds fewer pages than the log, has room for them.
    file_size_limit full(std::filesystem::file_size(path + "-wal"));
    CHECK_THROWS_AS(s.write(big_licence(10)), core::storage_error);
    CHECK(s.checkpoints() == 1);
    s.write(big_licence(10));  // into the log's first pages, once the failure copied it
  }
  CHECK(licences_in_file(dir, path) == 11);  // the last one on disk, with the ten before it
}

TEST_CASE("a check beside a server reads the state as of one moment, however the server's writes fall") {
  test::temp_folder dir("store-check-live");
  std::string path = dir.file("state.db");
  core::store served(path, core::store::access::serve);
  served.write(licence_and_token(0));
  std::atomic<bool> done = false;
  std::thread writer([&] {
    for (int i = 1; i < 300; ++i) served.write(licence_and_token(i));
    done = true;
  });
  // Each table read in a moment of its own would see, now and then, a token whose licence came
  // after the licences were read.
  int checks = 0;
  std::string first_problem;
  while (!done && first_problem.empty()) {
    auto loaded = core::store(path, core::store::access::check).load();
    if (auto* problems = std::get_if<std::vector<core::problem>>(&loaded))
      first_problem = problems->front().path + ": " + problems->front().reason;
    ++checks;
  }
  writer.join();
  CHECK(first_problem == "");
  MESSAGE(checks << " checks beside 300 writes");
}

TEST_CASE("a damaged page refuses start-up, as PRAGMA quick_check reports it") {
  test::temp_folder dir("store-damaged");
  std::string path = dir.file("state.db");
  make_state(path);
  // The tokens table's key index: its page, overwritten past its header.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_tokens_1'", -1, &st,
                     nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  auto page = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  auto page_size = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp((page - 1) * page_size + 8);
    std::string garbage(static_cast<std::size_t>(page_size - 8), '\x7f');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto why = refusal(path);
  CAPTURE(why);
  CHECK(why.find("state.db: $: ") != std::string::npos);
  CHECK((why.find("the database is damaged (PRAGMA quick_check)") != std::string::npos ||
         why.find("malformed") != std::string::npos));
}

}  // TEST_SUITE
