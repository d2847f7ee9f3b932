// server/net/reply_head: the reply head fortisim writes itself is byte for byte what Beast's
// serializer writes for the same HTTP/1.1 response (status line, field order, Connection rules),
// whatever the request's version, with a Date; replies that carry no body (1xx, 204, 304) say no
// "Content-Length: 0" (RFC 9110 §8.6).
#include "server/net/https/reply_head.hpp"
#include "server/core/engine/engine.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <sstream>

namespace http = boost::beast::http;
using fortisim::net::reply_head;

namespace {

const char* date = "Fri, 04 Dec 2026 23:41:07 GMT";

/// The response as HTTP/1.1 with Beast, serialized: what an HTTP/1.0 client asking to keep its
/// connection is told in so many words.
std::string by_beast(const reply_head& h, const std::string& body) {
  http::response<http::string_body> res;
  res.result(static_cast<http::status>(h.status));
  res.version(11);
  res.set(http::field::content_type, h.content_type);
  if (!h.allow.empty()) res.set(http::field::allow, h.allow);
  res.body() = body;
  res.keep_alive(h.keep_alive);
  if (h.keep_alive && h.version < 11) res.set(http::field::connection, "keep-alive");
  res.set(http::field::date, h.date);
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
              reply_head h{status, type, allow, body.size(), version, keep_alive, date};
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

TEST_CASE("replies that carry no body say no Content-Type or Content-Length (Beast said 0, and threw for a body)") {
  for (int status : {101, 204, 304}) {
    std::string head;
    fortisim::net::write_head({status, "text/plain", "", 0, 11, true, date}, head);
    auto beast = by_beast({status, "text/plain", "", 0, 11, true, date}, "");
    beast.erase(beast.find("Content-Length: 0\r\n"), 19);
    beast.erase(beast.find("Content-Type: text/plain\r\n"), 26);
    CHECK(head == beast);
    CHECK(head.find("Content-Length") == std::string::npos);
    CHECK(head.find("Content-Type") == std::string::npos);
    CHECK_FALSE(fortisim::core::has_body(status));
  }
  CHECK(fortisim::core::has_body(200));
}

TEST_CASE("the Date field is now, in IMF-fixdate") {
  auto now = std::time(nullptr);
  std::string d(fortisim::net::http_date());
  std::tm tm{};
  REQUIRE(::strptime(d.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) != nullptr);
  CHECK(d.size() == 29);
  CHECK(std::abs(static_cast<long>(::timegm(&tm) - now)) <= 2);
}

}  // TEST_SUITE
