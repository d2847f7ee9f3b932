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

/// Two worlds that answer the captured import differently (error 10, then 14), and bind nothing,
/// so the model's state (kept across reloads) does not decide the answer.
const std::string card_not_found = R"({"name": "v1", "unknown_codes": {"answer": "card_not_found"}})";
const std::string expired = R"({"name": "v2", "unknown_codes": {"answer": "accept", "valid_until": "2000-01-01"}})";

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

TEST_CASE("--watch reloads the scenario when it is saved — a bad save leaves the last good one live") {
  std::string dir = temp_dir("watch");
  std::string file = dir + "/scenario.json";
  write(file, card_not_found);
  process p({FORTISIM_BINARY, "serve", "--listen", "127.0.0.1:0", "--scenario", file, "--data", dir, "--threads", "2",
             "--watch"});
  auto ready = start_ready(p);
  auto port = port_of(ready, "listen");
  CHECK(import_error_code(port) == 10);

  write(file, expired);  // in place: CLOSE_WRITE
  auto reloaded = p.next_event("reload", 10s);
  INFO("stderr before: " << p.passed_over() << "then: " << p.read_stderr(500ms) << "exit: " << p.wait_exit(500ms));
  REQUIRE(reloaded.is_object());
  CHECK(reloaded["ok"] == true);
  CHECK(import_error_code(port) == 14);

  replace(file, R"({"name": "v3", "licenses": "not a list"})");  // by rename: MOVED_TO
  auto refused = p.next_event("reload", 10s);
  REQUIRE(refused.is_object());
  CHECK(refused["ok"] == false);
  CHECK(refused["problems"].get<std::string>().find("$.licenses") != std::string::npos);
  CHECK(import_error_code(port) == 14);  // v2 is still live

  replace(file, card_not_found);
  auto back = p.next_event("reload", 10s);
  REQUIRE(back.is_object());
  CHECK(back["ok"] == true);
  CHECK(import_error_code(port) == 10);
  // Other files in the folder change nothing.
  write(dir + "/other.json", expired);
  CHECK(p.next_event("reload", 500ms).is_null());
  p.signal(SIGTERM);
  CHECK(p.wait_exit(10s) == 0);
  fs::remove_all(dir);
}

TEST_CASE("without --scenario, serve finds scenarios/default.json from any folder") {
  std::string dir = temp_dir("default-scenario");
  // The build tree: build/fortisim finds ../scenarios/default.json (or the checkout's), from /.
  process built(
      {"/bin/sh", "-c", "cd / && exec " FORTISIM_BINARY " serve --listen 127.0.0.1:0 --threads 1 --data " + dir});
  auto ready = start_ready(built);
  CHECK(ready["scenario"] == "default");
  CHECK(import_error_code(port_of(ready, "listen")).is_null());

  // An install's layout: <prefix>/bin/fortisim finds <prefix>/share/fortisim/scenarios/default.json.
  fs::create_directories(dir + "/prefix/bin");
  fs::create_directories(dir + "/prefix/share/fortisim/scenarios");
  fs::copy_file(FORTISIM_BINARY, dir + "/prefix/bin/fortisim");
  write(dir + "/prefix/share/fortisim/scenarios/default.json", R"({"name": "installed copy"})");
  process installed(
      {"/bin/sh", "-c",
       "cd / && exec " + dir + "/prefix/bin/fortisim serve --listen 127.0.0.1:0 --threads 1 --data " + dir});
  CHECK(start_ready(installed)["scenario"] == "installed copy");
  fs::remove_all(dir);
}

TEST_CASE("validate over the shipped folder skips the schema beside the scenarios and passes") {
  std::string out =
      run(std::string(FORTISIM_BINARY) + " validate " FORTISIM_SOURCE_DIR "/scenarios/*.json; echo \"exit=$?\"");
  CHECK(out.find("schema.json: skipped (a JSON Schema, not a scenario)") != std::string::npos);
  CHECK(out.find("default.json: ok") != std::string::npos);
  CHECK(out.find("exit=0") != std::string::npos);
  // A scenario that merely names the schema is still validated as a scenario.
  std::string dir = temp_dir("validate-schema");
  write(dir + "/bad.json", R"({"$schema": "http://json-schema.org/draft-07/schema#", "seed": -1})");
  out = run(std::string(FORTISIM_BINARY) + " validate " + dir + "/bad.json; echo \"exit=$?\"");
  CHECK(out.find("exit=1") != std::string::npos);
  fs::remove_all(dir);
}

}  // TEST_SUITE
