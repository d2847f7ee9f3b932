// server/core/store: a state that does not read back exactly is refused with every problem, by row
// and column; nothing is silently defaulted (a misspelt lock must not release a lock).
#include "server/core/model/model.hpp"

#include "protocol/formats.hpp"

#include "../support/fixtures.hpp"
#include "../support/temp_folder.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

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
  CHECK(why.find("tokens[FTKMOB0000000001].period: expected 1 to 3600") != std::string::npos);
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

TEST_CASE("a file that is not a fortisim state database is refused, named, with the fix") {
  test::temp_folder dir("notdb");
  std::string path = dir.write("state.json", R"({"format": 1, "licenses": []})");  // an earlier fortisim's JSON state
  CHECK_THROWS_WITH_AS(model(test::scenario_from(world), path), doctest::Contains("not a fortisim state database"),
                       std::runtime_error);
}

}  // TEST_SUITE
