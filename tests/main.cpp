// Debian's doctest ships no ready main: this is it. Tests write to sockets the server may have
// closed (that is often the point): a write error is what they check, never SIGPIPE's death. A run
// whose test cases were all skipped (a missing tool) exits 77, which ctest shows as "Skipped".
#define DOCTEST_CONFIG_IMPLEMENT
#include "support/skip.hpp"

#include <doctest/doctest.h>

#include <csignal>

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  return fortisim::test::exit_status(doctest::Context(argc, argv).run());
}
