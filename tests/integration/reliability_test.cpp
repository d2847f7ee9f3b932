// What the binary does when the world around it fails: a full disk, a stderr nobody reads, a
// SIGTERM while requests are in flight, a privileged port. Nothing acknowledged is lost and
// nothing is done that the client was told failed.
#include "prelude.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <thread>

namespace {

const std::string hw =
    R"({"d":{"__type":"SoftToken.HardwareActivationRequest","serial_number":"FG1","tokens":[{"token":"FTK2000000000001"}]}})";

std::string lab_scenario(const temp_folder& dir) {
  return dir.write("lab.json",
                   R"({"unknown_codes": {"answer": "accept"}, "hardware_tokens": [{"token": "FTK2000000000001"}]})");
}

std::string code(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "AAAA-0000-0000-%04X-0000", i);
  return buf;
}

}  // namespace

TEST_SUITE("reliability") {

TEST_CASE("a full disk: the client is told 503, and nothing it was told failed happens") {
  temp_folder dir("full-disk");  // the state outlives the first server
  std::string state = dir.file("state.db");
  auto scenario = lab_scenario(dir);
  int failed_at = -1;
  int lock_status = 0;
  {
    // Files may not grow past 96 KiB (SIGXFSZ is ignored: writes fail with EFBIG).
    serve_options small_disk;
    small_disk.shell_first = "ulimit -f 192";
    served_binary p({"--quiet", "--data", dir.path(), "--scenario", scenario, "--state", state}, small_disk);
    auto port = p.port();
    for (int i = 0; i < 400 && failed_at < 0; ++i) {
      auto r = post_once(port, import_request(code(i), "FG1"));
      REQUIRE(r.what == outcome::kind::ok);
      if (r.status == 503)
        failed_at = i;
      else
        CHECK(r.status == 200);
    }
    REQUIRE(failed_at >= 0);
    // After a failed write the log is copied into the file and starts afresh in the space it has:
    // the next change may fit (200) or not (503); either way the client is told what happened.
    auto lock = post_once(port, hw);
    lock_status = lock.status;
    CHECK((lock.status == 200 || lock.status == 503));
    if (lock.status == 503)
      CHECK(json::parse(lock.body)["error"].get<std::string>().find("cannot write the state") != std::string::npos);
    CHECK(p.stop() == 0);
  }
  served_binary again({"--quiet", "--data", dir.path(), "--scenario", scenario, "--state", state});
  auto port = again.port();
  // The import the client saw fail bound nothing: another device takes the code.
  auto other = json::parse(post_once(port, import_request(code(failed_at), "FG2")).body)["d"];
  CHECK(other["error"].is_null());
  // Every import acknowledged before is there: the first device re-imports, another is refused.
  CHECK(json::parse(post_once(port, import_request(code(0), "FG2")).body)["d"]["error"]["error_code"] == 901);
  // A lock the client was told could not be consumed was not: its seed comes now. One it was told
  // was consumed stays consumed.
  auto seed = json::parse(post_once(port, hw).body)["d"]["tokens"][0];
  CAPTURE(lock_status);
  CHECK(seed["error"].is_null() == (lock_status == 503));
  CHECK(seed.value("seed", std::string()).size() == (lock_status == 503 ? 40u : 0u));
}

TEST_CASE("a full disk under 8 clients at once: each told 200 is on disk, each told 503 is not") {
  // Changes are written in groups outside the model's lock: a failed group is undone, and so is
  // every change queued on top of it. What each client was told must match what was kept.
  temp_folder dir("full-disk-8");
  std::string state = dir.file("state.db");
  auto scenario = lab_scenario(dir);
  struct told {
    std::string code;
    int status;
  };
  std::vector<std::vector<told>> by_client(8);
  {
    serve_options small_disk;
    small_disk.shell_first = "ulimit -f 1024";  // 512 KiB: some groups are written before it fills
    served_binary p({"--quiet", "--data", dir.path(), "--scenario", scenario, "--state", state, "--threads", "2"},
                    small_disk);
    auto port = p.port();
    std::atomic<int> refused{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t)
      clients.emplace_back([&, t] {
        for (int i = 0, after = 0; i < 400 && after < 3; ++i) {  // until 3 requests after the disk filled
          std::string c = code(0x1000 * (t + 1) + i);
          auto r = post_once(port, import_request(c, "FG" + std::to_string(t)));
          by_client[t].push_back({c, r.what == outcome::kind::ok ? r.status : -1});
          if (r.status == 503) ++refused;
          if (refused > 0) ++after;
        }
      });
    for (auto& c : clients) c.join();
    REQUIRE(refused > 0);
    auto status = json::parse(control(p.admin_port(), "GET", "/status").second)["state"];
    CHECK(status["undone"] == refused.load());  // each request told 503 had its own change undone
    CHECK(status["commits"].get<int>() <= status["changes"].get<int>());
    // In memory too, each change undone is gone: a code told 503 is bound to no one.
    std::map<std::string, json> bound;
    auto world = control(p.admin_port(), "GET", "/state");
    REQUIRE_MESSAGE(world.first == 200, world.second);
    auto licences = json::parse(world.second)["licenses"];
    for (const auto& l : licences) bound[l["activation_code"].get<std::string>()] = l["bound_to"];
    for (const auto& told_one : by_client)
      for (const auto& one : told_one) {
        CAPTURE(one.code);
        CHECK((one.status == 200 ? bound.contains(one.code) && !bound[one.code].empty()
                                 : !bound.contains(one.code) || bound[one.code].empty()));
      }
    CHECK(p.stop() == 0);
  }
  served_binary again({"--quiet", "--data", dir.path(), "--scenario", scenario, "--state", state});
  auto port = again.port();
  int kept = 0, lost = 0;
  for (const auto& told_one : by_client)
    for (const auto& one : told_one) {
      CAPTURE(one.code);
      REQUIRE((one.status == 200 || one.status == 503));
      auto other = json::parse(post_once(port, import_request(one.code, "FG-other")).body)["d"]["error"];
      if (one.status == 200) {
        CHECK(other["error_code"] == 901);  // bound to the client told so, on disk
        ++kept;
      } else {
        CHECK(other.is_null());  // never bound: another device takes it
        ++lost;
      }
    }
  MESSAGE(kept << " imports kept, " << lost << " refused and undone");
  CHECK(kept > 8);  // the disk filled after some groups were written, not at once
}

TEST_CASE("a stderr nobody reads never stops the server: lines are dropped and counted") {
  served_binary p({"--scenario", source + "/scenarios/default.json"});  // every exchange logged; stderr never read
  client c(p.port());
  REQUIRE(c.ok());
  std::string body = import_request("1234-5678-9ABC-DEF0-1234", "FG1");
  for (int i = 0; i < 6000; ++i) {  // more lines than the log's queue and a pipe hold together
    auto r = c.post(body);
    REQUIRE(r.status == 200);
  }
  auto status = json::parse(control(p.admin_port(), "GET", "/status").second);
  CHECK(status["log"]["dropped"].get<int>() > 0);
}

TEST_CASE("SIGTERM lets the requests in flight finish, then exits 0") {
  temp_folder dir("drain");
  std::string file = dir.write("slow.json", R"({"unknown_codes": {"answer": "accept"},
    "rules": [{"when": {"operation": "activation_license"}, "then": {"action": "delay", "ms": 600}}]})");
  served_binary p({"--scenario", file, "--quiet", "--threads", "2", "--drain-ms", "5000"});
  auto port = p.port();
  auto admin = p.admin_port();
  std::vector<std::future<outcome>> flying;
  for (int i = 0; i < 12; ++i)
    flying.push_back(
        std::async(std::launch::async, [&, i] { return post_once(port, import_request(code(i), "FG1")); }));
  // Answered once the server holds all twelve.
  REQUIRE(json::parse(control(admin, "GET", "/status?in_flight=12&wait_ms=5000").second)["in_flight"] == 12);
  // Control calls waiting as the drain ends are answered, with the status as it stands (they
  // were cut with no reply): one whose wait it meets, one whose wait it never meets.
  auto none_left =
      std::async(std::launch::async, [&] { return try_control(admin, "GET", "/status?in_flight=0&wait_ms=20000"); });
  auto never =
      std::async(std::launch::async, [&] { return try_control(admin, "GET", "/status?open=1000&wait_ms=20000"); });
  p.signal(SIGTERM);
  for (auto& f : flying) {
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    auto r = f.get();
    CHECK(r.status == 200);
    CHECK(json::parse(r.body)["d"]["error"].is_null());
  }
  CHECK(p.proc().wait_exit(10s) == 0);
  for (auto* waiter : {&none_left, &never}) {
    REQUIRE(waiter->wait_for(10s) == std::future_status::ready);
    auto answer = waiter->get();
    REQUIRE(answer.has_value());
    CHECK(answer->first == 200);
    CHECK(json::parse(answer->second)["in_flight"] == 0);
  }
}

TEST_CASE("SIGTERM with connections open and no request in flight: each is logged as closed by the stop") {
  // They went with the loops, and left no record: a connection counted in the metrics but nowhere
  // in the journal or the log.
  served_binary p({"--scenario", source + "/scenarios/default.json", "--threads", "1"});
  int in_handshake = connect_loopback(p.port(), 5000ms);  // no ClientHello yet
  REQUIRE(in_handshake >= 0);
  client idle(p.port());  // accepted after the first, on the one worker: both are sessions now
  REQUIRE(idle.ok());
  client served(p.port());
  REQUIRE(served.ok());
  REQUIRE(served.post(import_request("AAAA-0000-0000-0000-0001", "FG1")).status == 200);
  client partial(p.port());  // its headers read (the server said 100 Continue), 4 of 100 body bytes sent
  REQUIRE(partial.ok());
  REQUIRE(
      partial.send_raw("POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: 100\r\nExpect: 100-continue\r\n\r\n"));
  REQUIRE(partial.read_at_least(std::string_view("HTTP/1.1 100 Continue\r\n\r\n").size()));
  REQUIRE(partial.send_raw("{\"d\""));
  CHECK(control(p.admin_port(), "GET", "/metrics").second.find("fortisim_connections_total 4\n") != std::string::npos);
  CHECK(p.stop(15s) == 0);
  std::string log;
  for (std::string part; !(part = p.read_stderr(2s)).empty();) log += part;
  std::map<std::uint64_t, json> closed;  // by connection
  std::vector<json> cut;                 // requests cut short
  bool stopped_after = false;
  for (std::size_t at = 0, end; (end = log.find('\n', at)) != std::string::npos; at = end + 1) {
    auto line = json::parse(log.substr(at, end - at), nullptr, false);
    if (line.is_discarded()) continue;
    if (line.value("action", "").starts_with("closed as fortisim stopped")) {
      CHECK_FALSE(stopped_after);
      closed[line["connection"].get<std::uint64_t>()] = line;
    }
    if (line.value("reason", "").starts_with("the request was not whole when fortisim stopped")) {
      CHECK_FALSE(stopped_after);
      cut.push_back(line);
    }
    if (line.value("event", "") == "stopped") stopped_after = true;
  }
  INFO(log);
  REQUIRE(closed.size() == 3);
  CHECK(closed[1]["stage"] == "tls");
  CHECK(closed[1]["action"] == "closed as fortisim stopped, during the handshake");
  CHECK(closed[2]["stage"] == "connection");
  CHECK(closed[2]["action"] == "closed as fortisim stopped, before any request");
  CHECK(closed[3]["action"] == "closed as fortisim stopped, after its requests");
  for (auto& [connection, e] : closed) CHECK(e["outcome"] == "not_sent");
  // The request being read: an http entry of its own, numbered (it was "before any request").
  REQUIRE(cut.size() == 1);
  CHECK(cut[0]["connection"] == 4);
  CHECK(cut[0]["stage"] == "http");
  CHECK(cut[0]["request"] == 2);
  CHECK(cut[0]["target"] == "/SoftToken/Provisioning.asmx/Process");
  CHECK(cut[0]["outcome"] == "not_sent");
  CHECK(cut[0]["status"] == 0);
  CHECK(stopped_after);
  ::close(in_handshake);
}

TEST_CASE("SIGTERM past --drain-ms with a reply held: its exchange is the connection's one record") {
  // The connection got a second entry, "closed as fortisim stopped, after its requests".
  temp_folder dir("drain-cut");
  std::string file = dir.write("slow.json", R"({"unknown_codes": {"answer": "accept"},
    "rules": [{"when": {"operation": "activation_license"}, "then": {"action": "delay", "ms": 20000}}]})");
  served_binary p({"--scenario", file, "--threads", "1", "--drain-ms", "200"});
  auto flying = std::async(std::launch::async, [&] { return post_once(p.port(), import_request(code(1), "FG1")); });
  REQUIRE(json::parse(control(p.admin_port(), "GET", "/status?in_flight=1&wait_ms=5000").second)["in_flight"] == 1);
  CHECK(p.stop(15s) == 0);
  REQUIRE(flying.wait_for(10s) == std::future_status::ready);
  CHECK(flying.get().status != 200);
  std::string log;
  for (std::string part; !(part = p.read_stderr(2s)).empty();) log += part;
  INFO(log);
  std::vector<json> entries;
  for (std::size_t at = 0, end; (end = log.find('\n', at)) != std::string::npos; at = end + 1) {
    auto line = json::parse(log.substr(at, end - at), nullptr, false);
    if (!line.is_discarded() && line.value("event", "") == "exchange") entries.push_back(line);
  }
  REQUIRE(entries.size() == 1);
  CHECK(entries[0]["stage"] == "http");
  CHECK(entries[0]["outcome"] == "not_sent");
}

TEST_CASE("SIGTERM with connections waiting to be accepted: each is logged once, before the stopped line") {
  // With no request in flight the loops stopped at once: connections in the backlog, or accepted
  // with their session not yet started, were reset or closed with no record.
  served_binary p({"--scenario", source + "/scenarios/default.json", "--threads", "1"});
  p.signal(SIGSTOP);  // the kernel completes their handshakes; nobody accepts them
  constexpr int waiting = 12;
  std::vector<int> fds;
  for (int i = 0; i < waiting; ++i) {
    int fd = connect_loopback(p.port(), 5000ms);
    REQUIRE(fd >= 0);
    fds.push_back(fd);
  }
  p.signal(SIGTERM);
  p.signal(SIGCONT);
  CHECK(p.proc().wait_exit(15s) == 0);
  std::string log;
  for (std::string part; !(part = p.read_stderr(2s)).empty();) log += part;
  std::set<std::uint64_t> connections;
  int entries = 0;
  bool stopped = false;
  for (std::size_t at = 0, end; (end = log.find('\n', at)) != std::string::npos; at = end + 1) {
    auto line = json::parse(log.substr(at, end - at), nullptr, false);
    if (line.is_discarded()) continue;
    if (line.value("event", "") == "stopped") stopped = true;
    if (line.value("event", "") != "exchange") continue;
    CHECK_FALSE(stopped);
    CHECK(line["outcome"] == "not_sent");
    ++entries;
    connections.insert(line["connection"].get<std::uint64_t>());
  }
  INFO(log);
  CHECK(entries == waiting);
  CHECK(connections.size() == static_cast<std::size_t>(waiting));
  for (int fd : fds) ::close(fd);
}

TEST_CASE("a drain's closed listener stays closed through a reload, a reset and POST /listener/open") {
  // With --state a control call runs on another thread than SIGTERM's: neither order may reopen.
  temp_folder dir("drain-closed");
  std::string file = dir.write("slow.json", R"({"unknown_codes": {"answer": "accept"},
    "rules": [{"when": {"operation": "activation_license"}, "then": {"action": "delay", "ms": 3000}}]})");
  served_binary p(
      {"--scenario", file, "--quiet", "--threads", "1", "--drain-ms", "8000", "--state", dir.path() + "/state.db"});
  auto port = p.port();
  auto admin = p.admin_port();
  auto flying = std::async(std::launch::async, [&] { return post_once(port, import_request(code(1), "FG1")); });
  REQUIRE(json::parse(control(admin, "GET", "/status?in_flight=1&wait_ms=5000").second)["in_flight"] == 1);
  p.signal(SIGTERM);
  // The signal is handled on the server's loop: answered once every worker has closed its listener.
  REQUIRE(json::parse(control(admin, "GET", "/status?listening=false&wait_ms=5000").second)["listening"] == false);
  REQUIRE(tcp_connect_errno(port) == ECONNREFUSED);
  CHECK(control(admin, "POST", "/reload").first == 200);
  CHECK(control(admin, "POST", "/reset").first == 200);
  auto opened = control(admin, "POST", "/listener/open");
  CHECK(opened.first == 200);
  CHECK(json::parse(opened.second)["listening"] == false);  // the reply says what is, not what was asked
  CHECK(tcp_connect_errno(port) == ECONNREFUSED);
  CHECK(json::parse(control(admin, "GET", "/status").second)["listening"] == false);
  REQUIRE(flying.wait_for(10s) == std::future_status::ready);
  CHECK(flying.get().status == 200);
  CHECK(p.proc().wait_exit(10s) == 0);
}

TEST_CASE("a port below 1024 without privilege says how to fix it, from a checkout in a 0700 home") {
  if (::geteuid() != 0) {
    auto failed = expect_startup_failure(
        {"--listen", "127.0.0.1:443", "--scenario", source + "/scenarios/default.json"}, {"CAP_NET_BIND_SERVICE"});
    CHECK(failed.status == 2);
    return;
  }
  // As root, drop to nobody, who cannot enter a 0700 home such as /root: run copies from a folder
  // anyone may enter.
  temp_folder folder("unprivileged");
  const std::string& dir = folder.path();
  ::chmod(dir.c_str(), 0755);
  std::filesystem::copy_file(FORTISIM_BINARY, dir + "/fortisim");
  std::filesystem::copy_file(source + "/scenarios/default.json", dir + "/default.json");
  ::chmod((dir + "/default.json").c_str(), 0644);
  std::filesystem::create_directory(dir + "/data");
  ::chmod((dir + "/data").c_str(), 0777);  // nobody makes its lab CA here
  std::string out =
      // Sanitizer options may name files in the 0700 home (ThreadSanitizer's suppressions), which
      // nobody cannot read: the unprivileged copy runs without them.
      run("command -v setpriv >/dev/null || echo no-setpriv; env -u TSAN_OPTIONS -u ASAN_OPTIONS -u UBSAN_OPTIONS "
          "setpriv --reuid=65534 --regid=65534 --clear-groups " +
          dir + "/fortisim serve --listen 127.0.0.1:443 --data " + dir + "/data --scenario " + dir +
          "/default.json 2>&1; echo \"exit=$?\"");
  REQUIRE_MESSAGE(out.find("no-setpriv") == std::string::npos, "setpriv (util-linux) is needed for this test");
  CHECK(out.find("permission denied") != std::string::npos);
  CHECK(out.find("CAP_NET_BIND_SERVICE") != std::string::npos);
  CHECK(out.find("exit=2") != std::string::npos);
}

}  // TEST_SUITE
