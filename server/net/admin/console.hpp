#pragma once
// Private to server/net: the web console on the control listener. GET / (and the page's script
// and style sheet, embedded in the binary at build time from console/) and GET /events, the live
// feed as Server-Sent Events. Everything the page does is a control-API call.

#include "server/net/https/service.hpp"
#include "server/net/io/log_failure.hpp"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>

namespace fortisim::net {

/// Answers `req` if it is the console's: nothing when it is not (a control call), else whether
/// the connection may carry another request.
task<std::optional<bool>> serve_console(boost::beast::tcp_stream& stream, service* s,
                                        const boost::beast::http::request<boost::beast::http::string_body>& req);

}  // namespace fortisim::net
