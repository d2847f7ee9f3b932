#pragma once
// How a coroutine that should never throw is reported when it does: once, as a bug, in the log.

#include "server/core/engine/engine.hpp"

#include <exception>

namespace fortisim::net {

/// Logs a coroutine's escaping exception once (a bug: sessions handle their own errors). `what`
/// names the coroutine, e.g. "accept loop". Does nothing when `e` is null.
void log_failure(core::engine& engine, std::exception_ptr e, const char* what);

}  // namespace fortisim::net
