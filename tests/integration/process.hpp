#pragma once
// Test support for driving programs: a child process with its output on pipes, and shell commands.
// (The real binary's server: served_binary.hpp.)

#include "support.hpp"

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fortisim::test {

/// A child process with its stdout and stderr on pipes; killed and reaped in the destructor.
class process {
 public:
  /// Starts args[0] (a path) with `args`, in the folder `cwd` (empty: this process's).
  explicit process(std::vector<std::string> args, const std::string& cwd = "");
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;
  /// One line of stdout, or "" if none came within `timeout`.
  std::string read_line(std::chrono::milliseconds timeout) { return line_from(out_, out_buf_, timeout); }
  /// Everything on stderr until it closes (or `timeout`).
  std::string read_stderr(std::chrono::milliseconds timeout);
  /// Everything on stdout until it closes (or `timeout`), blank lines included.
  std::string read_stdout(std::chrono::milliseconds timeout);
  /// The next log event `event` on stderr ({"event": "reload", …}), or null if none came within
  /// `timeout`; lines before it are skipped.
  protocol::json next_event(const std::string& event, std::chrono::milliseconds timeout);
  /// The next stderr line that contains `part`, or "" if none came within `timeout` (or stderr
  /// closed); lines before it are skipped.
  std::string stderr_line_with(const std::string& part, std::chrono::milliseconds timeout);
  /// The last stderr lines next_event skipped (up to 16 KiB): what a failing test should show.
  const std::string& passed_over() const { return passed_over_; }
  /// The exit status (128 + the signal for a signal's death), or -1 if it did not exit within
  /// `timeout`; once it has exited, the same status again.
  int wait_exit(std::chrono::milliseconds timeout);
  void signal(int sig);
  pid_t pid() const { return pid_; }

 private:
  static std::string line_from(int fd, std::string& buf, std::chrono::milliseconds timeout);
  /// The next line, or nothing on a timeout or at the end of the stream.
  static std::optional<std::string> next_line(int fd, std::string& buf, std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  int pidfd_ = -1;   ///< readable once the child has exited
  int status_ = -1;  ///< its exit status, once reaped
  int out_ = -1, err_ = -1;
  std::string out_buf_, err_buf_;
  std::string passed_over_;
};

/// A shell command's stdout.
std::string run(const std::string& cmd);
/// The FortiCare error code the captured licence import gets on `port`.
protocol::json import_error_code(std::uint16_t port);

}  // namespace fortisim::test
