// libFuzzer target: the state loader (`fortisim serve --state`, `fortisim state check`). Each input
// is SQL run against a real state (a licence imported, a token provisioned, a hardware lock), the
// damage a person, a crash or another program could do to the file; the state is then opened and
// loaded as at start-up. It must load, or be refused with a reason: never crash, never hang.
// The SQL may change rows and tables only: attaching files, pragmas, VACUUM INTO and the like are
// denied, and it is stopped after a bounded number of steps and bytes.
#include "server/core/model/model.hpp"
#include "server/core/model/store.hpp"
#include "server/core/scenario/scenario.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using namespace fortisim;

namespace {

const char* world = R"({"unknown_codes": {"answer": "accept"}, "hardware_tokens": [{"token": "FTK2000000000001"}],
  "licenses": [{"activation_code": "AAAA-0000-0000-0000-0001", "tokens": ["FTKMOB0000000001"]}]})";

/// A folder of this process's own, and a state made there once: the bytes every input starts from.
struct templates {
  std::string folder, state;
  std::string bytes;
  templates() {
    // In memory where there is a tmpfs: a state is written and fsync'd twice an input.
    std::string name = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    name += "/fortisim-fuzz-state-XXXXXX";
    if (!::mkdtemp(name.data())) std::abort();
    folder = name;
    std::string made = folder + "/template.db";
    {
      auto s = core::parse_scenario(world, "world.json");
      core::model m(std::make_shared<const core::scenario>(std::move(*s.value)), made);
      m.import_license({{"", "4", "FG1", "7.2", "1", {}}, "AAAA-0000-0000-0000-0001"});
      m.provision_for_test("FTKMOB0000000001");
    }
    std::ifstream in(made, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
    state = folder + "/state.db";
  }
  ~templates() { std::filesystem::remove_all(folder); }
};

/// What the input's SQL may do: read and change rows, tables, indexes, views and triggers.
int only_rows_and_tables(void*, int action, const char*, const char*, const char*, const char*) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
    case SQLITE_FUNCTION:
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
    case SQLITE_RECURSIVE:
    case SQLITE_CREATE_TABLE:
    case SQLITE_DROP_TABLE:
    case SQLITE_ALTER_TABLE:
    case SQLITE_CREATE_INDEX:
    case SQLITE_DROP_INDEX:
    case SQLITE_CREATE_VIEW:
    case SQLITE_DROP_VIEW:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_DROP_TRIGGER: return SQLITE_OK;
    default: return SQLITE_DENY;
  }
}

/// Runs `sql` against the state at `path`, within bounds; what it did before an error stays.
void damage(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) std::abort();
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_exec(db, "PRAGMA synchronous=OFF", nullptr, nullptr, nullptr);
  sqlite3_set_authorizer(db, only_rows_and_tables, nullptr);
  int steps = 0;
  sqlite3_progress_handler(
      db, 1000, [](void* n) { return ++*static_cast<int*>(n) > 2000 ? 1 : 0; }, &steps);
  sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static templates t;
  std::filesystem::remove(t.state + "-wal");
  std::filesystem::remove(t.state + "-shm");
  std::ofstream(t.state, std::ios::binary | std::ios::trunc)
      .write(t.bytes.data(), static_cast<std::streamsize>(t.bytes.size()));
  damage(t.state, std::string(reinterpret_cast<const char*>(data), size));
  for (auto access : {core::store::access::check, core::store::access::serve}) {
    try {
      core::store s(t.state, access);
      auto loaded = s.load();
      if (auto* problems = std::get_if<std::vector<core::problem>>(&loaded))
        for (const auto& p : *problems)
          if (p.reason.empty()) std::abort();  // refused without a reason
    } catch (const core::storage_error& e) {
      if (std::string(e.what()).empty()) std::abort();
    }
  }
  return 0;
}
