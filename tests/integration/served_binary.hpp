#pragma once
// The real binary serving: `fortisim serve` started in a temporary folder of its own, its ready
// line read within a deadline, and stopped and cleaned up however the test ends.

#include "../support/temp_folder.hpp"
#include "process.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace fortisim::test {

/// How `fortisim serve` is started, beyond its arguments.
struct serve_options {
  std::string binary = FORTISIM_BINARY;            ///< the program: a copy elsewhere (an install's layout) may stand in
  std::string shell_first;                         ///< a shell command run first ("ulimit -n 48"), through /bin/sh -c
  std::chrono::milliseconds ready_within{10'000};  ///< how long the ready line may take
};

/// The command line of `fortisim serve ARGS` run in `folder`: --listen 127.0.0.1:0 and --data
/// `folder` unless ARGS give them (never the defaults, 0.0.0.0:443 and the user's data folder).
std::vector<std::string> serve_command(std::vector<std::string> args, const serve_options& opts,
                                       const std::string& folder);

/// `fortisim serve ARGS` of the built binary (see serve_command), run in a temporary folder of its
/// own. The constructor returns once the ready line has come, and fails the test, showing stderr,
/// if none comes within the deadline. The destructor stops the server (SIGTERM, a bounded wait,
/// SIGKILL as a last resort) and removes the folder, also when a REQUIRE throws.
class served_binary {
 public:
  explicit served_binary(std::vector<std::string> args, serve_options opts = {});
  ~served_binary();
  served_binary(const served_binary&) = delete;
  served_binary& operator=(const served_binary&) = delete;

  /// The ready line: {"event": "ready", "listen", "admin", "ca", "dns", "scenario", "seed", "pid"}.
  const protocol::json& ready() const { return ready_; }
  /// "listen" of the ready line, ADDR:PORT.
  std::string listen() const { return ready_["listen"]; }
  /// The port of "listen": the FortiCare endpoint.
  std::uint16_t port() const;
  /// The port of "admin": the control API.
  std::uint16_t admin_port() const;
  /// The port of "dns": the DNS responder (with --dns).
  std::uint16_t dns_port() const;
  /// "ca" of the ready line: the lab CA's certificate (PEM) that the server's chain ends in.
  std::string ca() const { return ready_["ca"]; }
  /// Its working directory, and its --data unless the arguments gave another.
  const temp_folder& folder() const { return folder_; }

  void signal(int sig) { process_.signal(sig); }
  /// The next log event `event` on stderr, or null if none came within `timeout` (process::next_event).
  protocol::json next_event(const std::string& event, std::chrono::milliseconds timeout) {
    return process_.next_event(event, timeout);
  }
  /// What is on stderr until it closes, or until no line came within `timeout`.
  std::string read_stderr(std::chrono::milliseconds timeout) { return process_.read_stderr(timeout); }
  /// SIGTERM, then the exit status within `within` (-1 if it has not exited by then).
  int stop(std::chrono::milliseconds within = std::chrono::seconds(10));
  /// The process itself: wait_exit, passed_over, a kill -9.
  process& proc() { return process_; }

 private:
  temp_folder folder_;  // declared first: removed after the process has stopped
  process process_;
  protocol::json ready_;
};

/// The port of "ADDR:PORT" (a ready line's "listen", "admin" or "dns").
std::uint16_t port_in(const std::string& address);

}  // namespace fortisim::test
