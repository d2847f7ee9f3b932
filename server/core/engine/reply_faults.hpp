#pragma once
// The faults that shape the reply (shapes_reply in server/core/scenario/faults.hpp), executed by
// the engine; what happens on the wire is server/net/https/faults.cpp's. Each function visits a
// fault; one that does not shape the reply leaves the answer to the model, unless it sends no
// reply at all.

#include "server/core/engine/engine.hpp"

namespace fortisim::core {

/// Before the model is asked: when the fault's answer stands alone (status, reply, and every
/// fault whose sends_reply is false), fills `out` and returns true; the model is then not asked
/// and nothing in the world changes.
bool answers_alone(const fault& f, http_outcome& out, const protocol::json* d, std::int64_t now_s);
/// The error the operation's reply carries instead of the model's answer (error with a code).
std::optional<protocol::error_value> replacement_error(const fault& f);
/// Bends the reply after the model answered (error with per-member errors).
void bend(const fault& f, protocol::response& r);
/// Bends the encoded reply (malformed_json: a well-framed body cut in half).
void bend_body(const fault& f, std::string& body);

}  // namespace fortisim::core
