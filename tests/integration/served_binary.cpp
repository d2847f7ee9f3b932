#include "served_binary.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>

namespace fortisim::test {

using protocol::json;
using namespace std::chrono_literals;

namespace {

bool has_option(const std::vector<std::string>& args, const std::string& option) {
  return std::any_of(args.begin(), args.end(),
                     [&](const std::string& a) { return a == option || a.starts_with(option + "="); });
}

/// The ready line, which comes first on stdout; the test fails without it.
json read_ready(process& p, std::chrono::milliseconds within) {
  auto line = p.read_line(within);
  if (line.empty()) {
    auto err = p.read_stderr(100ms);
    FAIL("no ready line: stdout closed, or " << within.count() << " ms passed; exit status " << p.wait_exit(100ms)
                                             << " (-1: still running); stderr: " << err);
  }
  auto ready = json::parse(line, nullptr, false);
  REQUIRE_MESSAGE((ready.is_object() && ready.value("event", "") == "ready"), "not a ready line: " << line);
  return ready;
}

}  // namespace

std::vector<std::string> serve_command(std::vector<std::string> args, const serve_options& opts,
                                       const std::string& folder) {
  if (!has_option(args, "--listen")) args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  if (!has_option(args, "--data")) args.insert(args.end(), {"--data", folder});
  std::vector<std::string> argv;
  // "$0" and "$@" pass the arguments on as they are: nothing to quote.
  if (!opts.shell_first.empty()) argv = {"/bin/sh", "-c", opts.shell_first + " && exec \"$0\" \"$@\""};
  argv.insert(argv.end(), {opts.binary, "serve"});
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

served_binary::served_binary(std::vector<std::string> args, serve_options opts)
    : folder_("serve"), process_(serve_command(std::move(args), opts, folder_.path()), folder_.path()) {
  ready_ = read_ready(process_, opts.ready_within);
}

served_binary::~served_binary() {
  if (stop() == -1) process_.signal(SIGKILL);  // the process's destructor reaps it (bounded)
}

int served_binary::stop(std::chrono::milliseconds within) {
  process_.signal(SIGTERM);  // nothing once it has exited
  return process_.wait_exit(within);
}

std::uint16_t served_binary::port() const { return port_in(ready_["listen"]); }
std::uint16_t served_binary::admin_port() const { return port_in(ready_["admin"]); }
std::uint16_t served_binary::dns_port() const { return port_in(ready_["dns"]); }

std::uint16_t port_in(const std::string& address) {
  return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

}  // namespace fortisim::test
