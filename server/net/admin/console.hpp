#pragma once
// Private to server/net: the web console on the control listener. GET / (and the page's script
// and style sheet, embedded in the binary at build time from console/) and GET /events, the live
// feed as Server-Sent Events. Everything the page does is a control-API call.

#include "server/net/https/service.hpp"
#include "server/net/io/log_failure.hpp"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace fortisim::net {

using console_request = boost::beast::http::request<boost::beast::http::string_body>;

/// GET /events (core::route_kind::event_stream): the live feed, until the browser goes. Whether
/// the connection may carry another request (only after a refusal).
task<bool> serve_events(boost::beast::tcp_stream& stream, service* s, const console_request& req);
/// One of the console's files (core::route_kind::console_file); whether the connection may carry
/// another request.
task<bool> serve_console_file(boost::beast::tcp_stream& stream, const console_request& req);

}  // namespace fortisim::net
