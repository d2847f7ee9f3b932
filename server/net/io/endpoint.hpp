#pragma once
// Addresses as the command line spells them.

#include "server/net/io/asio.hpp"

#include <string>

namespace fortisim::net {

/// "ADDR:PORT" or "[v6]:PORT" ("*" and "localhost" allowed) into an endpoint. Throws
/// startup_error naming `option`, e.g. "--listen".
tcp::endpoint parse_endpoint(const std::string& text, const char* option);
/// "127.0.0.1:443" or "[::1]:443".
std::string endpoint_text(const tcp::endpoint& ep);
/// "127.0.0.1:53" or "[::1]:53".
std::string endpoint_text(const udp::endpoint& ep);

}  // namespace fortisim::net
