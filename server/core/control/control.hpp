#pragma once
// The control API's logic (the admin listener only carries it): health and status, the journal
// (filtered, counted), the model's state (whole, or as the web console shows it) and resets, the
// clock, OTPs, test provisioning, hardware locks, the listener, reloads, rules at runtime, metrics.
// JSON in and out, strict: an unknown parameter or key, or a value of the wrong type or range,
// gets 400 with the reason. Documented in docs/control-api.md.

#include "server/core/engine/engine.hpp"

#include <string>
#include <string_view>

namespace fortisim::core {

/// What the control API needs from the server around it: its listeners (refuse, open, whether
/// they listen), reloading its scenario file, and its counts.
class server_control {
 public:
  virtual ~server_control() = default;
  /// Stop listening (clients get ECONNREFUSED) for `ms`, or until open() when 0.
  virtual void refuse(std::int64_t ms) = 0;
  virtual void open() = 0;
  /// Back to the scenario's start (POST /reset): the engine's reset, then listening as the
  /// scenario does from its start (refusing again if it refuses from the start).
  virtual void reset() = 0;
  /// Reload the scenario file; the problems found, or "" when it took. Throws storage_error (and
  /// changes nothing) when the state cannot be written.
  virtual std::string reload() = 0;
  /// Serve the scenario file at `path` from now on (reloads read it too); the problems found, or
  /// "" when it took. On problems the scenario in force stays, and so does its file. With
  /// `from_start`, it is POST /reset's too, in one change: the world is the new scenario's start
  /// (checked against that), and the rule counters, runtime rules, journal and listener start again.
  /// Throws storage_error (and changes nothing) when the state cannot be written.
  virtual std::string switch_scenario(const std::string& path, bool from_start) = 0;
  /// The folder of the shipped scenarios (GET /scenarios), "" when none was found.
  virtual std::string shipped_scenarios() const = 0;
  /// Whether every worker listens now.
  virtual bool listening() const = 0;
  /// Whether every worker has carried out the last refuse, open or close: then listening() is
  /// what a client meets (a timed refusal's end is carried out on each worker in turn).
  virtual bool listener_settled() const = 0;
  /// Each worker's counters: [{"accepted": N}, …].
  virtual protocol::json worker_counts() const = 0;
  /// Requests read and not yet answered, now.
  virtual std::int64_t in_flight() const = 0;
  /// The lab CA's certificate as PEM, the one the leaves served are signed with (not re-read from
  /// the data folder, which `fortisim certs --force` may have changed since), or "" when fortisim
  /// serves a certificate given with --cert.
  virtual std::string lab_ca_pem() const = 0;
  /// The lab CA's SHA-256 fingerprint (as the ready line's `ca_sha256`), or "" with --cert.
  virtual std::string ca_sha256() const = 0;
  /// Where fortisim listens, for GET /status: {"https": "127.0.0.1:8443", "dns": … or null,
  /// "admin": … or null} (null: no DNS responder, no control listener as under the C++ fixture).
  virtual protocol::json addresses() const = 0;
};

/// Who answers a route: the control API itself, or the listener carrying it, for what is not a
/// JSON reply (the web console's files, the live feed's event stream). Every route is in one
/// table (routes.cpp), so that 404, 405 and `Allow` are the same for all of them.
enum class route_kind { api, console_file, event_stream };

/// The kind of the route `method` and `target` reach; `api` also for none (handle_control says
/// 404 or 405 then).
route_kind route_kind_of(std::string_view method, std::string_view target);

struct control_reply {
  control_reply() = default;
  control_reply(int s, std::string b) : status(s), body(std::move(b)) {}
  int status = 200;
  std::string body;  ///< JSON, unless content_type says otherwise
  std::string content_type = "application/json";
  bool listeners_changed = false;  ///< the network layer confirms the listeners followed before answering
  std::string allow;               ///< for 405: the methods the path takes
  /// Not answered yet (a call with `wait_ms` whose count is not reached): the caller asks again
  /// after each new journal entry, for up to this long, then once more with may_wait false.
  std::int64_t wait_ms = 0;
};

/// Answers one control call. With `may_wait` false, a call that could wait answers at once.
control_reply handle_control(engine& engine, server_control& server, std::string_view method, std::string_view target,
                             std::string_view body, bool may_wait = false);

}  // namespace fortisim::core
