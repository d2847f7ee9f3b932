// server/net/reply_head: the reply head fortisim writes itself is byte for byte what Beast's
// serializer wrote for the same response before (status line, field order, Connection rules);
// replies that carry no body (1xx, 204, 304) no longer say "Content-Length: 0" (RFC 9110 §8.6).
#include "server/net/https/reply_head.hpp"
#include "server/core/engine/engine.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <doctest/doctest.h>

#include <sstream>

namespace http = boost::beast::http;
using fortisim::net::reply_head;

namespace {

/// The response as the sessions built it with Beast, serialized.
std::string by_beast(const reply_head& h, const std::string& body) {
  http::response<http::string_body> res;
  res.result(static_cast<http::status>(h.status));
  res.version(h.version);
  res.set(http::field::content_type, h.content_type);
  if (!h.allow.empty()) res.set(http::field::allow, h.allow);
  res.body() = body;
  res.keep_alive(h.keep_alive);
  res.prepare_payload();
  std::ostringstream os;
  os << res;
  return os.str();
}

}  // namespace

TEST_SUITE("reply head") {

TEST_CASE("every status, version, keep-alive and Allow the engine uses gives Beast's bytes") {
  int compared = 0;
  for (int status : {200, 404, 405, 500, 503, 299, 418, 599})
    for (unsigned version : {9u, 10u, 11u, 12u})
      for (bool keep_alive : {true, false})
        for (std::string allow : {"", "POST"})
          for (std::string type : {"application/json; charset=utf-8", "text/html; charset=utf-8", "text/plain"})
            for (std::string body : {std::string(), std::string("{\"d\":{}}"), std::string(70000, 'x')}) {
              reply_head h{status, type, allow, body.size(), version, keep_alive};
              std::string head;
              fortisim::net::write_head(h, head);
              CAPTURE(status);
              CAPTURE(version);
              CAPTURE(keep_alive);
              CHECK(head + body == by_beast(h, body));
              ++compared;
            }
  CHECK(compared == 8 * 4 * 2 * 2 * 3 * 3);
}

TEST_CASE("replies that carry no body say no Content-Length (Beast said 0, and threw for a body)") {
  for (int status : {101, 204, 304}) {
    std::string head;
    fortisim::net::write_head({status, "text/plain", "", 0}, head);
    auto beast = by_beast({status, "text/plain", "", 0}, "");
    CHECK(head == beast.replace(beast.find("Content-Length: 0\r\n"), 19, ""));
    CHECK(head.find("Content-Length") == std::string::npos);
    CHECK_FALSE(fortisim::core::has_body(status));
  }
  CHECK(fortisim::core::has_body(200));
}

}  // TEST_SUITE
