#pragma once
// Private to the engine: one HTTP exchange on its way through engine::handle(), and what a worker
// reuses from one exchange to the next. engine.cpp answers it; entry.cpp journals it.

#include "server/core/engine/engine.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace fortisim::core {

using protocol::json;

/// What a worker reuses from one exchange to the next, so that a keep-alive request allocates
/// neither its request struct nor its reason: their strings keep their storage, up to
/// `kept_bytes` (one large request is not held for the worker's life).
struct worker_scratch {
  static constexpr std::size_t kept_bytes = 8 << 10;
  protocol::request read;    ///< the request read without a tree
  protocol::response reply;  ///< the reply, written over by the next one of its kind
  std::string reason;
  void trim(std::size_t body_size) {
    if (body_size > kept_bytes) {
      read = protocol::request{};
      reply = protocol::response{};
    }
    if (reason.capacity() > kept_bytes) {
      reason.clear();
      reason.shrink_to_fit();
    }
  }
};

/// One HTTP exchange on its way through handle(): what the request is, which rule fired, and the
/// outcome being built.
struct engine::exchange {
  exchange(loaded& scenario_in_force, const http_request& read, http_outcome& outcome, worker_scratch& worker)
      : in_force(scenario_in_force), request(read), scratch(worker), reason(worker.reason), out(outcome) {}
  loaded& in_force;
  const http_request& request;
  worker_scratch& scratch;
  std::uint64_t ordinal = 0;  ///< the request's, since the scenario loaded (what `when` tests)
  std::uint64_t id = 0;       ///< the request's, since the process started (the journal's `request`)
  std::string_view path;      ///< the target without its query
  /// The request read without a tree (plain shape, no rule reads "d"), in scratch.read.
  const protocol::request* direct = nullptr;
  json parsed;              ///< the tree, when the request was not read directly or a rule fired
  std::string unparsable;   ///< why the body is not JSON fortisim reads, "" if it is
  const json* d = nullptr;  ///< the request's "d" object, if the body had one and its tree was built
  std::string_view type;    ///< d.__type
  std::optional<protocol::operation> op;
  std::optional<rule_book::hit> hit;
  snapshot<runtime_rules>::pin runtime;  ///< the runtime rules matched, alive while `hit` points into them
  std::string& reason;                   ///< why this answer, in protocol terms (in scratch)
  http_outcome& out;
  int error_code = 0;                         ///< the FortiCare error in the reply, for the journal
  const protocol::response* reply = nullptr;  ///< the model's or the error's reply, when one was encoded
};

}  // namespace fortisim::core
