// The real binary as a subprocess: the ready line, curl against it, start-up failures, reloads,
// and crash safety of the state file under kill -9.
#include "support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

using namespace fortisim;
using protocol::json;
using namespace std::chrono_literals;

namespace {

const std::string source = FORTISIM_SOURCE_DIR;

/// A child process with its stdout and stderr on pipes; killed and reaped in the destructor.
class process {
 public:
  explicit process(std::vector<std::string> args) {
    int out[2], err[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    REQUIRE(::posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  ~process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait_exit(5s);
    }
    ::close(out_);
    ::close(err_);
  }
  /// One line of stdout, or "" if none came within `timeout`.
  std::string read_line(std::chrono::milliseconds timeout) { return line_from(out_, out_buf_, timeout); }
  /// Everything on stderr until it closes (or `timeout`).
  std::string read_stderr(std::chrono::milliseconds timeout) {
    std::string all;
    for (std::string l; !(l = line_from(err_, err_buf_, timeout)).empty();) all += l + "\n";
    return all + err_buf_;
  }
  /// The exit status, or -1 if it did not exit within `timeout`.
  int wait_exit(std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  void signal(int sig) { ::kill(pid_, sig); }

 private:
  static std::string line_from(int fd, std::string& buf, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (auto nl = buf.find('\n'); nl != std::string::npos) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
      char chunk[4096];
      auto n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) return "";
      buf.append(chunk, static_cast<std::size_t>(n));
    }
  }
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  std::string out_buf_, err_buf_;
};

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  return out;
}

std::string temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("fortisim-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d.string();
}

/// The port of "listen" or "admin" in a ready line ("127.0.0.1:40123").
std::uint16_t port_of(const json& ready, const char* key) {
  const std::string& a = ready[key].get_ref<const std::string&>();
  return static_cast<std::uint16_t>(std::stoi(a.substr(a.rfind(':') + 1)));
}

/// The FortiCare error code the captured licence import gets on `port`.
json import_error_code(std::uint16_t port) {
  return json::parse(test::post_once(port, test::captured_request).body)["d"]["error"]["error_code"];
}

json start_ready(process& p) {
  auto line = p.read_line(10s);
  INFO("stderr: " << (line.empty() ? p.read_stderr(100ms) : ""));
  REQUIRE_FALSE(line.empty());
  return json::parse(line);
}

}  // namespace

TEST_SUITE("binary") {

TEST_CASE("fortisim serve prints one ready line, and curl --cacert gets the captured reply") {
  std::string data = temp_dir("bin");
  process p({FORTISIM_BINARY, "serve", "--listen", "127.0.0.1:0", "--scenario", source + "/scenarios/expired-license.json",
             "--data", data, "--threads", "2"});
  auto ready = start_ready(p);
  CHECK(ready["event"] == "ready");
  CHECK(ready["scenario"] == "expired-license");
  CHECK(ready["ca"] == data + "/ca.pem");
  std::string listen = ready["listen"];
  REQUIRE(listen.starts_with("127.0.0.1:"));
  std::string port = listen.substr(10);
  // The keys: never readable by others.
  CHECK((std::filesystem::status(data + "/server-key.pem").permissions() & std::filesystem::perms::others_read) == std::filesystem::perms::none);
  CHECK((std::filesystem::status(data + "/ca-key.pem").permissions() & std::filesystem::perms::group_read) == std::filesystem::perms::none);

  std::string req = data + "/request.json";
  { std::ofstream(req) << test::captured_request; }
  std::string out = run("curl -sS --max-time 10 --cacert " + data + "/ca.pem --resolve directregistration.fortinet.com:" +
                        port + ":127.0.0.1 --data-binary @" + req + " https://directregistration.fortinet.com:" + port +
                        "/SoftToken/Provisioning.asmx/Process 2>&1");
  CHECK(out == test::captured_reply);
  // Every exchange is logged on stderr as one JSON line.
  std::string logged;
  for (std::string l; !(l = p.read_stderr(300ms)).empty();) logged += l;
  auto at = logged.find("{\"event\":\"exchange\"");
  REQUIRE(at != std::string::npos);
  auto entry = json::parse(logged.substr(at, logged.find('\n', at) - at));
  CHECK(entry["event"] == "exchange");
  CHECK(entry["error_code"] == 14);
  CHECK(entry["request_body"] == test::captured_request);

  p.signal(SIGTERM);
  CHECK(p.wait_exit(10s) == 0);
  std::filesystem::remove_all(data);
}

TEST_CASE("start-up failures print one line naming the cause and exit non-zero") {
  std::string data = temp_dir("fail");
  std::string bad = data + "/bad.json";
  { std::ofstream(bad) << R"({"licenses": [{"activation_code": "DA8C-0508-1F31-4CF7-C990", "valid_until": "soon"}]})"; }
  struct row {
    std::vector<std::string> args;
    std::string words;
  };
  // A port another socket holds.
  test::test_server holder(R"({})");
  // The main listener of another fortisim, bound with SO_REUSEPORT: it must still refuse us.
  std::string taken = "127.0.0.1:" + std::to_string(holder.port());
  for (auto& [args, words] : std::vector<row>{
           {{"--scenario", bad}, "bad scenario " + bad + ": $.licenses[0].valid_until: expected a date"},
           {{"--scenario", data + "/missing.json"}, "cannot read the file"},
           {{"--scenario", source + "/scenarios/default.json", "--listen", taken, "--admin", "off"}, "already in use"},
           {{"--scenario", source + "/scenarios/default.json", "--listen", "nonsense"}, "expected ADDR:PORT"},
           {{"--scenario", source + "/scenarios/default.json", "--cert", data + "/none.pem", "--key", data + "/none.pem"}, "cannot use the certificate"},
           {{"--scenario", source + "/scenarios/default.json", "--cert", data + "/none.pem"}, "--cert and --key go together"},
       }) {
    std::vector<std::string> argv{FORTISIM_BINARY, "serve", "--data", data};
    argv.insert(argv.end(), args.begin(), args.end());
    if (std::find(args.begin(), args.end(), "--listen") == args.end()) {
      argv.push_back("--listen");
      argv.push_back("127.0.0.1:0");
    }
    process p(argv);
    CHECK(p.wait_exit(10s) == 2);
    std::string err = p.read_stderr(1s);
    CAPTURE(err);
    CHECK(err.find(words) != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK(p.read_line(100ms).empty());  // no ready line
  }
  std::filesystem::remove_all(data);
}

TEST_CASE("a port below 1024 without privilege says how to fix it") {
  if (::geteuid() == 0) {
    // Root may bind anything; drop to nobody for this check when we can.
    std::string out = run("command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups " +
                          std::string(FORTISIM_BINARY) + " serve --listen 127.0.0.1:443 --data /tmp --scenario " + source +
                          "/scenarios/default.json 2>&1; echo \"exit=$?\"");
    if (out.find("exit=") == 0) return;  // no setpriv here
    CHECK(out.find("permission denied") != std::string::npos);
    CHECK(out.find("CAP_NET_BIND_SERVICE") != std::string::npos);
    CHECK(out.find("exit=2") != std::string::npos);
    return;
  }
  process p({FORTISIM_BINARY, "serve", "--listen", "127.0.0.1:443", "--scenario", source + "/scenarios/default.json"});
  CHECK(p.wait_exit(10s) == 2);
  CHECK(p.read_stderr(1s).find("CAP_NET_BIND_SERVICE") != std::string::npos);
}

TEST_CASE("fortisim validate reports every problem with its path and exits non-zero") {
  std::string data = temp_dir("validate");
  std::string bad = data + "/bad.json";
  { std::ofstream(bad) << R"({"seed": -1, "rules": [{"then": {"action": "delay"}}]})"; }
  std::string out = run(std::string(FORTISIM_BINARY) + " validate " + source + "/scenarios/default.json " + bad + "; echo \"exit=$?\"");
  CHECK(out.find("default.json: ok") != std::string::npos);
  CHECK(out.find(bad + ": $.seed: expected a non-negative integer") != std::string::npos);
  CHECK(out.find(bad + ": $.rules[0].then.ms: missing") != std::string::npos);
  CHECK(out.find("exit=1") != std::string::npos);
  std::filesystem::remove_all(data);
}

TEST_CASE("SIGHUP reloads the scenario; a bad edit is refused and the last good one stays live") {
  std::string data = temp_dir("reload");
  std::string file = data + "/lab.json";
  { std::ofstream(file) << R"({"unknown_codes": {"answer": "card_not_found"}})"; }
  process p({FORTISIM_BINARY, "serve", "--listen", "127.0.0.1:0", "--scenario", file, "--data", data});
  auto ready = start_ready(p);
  auto port = port_of(ready, "listen");
  auto code = [&] { return import_error_code(port); };
  CHECK(code() == 10);
  { std::ofstream(file) << R"({"unknown_codes": {"answer": "accept", "valid_until": "2000-01-01"}})"; }
  p.signal(SIGHUP);
  json got;
  for (int i = 0; i < 100 && (got = code()) != 14; ++i) std::this_thread::sleep_for(20ms);
  CHECK(got == 14);
  { std::ofstream(file) << R"({"unknown_codes": {"answer": "maybe"}})"; }
  p.signal(SIGHUP);
  std::this_thread::sleep_for(200ms);
  CHECK(code() == 14);
  std::string err;
  for (std::string l; !(l = p.read_stderr(300ms)).empty();) err += l;
  CHECK(err.find("$.unknown_codes.answer") != std::string::npos);
  std::filesystem::remove_all(data);
}

TEST_CASE("the control API reloads the scenario (422 with the problems for a bad one) and refuses for a while") {
  std::string data = temp_dir("control");
  std::string file = data + "/lab.json";
  { std::ofstream(file) << R"({"unknown_codes": {"answer": "card_not_found"}})"; }
  process p({FORTISIM_BINARY, "serve", "--listen", "127.0.0.1:0", "--scenario", file, "--data", data, "--quiet"});
  auto ready = start_ready(p);
  auto port = port_of(ready, "listen");
  auto admin = port_of(ready, "admin");
  auto code = [&] { return import_error_code(port); };
  CHECK(code() == 10);

  { std::ofstream(file) << R"({"unknown_codes": {"answer": "accept", "valid_until": "2000-01-01"}})"; }
  auto [ok_status, ok_body] = test::control(admin, "POST", "/reload");
  CHECK(ok_status == 200);
  CHECK(code() == 14);

  { std::ofstream(file) << R"({"licenses": [{"activation_code": "nope"}]})"; }
  auto [bad_status, bad_body] = test::control(admin, "POST", "/reload");
  CHECK(bad_status == 422);
  CHECK(bad_body.find("$.licenses[0].activation_code") != std::string::npos);
  CHECK(code() == 14);  // the last good scenario stays live

  CHECK(test::control(admin, "POST", "/listener/refuse", R"({"for_ms": 500})").first == 200);
  CHECK(test::tcp_connect_errno(port) == ECONNREFUSED);
  bool back = false;
  for (int i = 0; i < 250 && !back; ++i) {
    back = test::tcp_connect_errno(port) == 0;
    if (!back) std::this_thread::sleep_for(20ms);
  }
  CHECK(back);
  CHECK(code() == 14);
  std::filesystem::remove_all(data);
}

TEST_CASE("kill -9 during a burst of changes never leaves a state file that does not load") {
  std::string data = temp_dir("crash");
  std::string state = data + "/state.json";
  std::size_t last_tokens = 0;
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    process p({FORTISIM_BINARY, "serve", "--listen", "127.0.0.1:0", "--scenario", source + "/scenarios/default.json",
               "--data", data, "--state", state});
    auto ready = start_ready(p);
    auto admin = port_of(ready, "admin");
    // The previous round's tokens are all there.
    auto before = json::parse(test::control(admin, "GET", "/state").second);
    CHECK(before["tokens"].size() >= last_tokens);
    std::atomic<bool> stop{false};
    std::thread burst([&] {
      while (!stop) test::try_control(admin, "POST", "/tokens", "{}");
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 37 * round));
    p.signal(SIGKILL);
    CHECK(p.wait_exit(5s) == 137);
    stop = true;
    burst.join();  // its calls fail fast now that nothing listens
    auto text = test::read_file(state);
    auto j = json::parse(text, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    CHECK(j["format"] == 1);
    last_tokens = j["tokens"].size();
  }
  CHECK(last_tokens > 5);
  std::filesystem::remove_all(data);
}

TEST_CASE("each shipped scenario, served by the binary, shows curl and openssl s_client the symptom its README promises") {
  std::string data = temp_dir("shipped");
  { std::ofstream(data + "/import.json") << test::captured_request; }
  { std::ofstream(data + "/hw.json") << R"({"d":{"__type":"SoftToken.HardwareActivationRequest","__version":"4","serial_number":"FG1","tokens":[{"token":"FTK2000000000001"}]}})"; }
  struct served {
    std::unique_ptr<process> p;
    std::string port;
  };
  auto serve = [&](const std::string& scenario) {
    served s{std::make_unique<process>(std::vector<std::string>{FORTISIM_BINARY, "serve", "--listen", "127.0.0.1:0", "--scenario",
                                                                source + "/scenarios/" + scenario, "--data", data}), ""};
    auto ready = start_ready(*s.p);
    s.port = ready["listen"].get<std::string>().substr(10);
    return s;
  };
  // curl as a FortiGate would call: host name by --resolve, the lab CA trusted. Prints the body,
  // then "exit=<curl's exit code>".
  auto curl = [&](const served& s, const std::string& host, const std::string& body_file) {
    return run("curl -sS --max-time 10 -w '\\ntime=%{time_total}' --cacert " + data + "/ca.pem --resolve " + host + ":" + s.port +
               ":127.0.0.1 --data-binary @" + data + "/" + body_file + " https://" + host + ":" + s.port +
               "/SoftToken/Provisioning.asmx/Process 2>&1; echo \"\nexit=$?\"");
  };
  const std::string fg = "directregistration.fortinet.com";

  SUBCASE("default.json") {
    auto s = serve("default.json");
    CHECK(curl(s, fg, "import.json").find("\"tokens\":[{\"token\":\"FTKMOB") != std::string::npos);
  }
  SUBCASE("card-not-found.json") {
    auto s = serve("card-not-found.json");
    CHECK(curl(s, fg, "import.json").find("\"error_code\":10,\"error_message\":\"forticare license card not found\"") != std::string::npos);
  }
  SUBCASE("refused.json") {
    auto s = serve("refused.json");
    auto out = curl(s, fg, "import.json");
    CHECK(out.find("Couldn't connect to server") != std::string::npos);  // curl 7.88s words for ECONNREFUSED
    CHECK(out.find("exit=7") != std::string::npos);
  }
  SUBCASE("flaky.json") {
    auto s = serve("flaky.json");
    for (int i = 0; i < 2; ++i) {
      auto out = curl(s, fg, "import.json");
      CAPTURE(out);
      CHECK(out.find("Connection reset by peer") != std::string::npos);
      CHECK(out.find("exit=56") != std::string::npos);
    }
    CHECK(curl(s, fg, "import.json").find("\"tokens\":[{") != std::string::npos);
  }
  SUBCASE("slow.json") {
    auto s = serve("slow.json");
    auto out = curl(s, fg, "import.json");
    auto t = std::stod(out.substr(out.find("time=") + 5));
    CHECK(t >= 3.0);
    CHECK(out.find("exit=0") != std::string::npos);
  }
  SUBCASE("tls-broken.json") {
    auto s = serve("tls-broken.json");
    auto expired = curl(s, "fds1.fortinet.com", "import.json");
    CHECK(expired.find("certificate has expired") != std::string::npos);
    CHECK(expired.find("exit=60") != std::string::npos);
    auto unknown = curl(s, "globalftm.fortinet.net", "import.json");
    CHECK(unknown.find("exit=60") != std::string::npos);
    auto wrong = curl(s, "fortitokenmobile.fortinet.com", "import.json");
    CHECK(wrong.find("exit=60") != std::string::npos);
    auto alert = run("openssl s_client -connect 127.0.0.1:" + s.port + " -servername " + fg + " </dev/null 2>&1");
    CHECK(alert.find("handshake failure") != std::string::npos);
    auto version = run("openssl s_client -tls1_2 -connect 127.0.0.1:" + s.port + " -servername push.fortinet.com </dev/null 2>&1");
    CHECK(version.find("protocol version") != std::string::npos);
    auto fine = run("curl -sS --max-time 10 --cacert " + data + "/ca.pem --data-binary @" + data + "/import.json https://localhost:" +
                    s.port + "/SoftToken/Provisioning.asmx/Process 2>&1");
    CHECK(fine.find("\"tokens\":[{") != std::string::npos);
  }
  SUBCASE("lock-consumed.json") {
    auto s = serve("lock-consumed.json");
    auto out = curl(s, fg, "hw.json");
    CHECK(out.find("\"seed\":\"\",\"error\":{\"error_code\":903,\"error_message\":\"token already activated, and seed won't be returned\"}") != std::string::npos);
  }
  std::filesystem::remove_all(data);
}

}  // TEST_SUITE
