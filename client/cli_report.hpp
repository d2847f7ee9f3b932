#pragma once
// What `fortisim client` prints: the exchange (what it sent, what it got), what the reply means,
// and the exit status that goes with it. Text for people; with --json one object for machines:
//   {"operation": "provision", "server": "127.0.0.1:8443", "sni": "fortinet-ca2.fortinet.com",
//    "path": "/SoftToken/Provisioning.asmx/Process", "sent": {…}, "status": 200, "received": {…},
//    "errors": [], "result": {…}}

#include "client/operations.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace fortisim::client {

/// The exit statuses of `fortisim client`.
inline constexpr int exit_ok = 0;
inline constexpr int exit_forticare_error = 1;  ///< the reply carries a FortiCare error
inline constexpr int exit_failure = 2;          ///< no protocol reply: transport, TLS, usage

/// Prints `x` and what it means (`result` for machines, `lines` for people); returns exit_ok,
/// exit_forticare_error when the reply carries one, or exit_failure when it is no protocol reply
/// (an HTTP error, or a body that is not the operation's JSON).
int report(const exchange& x, const protocol::json& result, const std::vector<std::string>& lines, bool json);
/// Prints a failure that left no reply to show (`what`: "connect to …: Connection refused");
/// returns exit_failure.
int report_failure(std::string_view what, bool json);
/// Prints a warning on stderr (both modes: stdout stays the result).
void warn(std::string_view what);

}  // namespace fortisim::client
