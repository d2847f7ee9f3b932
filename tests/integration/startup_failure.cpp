#include "startup_failure.hpp"

#include <doctest/doctest.h>

namespace fortisim::test {

using namespace std::chrono_literals;

startup_failure expect_startup_failure(std::vector<std::string> args, const std::vector<std::string>& words,
                                       const serve_options& opts) {
  temp_folder folder("startup-failure");
  process p(serve_command(std::move(args), opts, folder.path()), folder.path());
  startup_failure failed;
  failed.status = p.wait_exit(10s);
  failed.err = p.read_stderr(1s);  // it has exited: the pipe ends at once
  CAPTURE(failed.err);
  CHECK(failed.status > 0);           // -1: still running after 10 s
  CHECK(p.read_line(100ms).empty());  // no ready line
  for (const auto& w : words) CHECK_MESSAGE(failed.err.find(w) != std::string::npos, "stderr should say: " << w);
  return failed;
}

}  // namespace fortisim::test
