// The record: what the journal says is what happened, when the client saw it. Each exchange is
// journaled once its outcome is known (sent, client_gone, not_sent, timeout); every error code a
// reply answers is filterable; a connection that ends with no request leaves an entry; and a test
// waits for what arrives after the client's view with wait_ms, never a polling loop or a sleep.
#include "prelude.hpp"
#include "tls_probe.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <future>
#include <set>

using steady = std::chrono::steady_clock;

namespace {

/// GET `target` on the control API, as JSON.
json get(test_server& srv, const std::string& target) {
  auto answer = control(srv.admin_port(), "GET", target);  // not bound: clang 14 cannot capture a binding
  REQUIRE_MESSAGE(answer.first == 200, answer.second);
  return json::parse(answer.second);
}

/// GET /journal/count?`filters`, at once.
std::size_t count(test_server& srv, const std::string& filters) {
  return get(srv, "/journal/count?" + filters)["count"].get<std::size_t>();
}

/// GET /journal/count?`filters`&at_least=N&wait_ms=5000: answered once N entries match.
std::size_t wait_count(test_server& srv, const std::string& filters, std::size_t at_least) {
  return get(srv, "/journal/count?" + filters + "&at_least=" + std::to_string(at_least) + "&wait_ms=5000")["count"]
      .get<std::size_t>();
}

client_options with_sni(const std::string& sni, std::chrono::milliseconds timeout = 5000ms) {
  client_options o;
  o.sni = sni;
  o.timeout = timeout;
  return o;
}

/// A request sent whole, then the connection closed at once: a client that gave up.
void send_and_leave(std::uint16_t port, const std::string& sni, const std::string& body) {
  client c(port, with_sni(sni));
  REQUIRE(c.ok());
  REQUIRE(c.send_raw("POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nHost: " + sni +
                     "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\n\r\n" + body));
}

const std::string hardware_lab = R"({"seed": 5, "unknown_codes": {"answer": "accept"}, "rules": [
  {"name": "slow", "when": {"sni": "slow.test"}, "then": {"action": "delay", "ms": 100}},
  {"name": "alert", "when": {"sni": "alert.test"}, "then": {"action": "tls_alert"}},
  {"name": "hang", "when": {"sni": "hang.test"}, "then": {"action": "hang", "for_ms": 20}},
  {"name": "cut", "when": {"sni": "cut.test"}, "then": {"action": "reset"}}]})";

}  // namespace

TEST_SUITE("record") {

TEST_CASE("a reply the client gave up on is journaled client_gone once the delay ends, never as heard") {
  test_server srv(hardware_lab);
  send_and_leave(srv.port(), "slow.test", import_request("AAAA-0000-0000-0000-0001"));
  // The client has left, the reply is still 100 ms away: nothing is recorded as answered yet.
  CHECK(count(srv, "stage=http") == 0);
  REQUIRE(wait_count(srv, "outcome=client_gone", 1) == 1);
  auto e = get(srv, "/journal?stage=http")[0];
  CHECK(e["status"] == 200);  // what was to be sent: the model bound the licence, as a real service would
  CHECK(e["rule"] == "slow");
  CHECK(e["action"] == "delay");
  CHECK(count(srv, "outcome=sent") == 0);
}

TEST_CASE("a reply that was sent is in the journal once the client has read it, with the bytes of its head and body") {
  test_server srv(hardware_lab);
  client c(srv.port());
  REQUIRE(c.ok());
  for (int i = 1; i <= 50; ++i) {
    REQUIRE(c.post(import_request("AAAA-0000-0000-0000-0001")).status == 200);
    // No wait: a journal read waits for the entry of a reply being written.
    CHECK(count(srv, "outcome=sent") == static_cast<std::size_t>(i));
  }
  auto e = get(srv, "/journal?limit=1")[0];
  CHECK(e["outcome"] == "sent");
  CHECK(e["bytes_sent"].get<std::uint64_t>() > e["reply_body"].get<std::string>().size());  // head and body
}

TEST_CASE("a fault that sends nothing is journaled not_sent, with status 0") {
  test_server srv(
      R"({"rules": [{"name": "cut", "when": {"operation": "activation_license"}, "then": {"action": "reset"}}]})");
  CHECK(post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001")).what != outcome::kind::ok);
  REQUIRE(wait_count(srv, "outcome=not_sent", 1) == 1);
  CHECK(get(srv, "/journal?stage=http")[0]["status"] == 0);
}

TEST_CASE("per-token errors are errors: a consumed lock counts as error 903, a stranger as 904") {
  test_server srv(
      R"({"unknown_hardware": "not_found", "hardware_tokens": [{"token": "FTK2000000000001", "lock": "consumed"}]})");
  auto activate = [&](const std::string& serial) {
    auto r = post_once(srv.port(), R"({"d": {"__type": "SoftToken.HardwareActivationRequest", "__version": "4",
        "serial_number": "FG1", "tokens": [{"token": "FTK2000000000001"}, {"token": ")" +
                                       serial + R"("}]}})");
    REQUIRE(r.status == 200);
  };
  activate("FTK2009999999999");
  CHECK(count(srv, "error_code=903") == 1);
  CHECK(count(srv, "error_code=904") == 1);
  CHECK(count(srv, "error_code=0") == 0);
  auto e = get(srv, "/journal?stage=http")[0];
  CHECK(e["errors"] == "903 904");
  CHECK(e["error_code"] == 0);  // no top-level error: the reply is a success with failed tokens
}

TEST_CASE("a connection that ends after the handshake with no request leaves an entry saying so") {
  test_server srv(R"({"tls": {"ocsp": "revoked"}})");
  probe_options o;
  o.sni = "directregistration.fortinet.com";
  o.status_request = true;
  REQUIRE(probe(srv.port(), o).ok);  // the probe completes the handshake and closes
  auto entries = get(srv, "/journal?stage=connection&wait_ms=5000");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0]["action"] ==
        "closed by the client after the handshake, before any request (the stapled OCSP response said revoked)");
  CHECK(entries[0]["outcome"] == "client_gone");
  CHECK(entries[0]["sni"] == "directregistration.fortinet.com");
}

TEST_CASE("a request fortisim cannot read is numbered, counted and journaled with the status and bytes sent") {
  // They were journaled with status 0, no outcome and no number, and counted in no metric.
  test_server srv(shipped("default.json"));
  const std::string process = "POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nHost: x\r\n";
  std::vector<std::pair<int, std::string>> sent = {
      {413, process + "Content-Length: 2097152\r\n\r\n"},
      {400, "NOT HTTP AT ALL\r\n\r\n"},
      {431, process + "X-Big: " + std::string(20000, 'a') + "\r\n\r\n"},
      {400, process + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n"},
      // A coding fortisim cannot end: its body was read as the next request (a smuggled poll).
      {400, process + "Transfer-Encoding: gzip\r\n\r\n" + process + "Content-Length: 2\r\n\r\n{}"},
      // Chunked last, but a coding fortisim does not decode before it: its body was answered 990.
      {501, process + "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      {501, process + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      // Chunked twice: 400 (RFC 9112 §6.1 allows it once).
      {400, process + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"}};
  std::vector<std::size_t> received;
  for (const auto& [status, bytes] : sent) {
    client c(srv.port());
    auto r = c.raw_exchange(bytes);
    REQUIRE(r.status == status);
    received.push_back(r.raw.size());
  }
  auto entries = get(srv, "/journal?stage=http");  // no wait: each was journaled before its reply went
  REQUIRE(entries.size() == sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    CAPTURE(i);
    CHECK(entries[i]["status"] == sent[i].first);
    CHECK(entries[i]["outcome"] == "sent");
    CHECK(entries[i]["bytes_sent"] == received[i]);
    CHECK(entries[i]["request"] == i + 1);
    CHECK(entries[i]["reason"].get<std::string>().starts_with(sent[i].first == 501 ? "not implemented: "
                                                                                   : "bad request: "));
  }
  CHECK(entries[0]["target"] == "/SoftToken/Provisioning.asmx/Process");  // its head was read
  CHECK(entries[0]["request_headers"] == "Host: x\nContent-Length: 2097152\n");
  CHECK(entries[5]["request_headers"] == "Host: x\nTransfer-Encoding: gzip, chunked\n");
  CHECK(entries[2]["request_headers"] == "Host: x\n");                     // as far as they were read
  CHECK(entries[3]["request_headers"] == "Host: x\nContent-Length: 1\n");  // up to the second Content-Length
  CHECK(entries[5]["reason"] == "not implemented: the transfer coding gzip, chunked (fortisim decodes chunked alone)");
  CHECK(entries[6]["reason"] == entries[5]["reason"]);  // the same codings, on two lines
  CHECK(get(srv, "/status")["requests"] == sent.size());
  auto metrics = control(srv.admin_port(), "GET", "/metrics").second;
  // Each under the endpoint its request line named, as a 405 there is (they were all "other").
  for (auto line : {R"(endpoint="process",operation="",error_code="0",status="413"} 1)",
                    R"(endpoint="process",operation="",error_code="0",status="400"} 3)",
                    R"(endpoint="process",operation="",error_code="0",status="431"} 1)",
                    R"(endpoint="process",operation="",error_code="0",status="501"} 2)",
                    R"(endpoint="other",operation="",error_code="0",status="400"} 1)"})
    CHECK_MESSAGE(metrics.find(std::string("fortisim_requests_total{") + line + "\n") != std::string::npos, line);
}

TEST_CASE("a connection that sends no request within the idle timeout: a connection entry, outcome timeout") {
  test_server srv(shipped("default.json"), 1, std::nullopt, [](net::server_config& c) { c.idle_timeout_ms = 200; });
  client c(srv.port());
  REQUIRE(c.ok());
  REQUIRE(wait_count(srv, "stage=connection&outcome=timeout", 1) == 1);
  CHECK(get(srv, "/journal?stage=connection")[0]["action"] == "no request within 200 ms (--idle-timeout-ms)");
}

TEST_CASE("empty lines before a request line are dropped, as RFC 9112 §2.2 asks") {
  // They were answered 400 "bad method".
  test_server srv(shipped("default.json"));
  auto import = import_request("AAAA-0000-0000-0000-0001");
  auto post = "POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nHost: x\r\nContent-Length: " +
              std::to_string(import.size()) + "\r\n\r\n" + import;
  client c(srv.port());
  CHECK(c.raw_exchange("\r\n" + post).status == 200);
  CHECK(c.raw_exchange("\r\n\n\r\n" + post).status == 200);  // on the same connection, between requests
  {
    client alone(srv.port());
    REQUIRE(alone.send_raw("\r\n"));
  }  // and alone: no request
  REQUIRE(wait_count(srv, "stage=connection", 1) == 1);
  CHECK(get(srv, "/journal?stage=connection")[0]["action"] ==
        "closed by the client after the handshake, before any request");
  auto entries = get(srv, "/journal?stage=http");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0]["method"] == "POST");
  CHECK(entries[1]["request"] == 2);
  // More than the header limit of them is refused as any oversized head; a bare CR is no line.
  client flood(srv.port());
  CHECK(flood.raw_exchange(std::string(40000, '\n') + post).status == 400);
  client cr(srv.port());
  CHECK(cr.raw_exchange("\r" + post).status == 400);
  // The control API drops them too.
  auto admin = control_raw(srv.admin_port(), "\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  REQUIRE(admin.has_value());
  CHECK(admin->first == 200);
}

TEST_CASE("a request cut off by its client is journaled as such, not as a connection with no request") {
  test_server srv(shipped("default.json"));
  {
    client c(srv.port());
    REQUIRE(c.ok());
    REQUIRE(
        c.send_raw("POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"));
  }  // closed with 99 bytes of the body to come
  REQUIRE(wait_count(srv, "stage=http", 1) == 1);
  auto e = get(srv, "/journal?stage=http")[0];
  CHECK(e["status"] == 0);
  CHECK(e["outcome"] == "client_gone");
  CHECK(e["target"] == "/SoftToken/Provisioning.asmx/Process");
  CHECK(e["reason"].get<std::string>().starts_with("the client closed the connection in the middle of a request"));
  CHECK(count(srv, "stage=connection") == 0);
  CHECK(get(srv, "/status")["requests"] == 1);
}

TEST_CASE("a connection that breaks TLS after its handshake is a connection entry, not a request") {
  // A record that does not decrypt, with no byte of HTTP before it, was answered 400 and counted
  // as a request.
  test_server srv(shipped("default.json"));
  {
    client c(srv.port());
    REQUIRE(c.ok());
    const char record[] = {0x17, 0x03, 0x03, 0x00, 0x20, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
                           15,   16,   17,   18,   19,   20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    REQUIRE(::send(c.fd(), record, sizeof record, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof record));
    REQUIRE(wait_count(srv, "stage=connection", 1) == 1);
  }
  auto e = get(srv, "/journal?stage=connection")[0];
  CHECK(e["action"].get<std::string>().starts_with("ended after the handshake, before any request: "));
  CHECK(count(srv, "stage=http") == 0);
  CHECK(get(srv, "/status")["requests"] == 0);
}

TEST_CASE("a connection its client resets before it is served still leaves its record") {
  // Its peer's address was asked of the socket after the reset, which no longer had one: the
  // session ended there, and 19 of 20 such connections left no entry, metric or log line.
  test_server srv(shipped("default.json"));
  constexpr std::size_t resets = 20;
  for (std::size_t i = 0; i < resets; ++i) {
    int fd = connect_loopback(srv.port(), 5000ms);
    REQUIRE(fd >= 0);
    ::linger abort_on_close{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    ::close(fd);  // a reset, before the server has read a byte
  }
  REQUIRE(wait_count(srv, "stage=tls", resets) == resets);
  std::set<std::uint64_t> connections;
  for (const auto& e : get(srv, "/journal?stage=tls")) {
    CHECK(e["client_address"] == "127.0.0.1");
    CHECK(e["outcome"] == "client_refused");  // it was empty: no outcome= filter found it
    connections.insert(e["connection"].get<std::uint64_t>());
  }
  CHECK(connections.size() == resets);
  CHECK(control(srv.admin_port(), "GET", "/metrics")
            .second.find("fortisim_connections_total " + std::to_string(resets) + "\n") != std::string::npos);
}

/// A minimal ClientHello handshake message (TLS 1.2 framing, one cipher suite) naming `sni`.
std::string client_hello_message(const std::string& sni) {
  auto u16 = [](std::size_t v) { return std::string{static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; };
  std::string name_list = u16(sni.size() + 3) + '\0' + u16(sni.size()) + sni;
  std::string extensions = u16(0) + u16(name_list.size()) + name_list;
  std::string body = std::string("\x03\x03", 2) + std::string(32, 'r') + '\0' + u16(2) + std::string("\xc0\x2b", 2) +
                     std::string("\x01\x00", 2) + u16(extensions.size()) + extensions;
  return std::string("\x01\x00", 2) + u16(body.size()) + body;
}

/// `message` as one TLS handshake record.
std::string handshake_record(const std::string& message) {
  return std::string("\x16\x03\x01", 3) + static_cast<char>(message.size() >> 8) +
         static_cast<char>(message.size() & 0xff) + message;
}

TEST_CASE("what is not a whole ClientHello meets no TLS rule, and is journaled as it is without one") {
  // A handshake record of another message, an empty one or a ClientHello cut short fired the rule
  // (its reason saying "instead of a ServerHello"); plain HTTP or a reset became "no TLS
  // ClientHello" only where TLS rules exist; a client that closed after part of a record was
  // journaled as a timeout once the handshake timeout had passed.
  auto lab = [](const std::string& scenario) {
    return std::make_unique<test_server>(scenario, 1, std::nullopt,
                                         [](net::server_config& c) { c.handshake_timeout_ms = 300; });
  };
  auto with_rule = lab(R"({"rules": [{"name": "alert", "when": {"sni": "alert.test"}, "then": {"action": "tls_alert"}},
                                     {"name": "any", "then": {"action": "tls_alert"}}]})");
  auto without = lab(R"({})");
  enum class then { read, close, reset, silence };
  struct first_bytes {
    std::string what, bytes;
    then after;
  };
  const std::vector<first_bytes> firsts = {
      {"plain HTTP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", then::read},
      {"a ServerHello's record", std::string("\x16\x03\x03\x00\x06\x02\x00\x00\x02\x03\x03", 11), then::read},
      {"a record longer than TLS allows", std::string("\x16\x03\x01\xff\xff\x01", 6), then::read},
      {"a reset before a byte", "", then::reset},
      {"silence past the handshake timeout", "", then::silence},
      {"a record's header, then a close", std::string("\x16\x03\x01\x00\x40", 5), then::close},
      {"an empty handshake record", std::string("\x16\x03\x01\x00\x00", 5), then::read},
      {"a ClientHello's start claiming more, then a close",
       std::string("\x16\x03\x01\x00\x09\x01\x00\x00\xffhello", 14), then::close}};
  for (auto* srv : {with_rule.get(), without.get()}) {
    for (const auto& first : firsts) {
      int fd = connect_loopback(srv->port(), 5000ms);
      REQUIRE(fd >= 0);
      if (first.after == then::reset) {
        ::linger abort_on_close{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
      } else if (!first.bytes.empty()) {
        REQUIRE(::send(fd, first.bytes.data(), first.bytes.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(first.bytes.size()));
      }
      if (first.after == then::close) ::shutdown(fd, SHUT_WR);
      char buf[4096];
      while (first.after != then::reset && ::recv(fd, buf, sizeof buf, 0) > 0) {
      }  // until the server closes (the socket's timeout bounds each read)
      ::close(fd);
    }
    REQUIRE(wait_count(*srv, "stage=tls", firsts.size()) == firsts.size());
  }
  auto ruled = get(*with_rule, "/journal?stage=tls");
  auto plain = get(*without, "/journal?stage=tls");
  for (std::size_t i = 0; i < firsts.size(); ++i) {
    CAPTURE(firsts[i].what);
    CHECK(ruled[i]["rule"] == "");
    CHECK(ruled[i]["action"] == plain[i]["action"]);
    CHECK(ruled[i]["outcome"] == plain[i]["outcome"]);
  }
  CHECK(ruled[0]["action"] == "the client spoke plain HTTP to the TLS port");
  CHECK(ruled[3]["action"] == "the client closed the connection during the handshake");
  CHECK(ruled[4]["action"] == "no handshake within 300 ms");
  CHECK(ruled[4]["outcome"] == "timeout");
  CHECK(ruled[5]["action"] == "the client closed the connection during the handshake");  // at once, not a timeout
  CHECK(ruled[7]["outcome"] == "client_refused");

  // A ClientHello split across two records (RFC 8446 §5.1 allows it) is read whole: its name
  // meets the rule for it (it met "any", the first record holding no name).
  auto hello = client_hello_message("alert.test");
  int fd = connect_loopback(with_rule->port(), 5000ms);
  REQUIRE(fd >= 0);
  auto split = handshake_record(hello.substr(0, 10)) + handshake_record(hello.substr(10));
  REQUIRE(::send(fd, split.data(), split.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(split.size()));
  char buf[4096];
  while (::recv(fd, buf, sizeof buf, 0) > 0) {
  }
  ::close(fd);
  CHECK(count(*with_rule, "rule=alert") == 1);  // journaled before the alert went
  CHECK(get(*with_rule, "/journal?rule=alert")[0]["sni"] == "alert.test");
  client_options real;
  real.sni = "alert.test";
  client c(with_rule->port(), real);  // and a real client's ClientHello
  CHECK_FALSE(c.ok());
  CHECK(count(*with_rule, "rule=alert") == 2);
  CHECK(count(*with_rule, "rule=any") == 0);
}

TEST_CASE("a client that leaves part way through a large reply: client_gone, with the bytes that went out") {
  // The write's bytes were counted only when it finished: a client that read part of a large
  // reply and left was journaled with bytes_sent 0. The reply (20,000 tokens of 240-character
  // serials, 7 MB) is more than the server's socket (at most 4 MiB here) and the client's
  // (16 KiB, set before it reads) can hold, so the server is still writing when the client leaves.
  test_server srv(shipped("default.json"), 1, std::nullopt, [](net::server_config& c) { c.body_limit = 8 << 20; });
  std::string poll = R"({"d":{"__type":"SoftToken.PollingRequest","serial_number":"FG1","tokens":[)";
  for (std::size_t i = 0; i < 20000; ++i)
    poll += (i ? ",\"" : "\"") + std::string(230, 'F') + std::to_string(1000000000 + i) + "\"";
  poll += "]}}";
  auto whole = post_once(srv.port(), poll);
  REQUIRE(whole.status == 200);
  REQUIRE(whole.raw.size() > 6'000'000);
  {
    client c(srv.port());
    int small = 16384;
    REQUIRE(::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    REQUIRE(c.send_raw("POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                       std::to_string(poll.size()) + "\r\n\r\n" + poll));
    REQUIRE(c.read_at_least(100'000));  // a part of the reply
  }                                     // closed with the rest unread: a reset
  REQUIRE(wait_count(srv, "stage=http", 2) == 2);
  auto e = get(srv, "/journal?stage=http")[1];
  CHECK(e["outcome"] == "client_gone");
  CHECK(e["status"] == 200);
  auto sent = e["bytes_sent"].get<std::size_t>();
  CHECK(sent >= 100'000);
  // The bytes that left the server: the part read, and what the client's 32 KiB of socket (the
  // kernel doubles 16 KiB) and its TLS reader held. The bytes the server's socket took, counted
  // before, were megabytes more (its send buffer).
  CHECK(sent < 100'000 + 256 * 1024);
}

TEST_CASE("a client that stops reading a large reply: timeout, with the bytes that left the server") {
  // The write timeout closed the socket before its bytes were counted: the record fell back on
  // what the socket took, megabytes more than reached the client.
  test_server srv(shipped("default.json"), 1, std::nullopt, [](net::server_config& c) {
    c.body_limit = 8 << 20;
    c.write_timeout_ms = 2000;  // the client has read its part well before
  });
  std::string poll = R"({"d":{"__type":"SoftToken.PollingRequest","serial_number":"FG1","tokens":[)";
  for (std::size_t i = 0; i < 20000; ++i)
    poll += (i ? ",\"" : "\"") + std::string(230, 'F') + std::to_string(1000000000 + i) + "\"";
  poll += "]}}";
  client c(srv.port());
  int small = 16384;
  REQUIRE(::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
  REQUIRE(c.send_raw("POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                     std::to_string(poll.size()) + "\r\n\r\n" + poll));
  REQUIRE(c.read_at_least(100'000));  // then reads no more, and stays
  REQUIRE(wait_count(srv, "outcome=timeout", 1) == 1);
  auto e = get(srv, "/journal?stage=http")[0];
  CHECK(e["status"] == 200);
  auto sent = e["bytes_sent"].get<std::size_t>();
  CHECK(sent >= 100'000);
  CHECK(sent < 100'000 + 256 * 1024);
}

TEST_CASE("wait_ms answers as soon as the count is reached, or with the count when the time is up") {
  test_server srv(hardware_lab);
  auto started = steady::now();
  CHECK(get(srv, "/journal/count?stage=http&at_least=1&wait_ms=300")["count"] == 0);
  CHECK(steady::now() - started >= 300ms);
  auto asked = std::async(std::launch::async, [&] { return count(srv, "stage=http&at_least=2&wait_ms=30000"); });
  CHECK(asked.wait_for(50ms) == std::future_status::timeout);  // one request is not two
  REQUIRE(post_once(srv.port(), import_request("AAAA-0000-0000-0000-0001")).status == 200);
  CHECK(asked.wait_for(50ms) == std::future_status::timeout);
  REQUIRE(post_once(srv.port(), import_request("AAAA-0000-0000-0000-0002")).status == 200);
  REQUIRE(asked.wait_for(10s) == std::future_status::ready);
  CHECK(asked.get() == 2);
  // GET /journal with wait_ms alone: the first entry after `after`.
  auto seq = get(srv, "/journal")[1]["seq"].get<std::uint64_t>();
  auto next = std::async(std::launch::async,
                         [&] { return get(srv, "/journal?after=" + std::to_string(seq) + "&wait_ms=30000"); });
  REQUIRE(post_once(srv.port(), import_request("AAAA-0000-0000-0000-0003")).status == 200);
  REQUIRE(next.wait_for(10s) == std::future_status::ready);
  CHECK(next.get()[0]["code"] == "AAAA-0000-0000-0000-0003");
}

TEST_CASE("GET /status?in_flight=N&wait_ms: answered once N requests are in flight, then once none are") {
  // A test waited for its requests to reach the server by polling in_flight.
  test_server srv(R"({"unknown_codes": {"answer": "accept"},
    "rules": [{"when": {"operation": "activation_license"}, "then": {"action": "delay", "ms": 1500}}]})");
  std::vector<std::future<outcome>> flying;
  for (int i = 1; i <= 3; ++i)
    flying.push_back(std::async(std::launch::async, [&, i] {
      return post_once(srv.port(), import_request("AAAA-0000-0000-0000-000" + std::to_string(i)));
    }));
  auto held = get(srv, "/status?in_flight=3&wait_ms=10000");
  CHECK(held["in_flight"] == 3);
  CHECK(held["requests"] == 3);
  CHECK(count(srv, "stage=http") == 0);  // each is still in its delay
  auto done = get(srv, "/status?in_flight=0&wait_ms=10000");
  CHECK(done["in_flight"] == 0);
  CHECK(count(srv, "stage=http&outcome=sent") == 3);  // each entry is in before its request leaves the count
  for (auto& f : flying) {
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    CHECK(f.get().status == 200);
  }
  auto started = steady::now();
  CHECK(get(srv, "/status?in_flight=1&wait_ms=200")["in_flight"] == 0);  // the time ran out: as it is
  CHECK(steady::now() - started >= 200ms);
  CHECK(control(srv.admin_port(), "GET", "/status?in_flight=1").first == 400);  // needs wait_ms
  CHECK(control(srv.admin_port(), "GET", "/status?wait_ms=100").first == 400);  // needs in_flight
  CHECK(control(srv.admin_port(), "GET", "/status?listening=yes&wait_ms=100").first == 400);
  // wait_ms is checked even when the wait is met at once (a typo passed whenever it was).
  CHECK(control(srv.admin_port(), "GET", "/status?in_flight=0&wait_ms=-1").first == 400);
  CHECK(control(srv.admin_port(), "GET", "/status?in_flight=0&wait_ms=600001").first == 400);
}

TEST_CASE("GET /status?open=N or listening=true|false with wait_ms: answered once it holds") {
  test_server srv(shipped("default.json"), 2);
  {
    client c(srv.port());
    REQUIRE(c.ok());
    CHECK(get(srv, "/status?open=1&wait_ms=10000")["open"] == 1);
  }
  CHECK(get(srv, "/status?open=0&wait_ms=10000")["open"] == 0);  // the server has seen the close
  CHECK(control(srv.admin_port(), "POST", "/listener/refuse", R"({"for_ms": 300})").first == 200);
  auto refused = steady::now();
  CHECK(tcp_connect_errno(srv.port()) == ECONNREFUSED);
  auto back = get(srv, "/status?listening=true&wait_ms=10000");  // the timed refusal's end, on both workers
  CHECK(back["listening"] == true);
  CHECK(steady::now() - refused >= 250ms);
  for (int i = 0; i < 8; ++i) CHECK(tcp_connect_errno(srv.port()) == 0);  // whichever worker takes it
}

TEST_CASE("wait parameters are checked as every other: at_least needs wait_ms, outcome its words") {
  test_server srv(hardware_lab);
  CHECK(control(srv.admin_port(), "GET", "/journal/count?at_least=1").first == 400);
  CHECK(control(srv.admin_port(), "GET", "/journal/count?wait_ms=-1").first == 400);
  CHECK(control(srv.admin_port(), "GET", "/journal/count?wait_ms=600001").first == 400);
  auto refused = control(srv.admin_port(), "GET", "/journal?outcome=heard");
  CHECK(refused.first == 400);
  CHECK(refused.second.find("sent, client_gone, not_sent, timeout, handshake or client_refused") != std::string::npos);
}

TEST_CASE("200 rounds of fault, then assert: a TLS alert, a hang, a client gone, a reset, each then POST /reset") {
  test_server srv(hardware_lab);
  auto body = import_request("AAAA-0000-0000-0000-0001");
  for (int round = 0; round < 200; ++round) {
    CAPTURE(round);
    switch (round % 4) {
      case 0: {  // the client's own view ends before the server's: waited for, not polled
        client c(srv.port(), with_sni("alert.test"));
        REQUIRE(c.connected().what == outcome::kind::tls_error);
        break;
      }
      case 1: {
        client c(srv.port(), with_sni("hang.test", 2000ms));
        REQUIRE(c.connected().what != outcome::kind::ok);
        break;
      }
      case 2: send_and_leave(srv.port(), "slow.test", body); break;
      case 3: {
        client c(srv.port(), with_sni("cut.test"));
        REQUIRE(c.connected().what != outcome::kind::ok);
        // And a refusing listener, which the reset below must open again.
        REQUIRE(control(srv.admin_port(), "POST", "/listener/refuse", R"({"for_ms": 0})").first == 200);
        REQUIRE(tcp_connect_errno(srv.port()) == ECONNREFUSED);
        break;
      }
    }
    static const char* expected[] = {"rule=alert&outcome=not_sent", "rule=hang&outcome=not_sent",
                                     "rule=slow&outcome=client_gone", "rule=cut&outcome=not_sent"};
    REQUIRE(wait_count(srv, expected[round % 4], 1) == 1);
    REQUIRE(control(srv.admin_port(), "POST", "/reset").first == 200);
    // Reset is total and immediate: an empty record, and the listener back as the scenario starts.
    REQUIRE(count(srv, "") == 0);
    REQUIRE(get(srv, "/health")["listening"] == true);
  }
  CHECK(tcp_connect_errno(srv.port()) == 0);
}

TEST_CASE("at_least beyond limit could never be reached, so it is refused") {
  test_server srv(hardware_lab);
  CHECK(control(srv.admin_port(), "GET", "/journal?limit=1&at_least=2&wait_ms=10").first == 400);
}

}  // TEST_SUITE
