#pragma once
// Private to the control API: one call being answered, with strict readers for its query and its
// JSON body (each refusal a 400 naming the parameter or key and what was expected).

#include "server/core/control/control.hpp"

#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fortisim::core::control {

using protocol::json;

/// Thrown by a reader for input the call cannot take; becomes a 400 (or `status`) with `what()`.
struct bad_call : std::runtime_error {
  explicit bad_call(const std::string& why, int status = 400) : std::runtime_error(why), status(status) {}
  int status;
};

/// One control call: its path, query, body, and the parts of the server it may use.
struct call {
  core::engine& engine;
  server_control& server;
  std::string_view method;
  std::string_view path;
  std::map<std::string, std::string, std::less<>> query;  ///< percent-decoded
  json body = json::object();
  std::string_view wildcard;  ///< the `*` segment of the route's path ("/tokens/*/otp")
  bool may_wait = false;      ///< whether a call with wait_ms may answer "not yet" (control_reply::wait_ms)

  /// Refuses query parameters other than `allowed`.
  void only_query(std::span<const std::string_view> allowed) const;
  void only_query(std::initializer_list<std::string_view> allowed) const {
    only_query({allowed.begin(), allowed.size()});
  }
  /// Refuses body keys other than `allowed`.
  void only_keys(std::initializer_list<std::string_view> allowed) const;
  std::optional<std::string> text(const char* key) const;
  std::optional<std::int64_t> integer(const char* key, std::int64_t min, std::int64_t max) const;
  std::optional<std::string> query_text(std::string_view key) const;
  std::optional<std::int64_t> query_integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  /// Says in the log and on the console's feed what this call changed, once it has:
  /// {"event": "control", "action": "refuse", …what it was given}, e.g. "for_ms": 5000.
  void announce(std::string_view action, const json& given = json::object()) const;
};

control_reply ok(const json& j);
control_reply listeners_follow(control_reply r);

// The handlers, by area (world.cpp, server.cpp).
control_reply state(call& c);
control_reply world(call& c);
control_reply reset(call& c);
control_reply clock(call& c);
control_reply new_token(call& c);
control_reply otp(call& c);
control_reply token_qr(call& c);
control_reply verify_otp(call& c);
control_reply release_lock(call& c);
control_reply health(call& c);
control_reply status(call& c);
control_reply journal(call& c);
control_reply journal_count(call& c);
control_reply journal_clear(call& c);
control_reply reload(call& c);
control_reply scenarios(call& c);
control_reply devices(call& c);
control_reply switch_scenario(call& c);
control_reply refuse(call& c);
control_reply open(call& c);
control_reply list_rules(call& c);
control_reply add_rule(call& c);
control_reply delete_rule(call& c);
control_reply metrics(call& c);
control_reply ca_certificate(call& c);  // ca.cpp

}  // namespace fortisim::core::control
