#pragma once
// The faults that shape the reply, executed by the engine (those that bend the wire are executed
// by server/net/faults.cpp). Each function visits a fault; a fault that does not shape the reply
// falls through to the generic case and leaves the answer to the model.

#include "server/core/engine/engine.hpp"

namespace fortisim::core {

/// Before the model is asked: when the fault's answer stands alone (status, reply, and the
/// faults that send no reply: close, reset, hang, garbage), fills `out` and returns true; the model
/// is then not asked and nothing in the world changes.
bool answers_alone(const fault& f, http_outcome& out, const protocol::json* d, std::int64_t now_s);
/// The error the operation's reply carries instead of the model's answer (error with a code).
std::optional<protocol::error_value> replacement_error(const fault& f);
/// Bends the reply after the model answered (error with per-member errors).
void bend(const fault& f, protocol::response& r);
/// Bends the encoded reply (malformed_json: a well-framed body cut in half).
void bend_body(const fault& f, std::string& body);

}  // namespace fortisim::core
