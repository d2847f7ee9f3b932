#pragma once
// The control API's logic (the admin listener only carries it): status, the journal, the model's
// state, the clock, OTPs, test provisioning, hardware locks, the listener, reloads. JSON in and
// out; documented in README.md ("Control API").

#include "server/core/engine.hpp"

#include <string>
#include <string_view>

namespace fortisim::core {

/// What the control API needs from the network layer.
class listener_control {
 public:
  virtual ~listener_control() = default;
  /// Stop listening (clients get ECONNREFUSED) for `ms`, or until open() when 0.
  virtual void refuse(std::int64_t ms) = 0;
  virtual void open() = 0;
  /// Reload the scenario file; the problems found, or "" when it took.
  virtual std::string reload() = 0;
};

struct control_reply {
  int status = 200;
  std::string body;                ///< JSON
  bool listeners_changed = false;  ///< the network layer confirms the listeners followed before answering
};

control_reply handle_control(engine& e, listener_control& l, std::string_view method, std::string_view target,
                             std::string_view body);

}  // namespace fortisim::core
