#include "server/net/admin/access.hpp"

#include "server/net/io/config.hpp"

#include <boost/beast/core/string.hpp>

#include <openssl/crypto.h>

namespace fortisim::net {

namespace http = boost::beast::http;

namespace {

core::control_reply refusal(int status, const std::string& why) {
  return {status, protocol::json{{"error", why}}.dump()};
}

/// Whether `host` ("127.0.0.1:40123", "localhost:40123", "[::1]:40123") names this machine's
/// loopback: a page served from anywhere else that reaches us through DNS rebinding does not.
bool loopback_host(std::string_view host) {
  auto colon = host.rfind(':');
  auto name = colon == std::string_view::npos || host.ends_with("]") ? host : host.substr(0, colon);
  bool ipv4_loopback = name.starts_with("127.") && name.find_first_not_of("0123456789.") == std::string_view::npos;
  return name == "localhost" || ipv4_loopback || name == "[::1]";
}

}  // namespace

std::optional<core::control_reply> refuse_access(const http::request<http::string_body>& req,
                                                 const std::string& token) {
  auto host = req[http::field::host];
  if (!token.empty()) {
    std::string expected = "Bearer " + token;
    auto given = req[http::field::authorization];
    if (given.size() != expected.size() || CRYPTO_memcmp(given.data(), expected.data(), given.size()) != 0) {
      auto r = refusal(401, "this control API needs its token: Authorization: Bearer <the --admin-token value>");
      return r;
    }
  } else if (!loopback_host(host)) {
    return refusal(403, "the Host \"" + std::string(host) +
                            "\" is not this control API's address (it listens on loopback; a web page reaching it "
                            "through DNS rebinding is refused)");
  }
  if (auto origin = req[http::field::origin]; !origin.empty() && origin != "http://" + std::string(host))
    return refusal(403, "cross-origin requests are refused (Origin " + std::string(origin) + ")");
  if (!req.body().empty() && !boost::beast::iequals(req[http::field::content_type].substr(0, 16), "application/json"))
    return refusal(415, "send the body as JSON: Content-Type: application/json (curl: --json '{…}')");
  return std::nullopt;
}

std::optional<core::control_reply> refuse_page_access(const http::request<http::string_body>& req,
                                                      const std::string& token) {
  auto host = req[http::field::host];
  if (token.empty() && !loopback_host(host))
    return refusal(403, "the Host \"" + std::string(host) +
                            "\" is not this console's address (it listens on loopback; open it as "
                            "http://127.0.0.1:PORT/, through an SSH tunnel from another machine)");
  return std::nullopt;
}

void check_admin_exposure(const std::string& admin, bool loopback, const std::string& token) {
  if (loopback || !token.empty()) return;
  throw startup_error("--admin " + admin +
                      " listens beyond loopback, where anyone on the network could reconfigure fortisim: pass "
                      "--admin-token TOKEN as well (calls then need 'Authorization: Bearer TOKEN'), or keep --admin "
                      "on 127.0.0.1");
}

}  // namespace fortisim::net
