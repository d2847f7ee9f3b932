#include "server/net/admin/access.hpp"

#include "server/net/io/config.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <string>

#include <openssl/crypto.h>

namespace fortisim::net {

namespace http = boost::beast::http;

namespace {

core::control_reply refusal(int status, const std::string& why) {
  return {status, protocol::json{{"error", why}}.dump()};
}

/// Whether `text` is a decimal number from 0 to `max`, without a sign or leading zeros beyond one.
bool number_up_to(std::string_view text, unsigned max) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string_view::npos) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  return static_cast<unsigned>(std::stoul(std::string(text))) <= max;
}

/// Whether `host` is exactly an authority naming this machine's loopback: `localhost`,
/// `127.a.b.c` or `[::1]`, with an optional decimal port and nothing else (no user info, no
/// trailing name: `127.0.0.1:1@evil.com` and `127.0.0.1.evil.com` are not loopback). A page that
/// reaches us through DNS rebinding names its own host, and is refused.
bool loopback_host(std::string_view host) {
  std::string_view name = host;
  if (auto colon = host.rfind(':'); colon != std::string_view::npos && !host.ends_with("]")) {
    if (!number_up_to(host.substr(colon + 1), 65535)) return false;
    name = host.substr(0, colon);
  }
  if (boost::beast::iequals(name, "localhost") || name == "[::1]") return true;  // names have no case
  if (!name.starts_with("127.")) return false;
  int parts = 0;
  for (std::size_t start = 0; start <= name.size(); ++parts) {
    auto dot = std::min(name.find('.', start), name.size());
    if (!number_up_to(name.substr(start, dot - start), 255)) return false;
    start = dot + 1;
  }
  return parts == 4;
}

/// Whether the media type of `content_type` (before any parameter) is application/json, exactly
/// (case aside): `application/jsonp` or `application/json-seq` is not.
bool json_media_type(std::string_view content_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  return boost::beast::iequals(type, "application/json");
}

/// A 400 for a request with no Host, or two of a header that decides access (Host, Origin,
/// Authorization, Content-Type): which one is meant cannot be known, so none is believed.
std::optional<core::control_reply> refuse_ambiguous(const http::request_header<>& req) {
  if (req.count(http::field::host) != 1)
    return refusal(
        400, "a request needs exactly one Host header (it has " + std::to_string(req.count(http::field::host)) + ")");
  for (auto [field, name] :
       {std::pair{http::field::origin, "Origin"}, std::pair{http::field::authorization, "Authorization"},
        std::pair{http::field::content_type, "Content-Type"}})
    if (req.count(field) > 1) return refusal(400, std::string("a request may have at most one ") + name + " header");
  return std::nullopt;
}

/// Whether `given` (an Authorization value) is "Bearer <token>", the scheme in any case (RFC 9110
/// §11.1), the token compared in constant time.
bool bearer_matches(std::string_view given, const std::string& token) {
  constexpr std::string_view scheme = "Bearer ";
  if (given.size() != scheme.size() + token.size() || !boost::beast::iequals(given.substr(0, scheme.size()), scheme))
    return false;
  return CRYPTO_memcmp(given.data() + scheme.size(), token.data(), token.size()) == 0;
}

}  // namespace

std::optional<core::control_reply> refuse_access(const http::request_header<>& req, const std::string& token,
                                                 bool has_body) {
  if (auto ambiguous = refuse_ambiguous(req)) return ambiguous;
  auto host = req[http::field::host];
  if (!token.empty()) {
    if (!bearer_matches(req[http::field::authorization], token))
      return refusal(401, "this control API needs its token: Authorization: Bearer <the --admin-token value>");
  } else if (!loopback_host(host)) {
    return refusal(403, "the Host \"" + std::string(host) +
                            "\" is not this control API's address (it listens on loopback; a web page reaching it "
                            "through DNS rebinding is refused)");
  }
  if (auto origin = req[http::field::origin]; !origin.empty() && origin != "http://" + std::string(host))
    return refusal(403, "cross-origin requests are refused (Origin " + std::string(origin) + ")");
  if (has_body && !json_media_type(req[http::field::content_type]))
    return refusal(415, "send the body as JSON: Content-Type: application/json (curl: --json '{…}')");
  return std::nullopt;
}

std::optional<core::control_reply> refuse_page_access(const http::request_header<>& req, const std::string& token) {
  if (auto ambiguous = refuse_ambiguous(req)) return ambiguous;
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
