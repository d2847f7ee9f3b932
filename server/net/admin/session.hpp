#pragma once
// The control API's listener: plain HTTP on --admin, the routes of server/core/control/, the CA
// download and the web console.

#include "server/net/https/service.hpp"

namespace fortisim::net {

/// Accepts control connections on `acceptor` (worker 0's loop) until it closes.
task<> admin_accept_loop(service* s, tcp::acceptor* acceptor);

}  // namespace fortisim::net
