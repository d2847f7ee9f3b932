#include "process.hpp"

#include <cerrno>

#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>

extern char** environ;

namespace fortisim::test {

using protocol::json;
using namespace std::chrono_literals;

process::process(std::vector<std::string> args, const std::string& cwd) {
  int out[2], err[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int spawned = ::posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  ::close(err[1]);
  out_ = out[0];
  err_ = err[0];
  if (spawned != 0) pid_ = -1;
  REQUIRE_MESSAGE(spawned == 0, "cannot start " << args[0] << ": " << std::strerror(spawned));
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));  // glibc 2.36's wrapper lacks extern "C"
  REQUIRE_MESSAGE(pidfd_ >= 0, "pidfd_open: " << std::strerror(errno));
}

process::~process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait_exit(5s);
  }
  ::close(pidfd_);
  ::close(out_);
  ::close(err_);
}

std::string process::read_stderr(std::chrono::milliseconds timeout) {
  std::string all;
  for (std::string l; !(l = line_from(err_, err_buf_, timeout)).empty();) all += l + "\n";
  return all + err_buf_;
}

std::string process::read_stdout(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  std::string all = std::move(out_buf_);
  out_buf_.clear();
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    pollfd p{out_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return all;
    char chunk[4096];
    auto n = ::read(out_, chunk, sizeof chunk);
    if (n <= 0) return all;
    all.append(chunk, static_cast<std::size_t>(n));
  }
}

json process::next_event(const std::string& event, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return nullptr;
    auto line = next_line(err_, err_buf_, left);
    if (!line) return nullptr;  // timed out, or the process closed its stderr (exited)
    auto j = json::parse(*line, nullptr, false);
    if (j.is_object() && j.value("event", "") == event) return j;
    passed_over_ += *line + "\n";  // kept for a failing test's message
    if (passed_over_.size() > 16384) passed_over_.erase(0, passed_over_.size() - 16384);
  }
}

std::string process::stderr_line_with(const std::string& part, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    auto line = left.count() > 0 ? next_line(err_, err_buf_, left) : std::nullopt;
    if (!line) return "";
    if (line->find(part) != std::string::npos) return *line;
  }
}

int process::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return status_;
  pollfd p{pidfd_, POLLIN, 0};
  auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {  // readable when the child has exited: no polling of waitpid
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    int ready = ::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 0)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return -1;
    break;
  }
  int status = 0;
  if (::waitpid(pid_, &status, 0) != pid_) return -1;
  pid_ = -1;
  status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return status_;
}

void process::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);  // never kill(-1, …) once reaped: that would signal every process
}

std::string process::line_from(int fd, std::string& buf, std::chrono::milliseconds timeout) {
  return next_line(fd, buf, timeout).value_or("");
}

std::optional<std::string> process::next_line(int fd, std::string& buf, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto nl = buf.find('\n'); nl != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char chunk[4096];
    auto n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buf.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  return out;
}

json import_error_code(std::uint16_t port) {
  return json::parse(post_once(port, captured_request).body)["d"]["error"]["error_code"];
}

}  // namespace fortisim::test
