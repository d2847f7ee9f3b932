#pragma once
// Who may use the control API. By default it listens on loopback only and answers calls from
// this machine's tools, never from a web page: a cross-origin request (an Origin that is not its
// own), a Host that is not its own address (DNS rebinding), or a body that is not JSON is
// refused. Beyond loopback it needs --admin-token, then asked of every call as a bearer token.

#include "server/core/control/control.hpp"

#include <boost/beast/http/message.hpp>

#include <optional>
#include <string>

namespace fortisim::net {

/// The refusal for a request, judged on its headers alone (before its body is read), or nothing
/// if it may go on. `token` empty: no token configured. `has_body`: whether a body follows (its
/// media type must then be exactly application/json). Exactly one Host and at most one Origin,
/// else 400.
std::optional<core::control_reply> refuse_access(const boost::beast::http::request_header<>& req,
                                                 const std::string& token, bool has_body);

/// The refusal for a request of one of the console's files (GET /, which a browser asks for
/// without a token): without a token, a Host that is not loopback is refused as for a control
/// call; with one, the files are served to anyone who reaches the listener, since they hold no
/// data (the page asks for the token, and every call it makes carries it).
std::optional<core::control_reply> refuse_page_access(const boost::beast::http::request_header<>& req,
                                                      const std::string& token);

/// Throws startup_error when `admin` is beyond loopback and no token is set.
void check_admin_exposure(const std::string& admin, bool loopback, const std::string& token);

}  // namespace fortisim::net
