#pragma once
// Private to the HTTP sessions: one reply played on the wire and journaled (deliver.cpp).

#include "server/core/engine/engine.hpp"
#include "server/net/https/faults.hpp"

#include <string>

namespace fortisim::net {

/// Plays the engine's outcome `o` on the wire (its delay, its fault, its reply, with `head` the
/// connection's buffer for the reply's head) and journals how it went (engine::finish, also when
/// the session is cut short). What the session does next.
task<after_fault> deliver(core::engine& engine, tls_stream& stream, wire& w, core::http_outcome& o, unsigned version,
                          bool keep_alive, std::string& head);

}  // namespace fortisim::net
