// What a harness relies on when it drives the real binary: the ready line in a file (--ready-file),
// a scenario reloaded when it is saved (--watch: in place and by rename, a bad edit refused), and
// `fortisim serve` without --scenario from any folder (the build tree's, an install's layout).
#include "process.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

using namespace fortisim;
using namespace fortisim::test;
using protocol::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

/// Saves as editors and `sed -i` do: a new file renamed over the old one.
void replace(const std::string& path, const std::string& text) {
  write(path + ".new", text);
  fs::rename(path + ".new", path);
}

const std::string expired = R"({"name": "v1", "licenses": [{"activation_code": "DA8C-0508-1F31-4CF7-C990",
                                "valid_until": "2020-01-01"}]})";
/// Knows no licence: the same code gets 10 (and binds nothing, so v1 still answers 14 after it).
const std::string unknown = R"({"name": "v2"})";

}  // namespace

TEST_SUITE("harness") {

TEST_CASE("--ready-file holds the ready line, written whole") {
  std::string dir = temp_dir("ready-file");
  process p({FORTISIM_BINARY, "serve", "--listen", "127.0.0.1:0", "--scenario",
             FORTISIM_SOURCE_DIR "/scenarios/default.json", "--data", dir, "--threads", "1", "--ready-file",
             dir + "/ready.json"});
  auto ready = start_ready(p);
  CHECK(read_file(dir + "/ready.json") == ready.dump() + "\n");
  CHECK_FALSE(fs::exists(dir + "/ready.json.tmp"));
  CHECK(import_error_code(port_of(ready, "listen")).is_null());
  p.signal(SIGTERM);
  CHECK(p.wait_exit(10s) == 0);
  fs::remove_all(dir);
}

TEST_CASE("a ready file that cannot be written is a start-up failure") {
  std::string dir = temp_dir("ready-file-bad");
  process p({FORTISIM_BINARY, "serve", "--listen", "127.0.0.1:0", "--scenario",
             FORTISIM_SOURCE_DIR "/scenarios/default.json", "--data", dir, "--threads", "1", "--ready-file",
             dir + "/no/such/folder/ready.json"});
  CHECK(p.wait_exit(10s) == 2);
  CHECK(p.read_stderr(1s).find("--ready-file") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("--watch reloads the scenario when it is saved; a bad save leaves the last good one live") {
  std::string dir = temp_dir("watch");
  std::string file = dir + "/scenario.json";
  write(file, expired);
  process p({FORTISIM_BINARY, "serve", "--listen", "127.0.0.1:0", "--scenario", file, "--data", dir, "--threads", "2",
             "--watch"});
  auto ready = start_ready(p);
  auto port = port_of(ready, "listen");
  CHECK(import_error_code(port) == 14);

  write(file, unknown);  // in place: CLOSE_WRITE
  auto reloaded = p.next_event("reload", 10s);
  REQUIRE(reloaded.is_object());
  CHECK(reloaded["ok"] == true);
  CHECK(import_error_code(port) == 10);

  replace(file, R"({"name": "v3", "licenses": "not a list"})");  // by rename: MOVED_TO
  auto refused = p.next_event("reload", 10s);
  REQUIRE(refused.is_object());
  CHECK(refused["ok"] == false);
  CHECK(refused["problems"].get<std::string>().find("$.licenses") != std::string::npos);
  CHECK(import_error_code(port) == 10);  // v2 is still live

  replace(file, expired);
  auto back = p.next_event("reload", 10s);
  REQUIRE(back.is_object());
  CHECK(back["ok"] == true);
  CHECK(import_error_code(port) == 14);
  // Other files in the folder change nothing.
  write(dir + "/other.json", unknown);
  CHECK(p.next_event("reload", 500ms).is_null());
  p.signal(SIGTERM);
  CHECK(p.wait_exit(10s) == 0);
  fs::remove_all(dir);
}

TEST_CASE("without --scenario, serve finds scenarios/default.json from any folder") {
  std::string dir = temp_dir("default-scenario");
  // The build tree: build/fortisim finds ../scenarios/default.json (or the checkout's), from /.
  process built({"/bin/sh", "-c",
                 "cd / && exec " FORTISIM_BINARY " serve --listen 127.0.0.1:0 --threads 1 --data " + dir});
  auto ready = start_ready(built);
  CHECK(ready["scenario"] == "default");
  CHECK(import_error_code(port_of(ready, "listen")).is_null());

  // An install's layout: <prefix>/bin/fortisim finds <prefix>/share/fortisim/scenarios/default.json.
  fs::create_directories(dir + "/prefix/bin");
  fs::create_directories(dir + "/prefix/share/fortisim/scenarios");
  fs::copy_file(FORTISIM_BINARY, dir + "/prefix/bin/fortisim");
  write(dir + "/prefix/share/fortisim/scenarios/default.json", R"({"name": "installed copy"})");
  process installed({"/bin/sh", "-c",
                     "cd / && exec " + dir + "/prefix/bin/fortisim serve --listen 127.0.0.1:0 --threads 1 --data " +
                         dir});
  CHECK(start_ready(installed)["scenario"] == "installed copy");
  fs::remove_all(dir);
}

}  // TEST_SUITE
