// Debian's doctest ships no ready main: this is it. Tests write to sockets the server may have
// closed (that is often the point): a write error is what they check, never SIGPIPE's death.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  return doctest::Context(argc, argv).run();
}
