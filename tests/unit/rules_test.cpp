// server/core/rules: matching, sequences, times, cycles, seeded probability, atomic counters.
#include "server/core/engine/rules.hpp"

#include "protocol/direct_request.hpp"

#include "../support/fixtures.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace fortisim::core;
using fortisim::test::scenario_from;

namespace {

/// The action names a rule book plays for `n` HTTP requests with these facts.
std::vector<std::string> play(rule_book& book, int n, const exchange_facts& f = {}) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    auto hit = book.first_match(stage::http, f);
    out.emplace_back(hit ? fault_name(hit->action->what) : "-");
  }
  return out;
}

rule_book book_of(const std::string& json) {
  auto s = scenario_from(json);
  return rule_book(s->rules, s->seed);
}

}  // namespace

TEST_SUITE("rules") {

TEST_CASE("a list plays in order and its last entry repeats — cycle repeats the list — times caps it") {
  struct row {
    const char* rule;
    std::vector<std::string> expected;
  };
  for (const auto& [rule, expected] : std::vector<row>{
           {R"({"then": [{"action": "close"}, {"action": "close"}, {"action": "pass"}]})",
            {"close", "close", "pass", "pass", "pass"}},
           {R"({"cycle": true, "then": [{"action": "close"}, {"action": "pass"}]})",
            {"close", "pass", "close", "pass", "close"}},
           {R"({"times": 2, "then": {"action": "close"}})", {"close", "close", "-", "-", "-"}},
           {R"({"times": 3, "then": [{"action": "close"}, {"action": "malformed_json"}]})",
            {"close", "malformed_json", "malformed_json", "-", "-"}},
       }) {
    const auto& rule_ = rule;  // clang 14 cannot capture a structured binding
    CAPTURE(rule_);
    auto book = book_of(std::string(R"({"rules": [)") + rule + "]}");
    CHECK(play(book, 5) == expected);
  }
}

TEST_CASE("the first matching rule wins") {
  auto book = book_of(R"({"rules": [
    {"name": "a", "when": {"serial_number": "FG1"}, "then": {"action": "close"}},
    {"name": "b", "then": {"action": "malformed_json"}}]})");
  auto d = fortisim::protocol::json::parse(R"({"serial_number": "FG1"})");
  exchange_facts f;
  f.d = &d;
  CHECK(book.first_match(stage::http, f)->rule->name == "a");
  auto other = fortisim::protocol::json::parse(R"({"serial_number": "FG2"})");
  f.d = &other;
  CHECK(book.first_match(stage::http, f)->rule->name == "b");
}

TEST_CASE("matchers and ordinals") {
  struct row {
    const char* when;
    const char* d;
    std::uint64_t request;
    bool match;
  };
  for (const auto& [when, d, request, match] : std::vector<row>{
           {R"({"license_activation_code": {"suffix": "-0010"}})", R"({"license_activation_code": "A-0010"})", 1, true},
           {R"({"license_activation_code": {"suffix": "-0010"}})", R"({"license_activation_code": "A-0014"})", 1,
            false},
           {R"({"serial_number": {"prefix": "FG4H"}})", R"({"serial_number": "FG4H0E"})", 1, true},
           {R"({"serial_number": {"regex": "^FG[0-9]+$"}})", R"({"serial_number": "FG100"})", 1, true},
           {R"({"serial_number": {"any_of": ["A", "B"]}})", R"({"serial_number": "B"})", 1, true},
           {R"({"serial_number": {"contains": "0E5"}})", R"({"serial_number": "FG4H0E5819"})", 1, true},
           {R"({"cluster_member": "FG2"})", R"({"__clustered_sns": [{"sn": "FG1"}, {"sn": "FG2"}]})", 1, true},
           {R"({"cluster_member": "FG3"})", R"({"__clustered_sns": [{"sn": "FG1"}, {"sn": "FG2"}]})", 1, false},
           {R"({"token": "FTKMOB0000000002"})", R"({"tokens": [{"token": "FTKMOB0000000002"}]})", 1, true},
           {R"({"mobile_id": "m1"})", R"({"mobile_id": "m1"})", 1, true},
           {R"({"fields": {"missing_field": "x"}})", R"({})", 1, false},
           {R"({"fields": {"custom": "x"}})", R"({"custom": "x"})", 1, true},
           {R"({"request": 2})", R"({})", 2, true},
           {R"({"request": 2})", R"({})", 3, false},
           {R"({"request": {"min": 2, "max": 4}})", R"({})", 4, true},
           {R"({"request": {"every": 3}})", R"({})", 6, true},
           {R"({"request": {"every": 3}})", R"({})", 7, false},
       }) {
    const auto& when_ = when;  // clang 14 cannot capture a structured binding
    CAPTURE(when_);
    const auto& d_ = d;  // clang 14 cannot capture a structured binding
    CAPTURE(d_);
    auto book = book_of(std::string(R"({"rules": [{"when": )") + when + R"(, "then": {"action": "close"}}]})");
    auto dj = fortisim::protocol::json::parse(d);
    exchange_facts f;
    f.d = &dj;
    f.request = request;
    CHECK(book.first_match(stage::http, f).has_value() == match);
  }
}

TEST_CASE("operation takes a name or {\"any_of\": [names]}") {
  using fortisim::protocol::operation;
  auto one = book_of(R"({"rules": [{"when": {"operation": "polling"}, "then": {"action": "close"}}]})");
  auto two = book_of(R"({"rules": [{"when": {"operation": {"any_of": ["polling", "provision"]}},
                                    "then": {"action": "close"}}]})");
  exchange_facts f;
  CHECK_FALSE(two.first_match(stage::http, f).has_value());  // a request of no known operation
  for (auto op : {operation::activation_license, operation::polling, operation::mobile_provision, operation::provision,
                  operation::hardware_activation}) {
    f.operation = op;
    CAPTURE(static_cast<int>(op));
    CHECK(one.first_match(stage::http, f).has_value() == (op == operation::polling));
    CHECK(two.first_match(stage::http, f).has_value() == (op == operation::polling || op == operation::provision));
  }
}

TEST_CASE("the same seed gives the same probabilistic sequence — another seed another one") {
  auto make = [](int seed) {
    return book_of(R"({"seed": )" + std::to_string(seed) +
                   R"(, "rules": [{"probability": 0.5, "then": {"action": "close"}}]})");
  };
  auto a = make(7), b = make(7), c = make(8);
  auto sa = play(a, 64), sb = play(b, 64), sc = play(c, 64);
  CHECK(sa == sb);
  CHECK(sa != sc);
  auto closes = std::count(sa.begin(), sa.end(), "close");
  CHECK(closes > 16);  // about half of 64
  CHECK(closes < 48);
}

TEST_CASE("times holds exactly under concurrency") {
  auto book = book_of(R"({"rules": [{"times": 5, "then": {"action": "close"}}]})");
  std::atomic<int> fired{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i)
        if (book.first_match(stage::http, {})) ++fired;
    });
  for (auto& t : threads) t.join();
  CHECK(fired == 5);
  CHECK(book.fired_counts()[0] == 5);
}

TEST_CASE("reset and hang act at the stage their `when` needs") {
  auto book = book_of(R"({"rules": [
    {"name": "on accept", "when": {"connection": 1}, "then": {"action": "reset"}},
    {"name": "after hello", "when": {"sni": "fds1.fortinet.com"}, "then": {"action": "hang"}},
    {"name": "after request", "when": {"operation": "activation_license"}, "then": {"action": "reset"}}]})");
  CHECK(book.rules()[0].stage == stage::connection);
  CHECK(book.rules()[1].stage == stage::tls);
  CHECK(book.rules()[2].stage == stage::http);
}

TEST_CASE("a refuse with no duration and no `when` holds from the start until told otherwise") {
  CHECK(book_of(R"({"rules": [{"then": {"action": "refuse"}}]})").refuse_first_ms() == -1);
  CHECK(book_of(R"({"rules": [{"when": {"connection": 3}, "then": {"action": "refuse"}}]})").refuse_first_ms() == 0);
  CHECK(book_of(R"({"rules": []})").refuse_first_ms() == 0);
}

TEST_CASE("rules are filed by stage — refuse with first_ms applies from the start only") {
  auto book = book_of(R"({"rules": [
    {"then": {"action": "refuse", "first_ms": 500}},
    {"when": {"connection": 1}, "then": {"action": "reset"}},
    {"when": {"sni": "fds1.fortinet.com"}, "then": {"action": "tls_alert"}}]})");
  CHECK(book.refuse_first_ms() == 500);
  exchange_facts f;
  f.connection = 1;
  CHECK(fault_name(book.first_match(stage::connection, f)->action->what) == "reset");
  f.connection = 2;
  CHECK_FALSE(book.first_match(stage::connection, f).has_value());
  f.sni = "fds1.fortinet.com";
  CHECK(fault_name(book.first_match(stage::tls, f)->action->what) == "tls_alert");
  CHECK_FALSE(book.has(stage::http));
}

TEST_CASE("rules decide alike on a request read without a tree and on its tree — other fields need the tree") {
  // The licence code, the phone's fields, the HA members and the tokens: the direct reading suffices.
  auto book = book_of(R"({"rules": [
    {"name": "code", "when": {"license_activation_code": {"suffix": "-0010"}}, "then": {"action": "close"}},
    {"name": "phone", "when": {"mobile_id": {"prefix": "bad"}}, "then": {"action": "reset"}},
    {"name": "code of phone", "when": {"token_activation_code": "00000000000000ff"}, "then": {"action": "hang"}},
    {"name": "member", "when": {"cluster_member": {"prefix": "FG9"}}, "then": {"action": "truncate", "bytes": 3}},
    {"name": "token", "when": {"token": {"regex": "^FTKMOB0+1$"}}, "then": {"action": "garbage"}}]})");
  CHECK_FALSE(book.needs_tree());
  const char* bodies[] = {
      R"({"d":{"__type":"SoftToken.ActivationLicenseRequest","license_activation_code":"AAAA-BBBB-CCCC-DDDD-0010","serial_number":"FG1"}})",
      R"({"d":{"__type":"SoftToken.ActivationLicenseRequest","license_activation_code":"AAAA-BBBB-CCCC-DDDD-0011","serial_number":"FG1","__clustered_sns":[{"sn":"FG1"},{"sn":"FG9X"}]}})",
      R"({"d":{"__type":"SoftToken.ActivationLicenseRequest","license_activation_code":"AAAA-BBBB-CCCC-DDDD-0011","serial_number":"FG9"}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","serial_number":"FG1","tokens":[{"token":"FTKMOB0000000001"}]}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","serial_number":"FG1","tokens":[{"token":"FTKMOB0000000002"}]}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","serial_number":"FG1"}})",
      R"({"d":{"__type":"SoftToken.MobileProvisionRequest","mobile_id":"bad0123456789abc","token_activation_code":"0000000000000001"}})",
      R"({"d":{"__type":"SoftToken.MobileProvisionRequest","mobile_id":"0123456789abcdef","token_activation_code":"00000000000000ff"}})",
      R"({"d":{"__type":"SoftToken.MobileProvisionRequest","mobile_id":"0123456789abcdef","token_activation_code":"0000000000000001"}})",
      R"({"d":{"__type":"SoftToken.HardwareActivationRequest","serial_number":"FG1","tokens":[{"token":"FTK2000000000001"}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","serial_number":"FG1","tokens":[{"token":"FTKMOB0000000002","period":60},{"token":"FTKMOB0000000001","digits":6}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","serial_number":"FG1","tokens":[{"token":"FTKMOB0000000002","seed":"00"}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","serial_number":"FG1","__clustered_sns":[{"sn":"FG9"}],"tokens":[]}})",
  };
  const auto& names = fortisim::protocol::default_message_names();
  for (const char* body : bodies) {
    CAPTURE(body);
    fortisim::protocol::request direct;
    REQUIRE(fortisim::protocol::read_request_direct(body, names, false, direct));
    auto tree = fortisim::protocol::json::parse(body);
    exchange_facts by_tree, by_direct;
    by_tree.d = &tree["d"];
    by_direct.direct = &direct;
    auto name = [&](const exchange_facts& f) {
      auto hit = book.first_match(stage::http, f);
      return hit ? hit->rule->name : std::string("-");
    };
    CHECK(name(by_direct) == name(by_tree));
  }
  // Any other field is only in the tree.
  CHECK(book_of(R"({"rules": [{"when": {"serial_number": "FG1"}, "then": {"action": "close"}}]})").needs_tree());
  CHECK(book_of(R"({"rules": [{"when": {"__device_build": "1"}, "then": {"action": "close"}}]})").needs_tree());
}

}  // TEST_SUITE
