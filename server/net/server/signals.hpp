#pragma once
// The signals `fortisim serve` acts on (SIGINT and SIGTERM drain and stop, SIGHUP reloads) are
// taken by the server's loops alone. The binary blocks them before it makes its first thread, so
// every thread it makes (the log's, the answering pool's, the loops) is born with them blocked, and
// each loop unblocks them as it starts (config::handle_signals). Under ThreadSanitizer a signal
// taken by a thread parked outside a loop (in a join, a condition wait) was sometimes never handled.
// One that comes before the loops run waits for them, and is then handled as any other.

#include <pthread.h>
#include <signal.h>

namespace fortisim::net {

/// Blocks (SIG_BLOCK) or unblocks (SIG_UNBLOCK) SIGINT, SIGTERM and SIGHUP in the calling thread.
inline void mask_server_signals(int how) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
  pthread_sigmask(how, &set, nullptr);
}

}  // namespace fortisim::net
