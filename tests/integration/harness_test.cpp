// What a harness relies on when it drives the real binary: the ready line in a file (--ready-file),
// a scenario reloaded when it is saved (--watch: in place and by rename, a bad edit refused), and
// `fortisim serve` without --scenario from any folder (the build tree's, an install's layout).
#include "prelude.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

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
  temp_folder dir("ready-file");
  served_binary p(
      {"--scenario", source + "/scenarios/default.json", "--threads", "1", "--ready-file", dir.file("ready.json")});
  CHECK(read_file(dir.file("ready.json")) == p.ready().dump() + "\n");
  CHECK_FALSE(fs::exists(dir.file("ready.json.tmp")));
  CHECK(import_error_code(p.port()).is_null());
  CHECK(p.stop() == 0);
}

TEST_CASE("a ready file that cannot be written is a start-up failure") {
  temp_folder dir("ready-file-bad");
  auto failed = expect_startup_failure({"--scenario", source + "/scenarios/default.json", "--threads", "1",
                                        "--ready-file", dir.file("no/such/folder/ready.json")},
                                       {"--ready-file"});
  CHECK(failed.status == 2);
}

TEST_CASE("--watch reloads the scenario when it is saved — a bad save leaves the last good one live") {
  temp_folder dir("watch");
  std::string file = dir.write("scenario.json", card_not_found);
  served_binary p({"--scenario", file, "--threads", "2", "--watch"});
  auto port = p.port();
  CHECK(import_error_code(port) == 10);

  write(file, expired);  // in place: CLOSE_WRITE
  auto reloaded = p.next_event("reload", 10s);
  INFO("stderr before: " << p.proc().passed_over() << "then: " << p.read_stderr(500ms)
                         << "exit: " << p.proc().wait_exit(500ms));
  REQUIRE(reloaded.is_object());
  CHECK(reloaded["ok"] == true);
  CHECK(import_error_code(port) == 14);

  replace(file, R"({"name": "v3", "licenses": "not a list"})");  // by rename: MOVED_TO
  auto refused = p.next_event("reload", 10s);
  REQUIRE(refused.is_object());
  CHECK(refused["ok"] == false);
  REQUIRE(refused["problems"].is_array());
  CHECK(refused["problems"][0].get<std::string>().find("$.licenses") != std::string::npos);
  CHECK(import_error_code(port) == 14);  // v2 is still live

  replace(file, card_not_found);
  auto back = p.next_event("reload", 10s);
  REQUIRE(back.is_object());
  CHECK(back["ok"] == true);
  CHECK(import_error_code(port) == 10);
  // Other files in the folder change nothing.
  dir.write("other.json", expired);
  CHECK(p.next_event("reload", 500ms).is_null());
  CHECK(p.stop() == 0);
}

TEST_CASE("GET /status: last_reload is null before any reload, then each one's outcome — a bad save included") {
  temp_folder dir("last-reload");
  std::string file = dir.write("scenario.json", card_not_found);
  served_binary p({"--scenario", file, "--threads", "1", "--watch"});
  auto admin = p.admin_port();
  auto last_reload = [&] { return json::parse(control(admin, "GET", "/status").second).at("last_reload"); };
  CHECK(last_reload().is_null());

  replace(file, R"({"name": "v3", "licenses": "not a list"})");  // a bad save under --watch
  REQUIRE(p.next_event("reload", 10s).value("ok", true) == false);
  auto bad = last_reload();
  CHECK(bad["ok"] == false);
  CHECK(bad["file"] == file);
  REQUIRE(bad["problems"].size() == 1);
  CHECK(bad["problems"][0].get<std::string>().starts_with(file + ": $.licenses: "));
  auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  CHECK(bad["time_ms"].get<std::int64_t>() <= now_ms);
  CHECK(bad["time_ms"].get<std::int64_t>() > now_ms - 60'000);

  replace(file, expired);
  REQUIRE(p.next_event("reload", 10s).value("ok", false) == true);
  auto good = last_reload();
  CHECK(good["ok"] == true);
  CHECK(good["problems"] == json::array());
  CHECK(good["time_ms"] >= bad["time_ms"]);

  p.signal(SIGHUP);  // SIGHUP's reloads and the control API's are recorded alike
  REQUIRE(p.next_event("reload", 10s).value("ok", false) == true);
  CHECK(last_reload()["time_ms"] >= good["time_ms"]);
  CHECK(control(admin, "POST", "/reload").first == 200);
  CHECK(last_reload()["ok"] == true);
}

TEST_CASE("the ready line and the start-up log carry the lab CA's fingerprint, as GET /ca?format=sha256 gives it") {
  served_binary p({"--scenario", source + "/scenarios/default.json", "--threads", "1", "--log-format", "json"});
  auto [status, body] = control(p.admin_port(), "GET", "/ca?format=sha256");
  REQUIRE(status == 200);
  auto fingerprint = p.ready()["ca_sha256"];
  REQUIRE(fingerprint.is_string());
  CHECK(fingerprint.get<std::string>() + "\n" == body);
  CHECK(fingerprint.get<std::string>().size() == 32 * 3 - 1);  // "3A:7F:…"
  CHECK(p.next_event("tls", 5s)["ca_sha256"] == fingerprint);

  // --data relative to the folder fortisim runs in: the CA's path is still one a harness in
  // another folder can open (it was "./lab/ca.pem").
  served_binary relative({"--scenario", source + "/scenarios/default.json", "--threads", "1", "--data", "./lab"});
  auto ca = relative.ready()["ca"].get<std::string>();
  CHECK(fs::path(ca).is_absolute());
  CHECK(fs::path(ca).filename() == "ca.pem");
  CHECK(fs::is_regular_file(ca));
  CHECK(relative.next_event("tls", 5s)["ca"] == ca);  // and the log names the same file (it was relative)

  // With --cert the server's chain is the user's: no lab CA to name.
  temp_folder certs("ready-cert");
  auto made = json::parse(run(std::string(FORTISIM_BINARY) + " certs --data '" + certs.path() + "'"));
  served_binary own({"--scenario", source + "/scenarios/default.json", "--threads", "1", "--cert",
                     made["cert"].get<std::string>(), "--key", made["key"].get<std::string>()});
  CHECK(own.ready().contains("ca_sha256"));
  CHECK(own.ready()["ca_sha256"].is_null());
}

TEST_CASE("without --scenario, serve finds scenarios/default.json from any folder") {
  // The build tree: build/fortisim finds ../scenarios/default.json (or the checkout's), from the
  // server's own temporary folder.
  served_binary built({"--threads", "1"});
  CHECK(built.ready()["scenario"] == "default");
  CHECK(import_error_code(built.port()).is_null());

  // An install's layout: <prefix>/bin/fortisim finds <prefix>/share/fortisim/scenarios/default.json.
  temp_folder prefix("prefix");
  fs::create_directories(prefix.file("bin"));
  fs::create_directories(prefix.file("share/fortisim/scenarios"));
  fs::copy_file(FORTISIM_BINARY, prefix.file("bin/fortisim"));
  prefix.write("share/fortisim/scenarios/default.json", R"({"name": "installed copy"})");
  serve_options copy;
  copy.binary = prefix.file("bin/fortisim");
  served_binary installed({"--threads", "1"}, copy);
  CHECK(installed.ready()["scenario"] == "installed copy");

  // A binary copied beside a scenarios folder (a tarball unpacked, a trial's folder) serves that
  // folder's default, not the checkout it was built from.
  temp_folder beside("beside");
  fs::create_directories(beside.file("scenarios"));
  fs::copy_file(FORTISIM_BINARY, beside.file("fortisim"));
  beside.write("scenarios/default.json", R"({"name": "the copy beside"})");
  serve_options next_to;
  next_to.binary = beside.file("fortisim");
  served_binary copied({"--threads", "1"}, next_to);
  CHECK(copied.ready()["scenario"] == "the copy beside");
}

TEST_CASE("validate over the shipped folder skips the schema beside the scenarios and passes") {
  std::string out =
      run(std::string(FORTISIM_BINARY) + " validate " FORTISIM_SOURCE_DIR "/scenarios/*.json; echo \"exit=$?\"");
  CHECK(out.find("schema.json: skipped (a JSON Schema, not a scenario)") != std::string::npos);
  CHECK(out.find("default.json: ok") != std::string::npos);
  CHECK(out.find("exit=0") != std::string::npos);
  // A scenario that merely names the schema is still validated as a scenario.
  temp_folder dir("validate-schema");
  auto bad = dir.write("bad.json", R"({"$schema": "http://json-schema.org/draft-07/schema#", "seed": -1})");
  out = run(std::string(FORTISIM_BINARY) + " validate " + bad + "; echo \"exit=$?\"");
  CHECK(out.find("exit=1") != std::string::npos);
}

}  // TEST_SUITE
