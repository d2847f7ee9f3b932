#pragma once
// How FortiOS 7.4 writes a request body: JSON on one line with a space inside every brace and
// bracket and after every colon and comma, `{ "d": { "__type": "SoftToken.ProvisionRequest", … } }`
// [seen: the FortiOS 7.4.10 debug log, docs/protocol.md §4.4]. The client sends a provisioning
// request in this form, so its Content-Length is what a FortiGate's would be.

#include "protocol/messages.hpp"

#include <string>

namespace fortisim::client {

/// `j` written as FortiOS 7.4 writes it, e.g. `{ "d": { "tokens": [ { "token": "FTKMOB…" } ] } }`.
std::string fortios_text(const protocol::json& j);

}  // namespace fortisim::client
