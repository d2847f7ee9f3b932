// protocol/direct_request: the tree-less reading of plain requests agrees with decode_request over
// the tree on everything it accepts, and declines everything outside the plain shape.
#include "protocol/direct_request.hpp"

#include "../support/fixtures.hpp"
#include "../support/tree_decode.hpp"

#include <doctest/doctest.h>

using namespace fortisim::protocol;
using fortisim::test::through_tree;

namespace {

std::optional<request> direct(std::string_view body, bool mobile = false) {
  return read_request_direct(body, default_message_names(), mobile);
}

const std::string polling =
    R"({"d":{"__type":"SoftToken.PollingRequest","__version":"4","serial_number":"FGT60F0000000001",)"
    R"("__device_version":"7.4","__device_build":"2662","__clustered_sns":[{"sn":"FGT60F0000000001"}],)"
    R"("tokens":[{"token":"FTKMOB0000000001"},"FTKMOB0000000002",{"token":""}]}})";
const std::string hardware =
    R"({"d":{"__type":"SoftToken.HardwareActivationRequest","serial_number":"FGT60F0000000001",)"
    R"("tokens":[]}})";
const std::string phone_new =
    R"({"d":{"__type":"SoftToken.MobileProvisionRequest","__version":"5","mobile_id":"0123456789abcdef",)"
    R"("token_activation_code":"00112233445566aa","registration_id":"push","__device_version":"4.9.9_IOS",)"
    R"("__device_build":"12"}})";
// Every key a provisioned token may have, in another order, and one with none but its serial.
const std::string provision_all =
    R"({"d":{"tokens":[{"digits":8,"activation_code":"00112233445566aa","period":30,"type":"hotp",)"
    R"("code_expire":0,"seed":"fc8cee4b56d93c40d590acbb958840af2fe76117","token":"FTKMOB0000000001"},)"
    R"({"token":"FTKMOB0000000002"}],"__type":"SoftToken.ProvisionRequest","serial_number":"FGT60F0000000001"}})";
const std::string phone_old =
    R"({"d":{"mobile_id":"0123456789abcdef","token_activation_code":"00112233445566aa","reg_id":"push",)"
    R"("registration_id":"","os_ver":"14"}})";

}  // namespace

TEST_SUITE("direct request") {

TEST_CASE("plain requests read without a tree equal their decoding over the tree") {
  for (const auto& [body, mobile] :
       std::vector<std::pair<std::string, bool>>{{fortisim::test::captured_request, false},
                                                 {polling, false},
                                                 {hardware, false},
                                                 {fortisim::test::provision_7410_request, false},
                                                 {fortisim::test::kb308115_request, false},
                                                 {provision_all, false},
                                                 {phone_new, true},
                                                 {phone_new, false},
                                                 {phone_old, true}}) {
    const auto& body_ = body;  // clang 14 cannot capture a structured binding
    CAPTURE(body_);
    auto fast = direct(body, mobile);
    REQUIRE(fast);
    auto slow = through_tree(body, mobile);
    REQUIRE(slow);
    CHECK(*fast == *slow);
  }
  auto p = direct(polling);
  CHECK(std::get<polling_request>(*p).tokens == std::vector<std::string>{"FTKMOB0000000001", "FTKMOB0000000002", ""});
  auto m = direct(phone_old, true);
  CHECK(request_type(*m).empty());
  CHECK(std::get<mobile_provision_request>(*m).registration_id == "push");
  CHECK(std::get<mobile_provision_request>(*m).device_version == "14");
  CHECK(request_type(*direct(fortisim::test::captured_request)) == "SoftToken.ActivationLicenseRequest");
  auto provision = std::get<provision_request>(*direct(provision_all));
  REQUIRE(provision.tokens.size() == 2);
  CHECK(provision.tokens[0].digits == 8);
  CHECK(provision.tokens[0].period == 30);
  CHECK(provision.tokens[1].type == "totp");  // the defaults of a key left out
  CHECK(provision.tokens[1].period == 60);
  CHECK(provision.tokens[1].digits == 6);
}

TEST_CASE("anything outside the plain shape is left to the tree") {
  const char* declined[] = {
      "",
      "not json",
      "[]",
      R"({"d":"x"})",
      R"({"d":{"__type":"SoftToken.PollingRequest"},"e":1})",                                    // a key beside "d"
      R"({"d":{"__type":"SoftToken.PollingRequest"},"d":{}})",                                   // "d" twice
      R"({"d":{"__type":"SoftToken.PollingRequest","serial_number":"A","serial_number":"B"}})",  // a key twice
      R"({"d":{"__type":"SoftToken.PollingRequest","extra":"x"}})",                              // a key no request has
      R"({"d":{"__type":"SoftToken.PollingRequest","mobile_id":"x"}})",  // another request's key
      R"({"d":{"__type":"SoftToken.PollingRequest","serial_number":null}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","__version":4}})",  // a number (the tree takes it)
      R"({"d":{"__type":"SoftToken.PollingRequest","serial_number":{"a":"b"}}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","tokens":[["x"]]}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","tokens":[{"token":"a","seed":"b"}]}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","tokens":[{}]}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","__clustered_sns":["FG1"]}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","__clustered_sns":[{"sn":"FG1","x":"y"}]}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","tokens":"x"}})",
      R"({"d":{"__type":"SoftToken.ActivationLicenseRequest"}})",   // its code is required
      R"({"d":{"__type":"SoftToken.HardwareActivationRequest"}})",  // its tokens are required
      // A ProvisionRequest's tokens: objects with their serial, their keys once, numbers in range.
      R"({"d":{"__type":"SoftToken.ProvisionRequest"}})",  // its tokens are required
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":["FTKMOB0000000001"]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"seed":"00"}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","token":"b"}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","pin":"1"}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":1}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","digits":"6"}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","seed":6}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","digits":5}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","digits":9}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","period":0}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","period":3601}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","code_expire":527041}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","code_expire":-1}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","period":60.0}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","period":6e1}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","period":060}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","period":0000000060}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","code_expire":1000000000}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","code_expire":99999999999999999999999}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a","period":null}]}})",
      R"({"d":{"__type":"SoftToken.ProvisionRequest","tokens":[{"token":"a"}],"__version":4}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","tokens":[{"token":"a","period":60}]}})",  // not a poll's
      R"({"d":{"__type":"SoftToken.PollingRequest","__clustered_sns":[{"sn":1}]}})",
      R"({"d":{"__type":"SoftToken.Nothing"}})",
      R"({"d":{"mobile_id":"a","token_activation_code":"b"}})",  // no type, not the phone's endpoint
      R"({"d":{"__type":"SoftToken.PollingRequest"}} x)",
      // Valid JSON the devices do not write, left to nlohmann's parser: escapes, bytes that are
      // not printable ASCII (a BOM first, DEL, UTF-8), numbers and literals anywhere.
      R"({"d":{"__type":"SoftToken.PollingRequest","serial_number":"A\/B"}})",
      R"({"d":{"__type":"SoftToken\u002ePollingRequest"}})",
      "\xEF\xBB\xBF{\"d\":{\"__type\":\"SoftToken.PollingRequest\"}}",
      "{\"d\":{\"__type\":\"SoftToken.PollingRequest\",\"serial_number\":\"A\x7f\"}}",
      "{\"d\":{\"__type\":\"SoftToken.PollingRequest\",\"serial_number\":\"\xC3\xA9\"}}",
      // And what is not JSON at all.
      R"({"d":{"__type":"SoftToken.PollingRequest",}})",
      R"({"d":{"__type":"SoftToken.PollingRequest"},})",
      R"({"d":{"__type":"SoftToken.PollingRequest" "serial_number":"A"}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","tokens":["a",]}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","tokens":["a" "b"]}})",
      R"({"d":{"__type":"SoftToken.PollingRequest","serial_number":"A)",
      "{\"d\":{\"__type\":\"SoftToken.PollingRequest\",\"serial_number\":\"A\tB\"}}",
      R"({"d":{"__type":"SoftToken.PollingRequest"})",
      R"({"d":{"__type":"SoftToken.PollingRequest"}}})",
  };
  for (const char* body : declined) {
    CAPTURE(body);
    CHECK_FALSE(direct(body));
  }
  CHECK(direct(R"({"d":{"mobile_id":"a","token_activation_code":"b"}})", true));
  // JSON's whitespace anywhere between tokens is still the plain shape.
  std::string spaced =
      " \t\r\n{ \"d\" :\n{\"__type\" : \"SoftToken.PollingRequest\" ,\t\"tokens\":[ \"a\" , { \"token\" :"
      " \"b\" } ] } }\n";
  REQUIRE(direct(spaced));
  CHECK(*direct(spaced) == *through_tree(spaced, false));
}

TEST_CASE("a request read into an earlier one keeps nothing of it, and reuses its storage") {
  // Each body in turn is read into the same request, as a worker reads a connection's requests:
  // fields the earlier request had and this one lacks must come out empty, lists must shrink.
  const std::string polling_one = R"({"d":{"__type":"SoftToken.PollingRequest","tokens":["FTKMOB0000000009"]}})";
  const std::string polling_none = R"({"d":{"__type":"SoftToken.PollingRequest","tokens":[]}})";
  const std::string hardware_two =
      R"({"d":{"__type":"SoftToken.HardwareActivationRequest","tokens":["FTK2000000000001","FTK2000000000002"]}})";
  const std::string phone_bare = R"({"d":{"mobile_id":"","token_activation_code":""}})";
  const std::string import_empty_code =
      R"({"d":{"__type":"SoftToken.ActivationLicenseRequest","license_activation_code":""}})";
  request reused;
  for (const auto& [body, mobile] :
       std::vector<std::pair<std::string, bool>>{{phone_new, true},
                                                 {phone_old, true},
                                                 {fortisim::test::captured_request, false},
                                                 {polling, false},
                                                 {polling_one, false},
                                                 {hardware, false},
                                                 {polling, false},
                                                 {phone_new, false},
                                                 {phone_bare, true},
                                                 {phone_new, true},
                                                 {fortisim::test::captured_request, false},
                                                 {import_empty_code, false},
                                                 {polling, false},
                                                 {polling_none, false},
                                                 {hardware_two, false},
                                                 {hardware, false},
                                                 {provision_all, false},
                                                 {fortisim::test::provision_7410_request, false},
                                                 {polling, false},
                                                 {fortisim::test::kb308115_request, false},
                                                 {provision_all, false},
                                                 {fortisim::test::captured_request, false}}) {
    const auto& body_ = body;  // clang 14 cannot capture a structured binding
    CAPTURE(body_);
    REQUIRE(read_request_direct(body, default_message_names(), mobile, reused));
    auto slow = through_tree(body, mobile);
    REQUIRE(slow);
    CHECK(reused == *slow);
  }
  // A declined body leaves the request as it was.
  auto before = reused;
  CHECK_FALSE(read_request_direct("{\"d\":1}", default_message_names(), false, reused));
  CHECK(reused == before);
  // The same kind of request again: written into the strings it already has (a code of 24
  // characters lives on the heap, so its storage staying put means no allocation).
  const char* storage = std::get<activation_license_request>(reused).license_activation_code.data();
  REQUIRE(read_request_direct(fortisim::test::captured_request, default_message_names(), false, reused));
  CHECK(std::get<activation_license_request>(reused).license_activation_code.data() == storage);
}

TEST_CASE("every one-character edit of a plain request either reads as over the tree or is declined") {
  // A deterministic sweep in the spirit of the fuzzer (which checks the same against any bytes).
  int accepted = 0, declined = 0;
  for (const auto& base : {fortisim::test::captured_request, polling, phone_old, provision_all}) {
    bool mobile = base == phone_old;
    for (std::size_t i = 0; i < base.size(); ++i)
      for (const char* edit : {"", "\"", "{", "}", "[", ",", ":", "1", " ", "\\u0041", "d", "\t", "\x7f", "\xC3\xA9"}) {
        std::string body = base;
        body.replace(i, 1, edit);
        auto fast = direct(body, mobile);
        if (!fast) {
          ++declined;
          continue;
        }
        ++accepted;
        auto slow = through_tree(body, mobile);
        CAPTURE(body);
        REQUIRE(slow);
        CHECK(*fast == *slow);
      }
  }
  CHECK(accepted > 100);
  CHECK(declined > 100);
}

}  // TEST_SUITE

TEST_CASE("a list of more than max_list_entries entries is declined, and refused over the tree with its path") {
  // A poll of 262,000 one-letter tokens made a 30 MB reply. Each list, as strings or objects.
  auto request_of = [](std::string_view type, std::string_view list, std::size_t n, std::string_view entry) {
    std::string body =
        R"({"d":{"__type":")" + std::string(type) + R"(","serial_number":"FG1",")" + std::string(list) + R"(":[)";
    for (std::size_t i = 0; i < n; ++i) body.append(i ? "," : "").append(entry);
    return body + "]}}";
  };
  struct shape {
    std::string_view type, list, entry, path;
  };
  for (auto s : {shape{"SoftToken.PollingRequest", "tokens", R"("FTK1")", "d.tokens"},
                 shape{"SoftToken.PollingRequest", "tokens", R"({"token":"FTK1"})", "d.tokens"},
                 shape{"SoftToken.ProvisionRequest", "tokens", R"({"token":"FTK1"})", "d.tokens"},
                 shape{"SoftToken.PollingRequest", "__clustered_sns", R"({"sn":"FG1"})", "d.__clustered_sns"}}) {
    CAPTURE(s.type);
    CAPTURE(s.entry);
    auto at_bound = request_of(s.type, s.list, max_list_entries, s.entry);
    REQUIRE(direct(at_bound));
    CHECK(through_tree(at_bound, false) == direct(at_bound));
    auto past = request_of(s.type, s.list, max_list_entries + 1, s.entry);
    CHECK_FALSE(direct(past));
    auto tree = std::get<json>(parse_bounded(past));
    auto op = default_message_names().find(tree["d"]["__type"].get<std::string>());
    auto decoded = decode_request(*op, tree["d"]);
    REQUIRE(std::holds_alternative<field_error>(decoded));
    CHECK(std::get<field_error>(decoded).path == s.path);
    CHECK(std::get<field_error>(decoded).reason == "more than 20000 entries (20001 given)");
  }
}
