#pragma once
// A start-up that must fail: the real binary given a bad option or a resource it cannot have.

#include "served_binary.hpp"

#include <string>
#include <vector>

namespace fortisim::test {

/// What a failed start left behind.
struct startup_failure {
  int status = -1;  ///< the exit status: non-zero (2 for fortisim's own refusals)
  std::string err;  ///< all it wrote on stderr
};

/// Runs `fortisim serve ARGS` as served_binary does (its own temporary folder, 127.0.0.1:0) and
/// checks that it exits non-zero within 10 s, prints no ready line, and says each of `words` on
/// stderr. The caller may check more of what it returns.
startup_failure expect_startup_failure(std::vector<std::string> args, const std::vector<std::string>& words,
                                       const serve_options& opts = {});

}  // namespace fortisim::test
