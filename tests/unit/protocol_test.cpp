// protocol/: codecs round-trip, replies mirror the captured shapes, one error catalogue.
#include "protocol/errors.hpp"
#include "protocol/formats.hpp"
#include "protocol/hosts.hpp"
#include "protocol/json_writer.hpp"
#include "protocol/messages.hpp"

#include "../support/fixtures.hpp"

#include <doctest/doctest.h>

#include <ctime>
#include <set>

using namespace fortisim::protocol;

TEST_SUITE("protocol") {

TEST_CASE("the catalogue carries the seen codes with their exact messages, and its own codes apart") {
  CHECK(find_error(10)->message == "forticare license card not found");
  CHECK(find_error(14)->message == "forticare license expired");
  CHECK(find_error(40)->message == "FTM token Activation Code is invalid");
  std::set<int> codes;
  std::set<std::string_view> names;
  for (const auto& e : error_catalogue()) {
    CHECK(codes.insert(e.code).second);
    CHECK(names.insert(e.name).second);
    CHECK((e.assumed ? e.code >= 900 : e.code < 100));
    CHECK(&catalogue_entry(e.id) == &e);
    CHECK(find_error(e.name) == &e);
  }
  error_table t;
  t.set(error_id::hardware_lock_consumed, {23, "locked"});
  CHECK(t[error_id::hardware_lock_consumed] == error_value{23, "locked"});
  CHECK(t.for_code(23) == error_value{23, "locked"});
  CHECK(t.for_code(14) == error_value{14, "forticare license expired"});
  CHECK(t.for_code(12345, "custom") == error_value{12345, "custom"});
}

TEST_CASE("the captured request decodes, and encodes back to the same bytes") {
  json d = json::parse(fortisim::test::captured_request)["d"];
  auto op = default_message_names().find(d["__type"].get<std::string>());
  REQUIRE(op == operation::activation_license);
  auto decoded = decode_request(*op, d);
  REQUIRE(std::holds_alternative<request>(decoded));
  const auto& r = std::get<activation_license_request>(std::get<request>(decoded));
  CHECK(r.license_activation_code == "DA8C-0508-1F31-4CF7-C990");
  CHECK(r.env.serial_number == "FG4H0ETB20900993");
  CHECK(r.env.clustered_sns == std::vector<std::string>{"FG4H0ETB20900993", "FG4H0E5819900260"});
  CHECK(encode(request{r}).dump() == fortisim::test::captured_request);
}

TEST_CASE("an error-14 reply encodes to the captured reply, field order included") {
  envelope env{"SoftToken.ActivationLicenseRequest",    "4", "FG4H0ETB20900993", "6.0", "6325",
               {"FG4H0ETB20900993", "FG4H0E5819900260"}};
  activation_license_response r{head_for(env, "SoftToken.ActivationLicenseResponse"), "DA8C-0508-1F31-4CF7-C990", "",
                                std::nullopt, error_value{14, "forticare license expired"}};
  CHECK(encode(response{r}).dump() == fortisim::test::captured_reply);
}

TEST_CASE("members are echoed sorted by serial") {
  envelope env;
  env.clustered_sns = {"FGB", "FGC", "FGA"};
  auto h = head_for(env, "X");
  REQUIRE(h.members.size() == 3);
  CHECK(h.members[0].sn == "FGA");
  CHECK(h.members[2].sn == "FGC");
}

TEST_CASE("every request round-trips through JSON") {
  envelope env{"", "4", "FG100F0000000001", "7.2", "1234", {"FG100F0000000001", "FG100F0000000002"}};
  auto with_type = [&](operation op) {
    envelope e = env;
    e.type = default_message_names().request[static_cast<std::size_t>(op)];
    return e;
  };
  std::vector<request> requests{
      activation_license_request{with_type(operation::activation_license), "DA8C-0508-1F31-4CF7-C990"},
      polling_request{with_type(operation::polling), {"FTKMOB0000000001", "FTKMOB0000000002"}},
      mobile_provision_request{"SoftToken.MobileProvisionRequest", "", "0123456789abcdef", "00112233445566ff", "", "",
                               ""},
      mobile_provision_request{"SoftToken.MobileProvisionRequest", "5", "0123456789abcdef", "00112233445566ff", "r1",
                               "4.9.9_IOS", "1234"},
      provision_request{with_type(operation::provision),
                        {{"FTKMOB0000000001", std::string(40, 'A'), 4320, "totp", 60, 6, ""},
                         {"FTKMOB0000000002", std::string(40, 'a'), 60, "totp", 30, 8, "00112233445566ff"}}},
      hardware_activation_request{with_type(operation::hardware_activation), {"FTK2000000000001"}},
  };
  for (const auto& r : requests) {
    json d = json::parse(encode(r).dump())["d"];
    auto op = default_message_names().find(d["__type"].get<std::string>());
    REQUIRE(op.has_value());
    auto back = decode_request(*op, d);
    REQUIRE(std::holds_alternative<request>(back));
    CHECK(std::get<request>(back) == r);
  }
}

TEST_CASE("every reply round-trips through JSON") {
  envelope env{"", "4", "FG100F0000000001", "7.2", "1234", {"FG100F0000000002", "FG100F0000000001"}};
  auto head = head_for(env, "SoftToken.XResponse");
  head.members[1].error = "Product is not registered";
  std::vector<std::pair<operation, response>> replies{
      {operation::activation_license,
       activation_license_response{head, "DA8C-0508-1F31-4CF7-C990", "EFTM000000000001",
                                   std::vector<license_token>{{"FTKMOB0000000001", "EFTM000000000001"}}, std::nullopt}},
      {operation::polling,
       polling_response{
           head, {{"FTKMOB0000000001", "EFTM000000000001", "provisioned", "5.4.2_IOS", "r", 0}}, std::nullopt}},
      {operation::mobile_provision,
       mobile_provision_response{"SoftToken.MobileProvisionResponse", "", "", "", "h", "s", "FTKMOB0000000001", "", "0",
                                 "", 0, 0, "", "i", std::nullopt}},
      {operation::provision, provision_response{head,
                                                {{"FTKMOB0000000001", std::nullopt, std::nullopt, std::nullopt,
                                                  std::nullopt, error_value{31, "token does not belong to product"}}},
                                                0,
                                                error_value{17, "no valid token found"}}},
      {operation::hardware_activation,
       hardware_activation_response{head, {{"FTK2000000000001", std::string(40, 'b'), std::nullopt}}, std::nullopt}},
  };
  for (const auto& [op, r] : replies) {
    json d = json::parse(encode(r).dump())["d"];
    CHECK(d["result"] == 0);
    auto back = decode_response(op, d);
    REQUIRE(std::holds_alternative<response>(back));
    CHECK(std::get<response>(back) == r);
  }
}

TEST_CASE("reply strings are escaped: quotes, backslashes, control characters, UTF-8") {
  std::string tricky =
      "a\"b\\c\nd\te\x01"
      "f é ✓";
  mobile_provision_response r;
  r.type = tricky;
  r.issuer = "\x1f";
  std::string text;
  encode_to(response{r}, text);
  auto d = json::parse(text)["d"];
  CHECK(d["__type"] == tricky);
  CHECK(d["issuer"] == "\x1f");
  CHECK(text.find("\\u0001") != std::string::npos);
  CHECK(encode(response{r}).dump() == text);
}

TEST_CASE("replies escape ', <, > and & as ASP.NET does, and keep '/' — other JSON fortisim writes does not") {
  mobile_provision_response r;
  r.issuer = "token already activated, and seed won't be returned <a&b> / long plain runs between";
  std::string text;
  encode_to(response{r}, text);
  CHECK(text.find(R"(won\u0027t be returned \u003ca\u0026b\u003e / long)") != std::string::npos);
  CHECK(json::parse(text)["d"]["issuer"] == r.issuer);
  std::string plain;
  json_writer(plain).open().str("k", "won't <a&b>").close();
  CHECK(plain == R"({"k":"won't <a&b>"})");
}

TEST_CASE("the phone's reply carries every field of §4.3 in the real order") {
  mobile_provision_response r;
  r.type = "SoftToken.MobileProvisionResponse";
  r.error = error_value{40, "FTM token Activation Code is invalid"};
  std::string expected =
      R"({"d":{"__type":"SoftToken.MobileProvisionResponse","__version":"","__device_version":"","__device_build":"","mobile_id_hash":"","seed":"","token":"","image_file":"","pin_required":"","pin_require_type":"","pin_length":0,"counter":0,"encryption_key":"","issuer":"","result":0,"error":{"error_code":40,"error_message":"FTM token Activation Code is invalid"}}})";
  CHECK(encode(response{r}).dump() == expected);
}

TEST_CASE("wrong field types are reported with their path") {
  struct row {
    operation op;
    const char* d;
    const char* path;
  };
  for (const auto& [op, d, path] : std::vector<row>{
           {operation::activation_license, R"({"license_activation_code": 5})", "d.license_activation_code"},
           {operation::activation_license, R"({})", "d.license_activation_code"},
           {operation::activation_license, R"({"license_activation_code": "x", "__clustered_sns": {}})",
            "d.__clustered_sns"},
           {operation::activation_license, R"({"license_activation_code": "x", "__clustered_sns": [{"sn": 1}]})",
            "d.__clustered_sns[0].sn"},
           {operation::polling, R"({"tokens": [{"token": []}]})", "d.tokens[0].token"},
           {operation::mobile_provision, R"({"mobile_id": "x"})", "d.token_activation_code"},
           {operation::provision,
            R"({"tokens": [{"token": "FTKMOB0000000001", "activation_code": "a", "digits": 12}]})",
            "d.tokens[0].digits"},
           {operation::hardware_activation, R"({"tokens": "FTK"})", "d.tokens"},
       }) {
    const auto& d_ = d;  // clang 14 cannot capture a structured binding
    CAPTURE(d_);
    auto r = decode_request(op, json::parse(d));
    REQUIRE(std::holds_alternative<field_error>(r));
    CHECK(std::get<field_error>(r).path == path);
  }
}

TEST_CASE("formats: codes and serials") {
  CHECK(is_license_activation_code("DA8C-0508-1F31-4CF7-C990"));
  CHECK(is_license_activation_code("da8c-0508-1f31-4cf7-c990"));
  CHECK_FALSE(is_license_activation_code("DA8C-0508-1F31-4CF7-C99"));
  CHECK_FALSE(is_license_activation_code("DA8C05081F314CF7C990XXXX"));
  CHECK_FALSE(is_license_activation_code("GA8C-0508-1F31-4CF7-C990"));
  CHECK(is_mobile_token_serial("FTKMOB1234567890"));
  CHECK_FALSE(is_mobile_token_serial("FTKMOB123456789"));
  CHECK(is_hardware_token_serial("FTK2001234567890"));
  CHECK(is_hardware_token_serial("FTK2201234567890"));
  CHECK_FALSE(is_hardware_token_serial("FTKMOB1234567890"));
  auto a = derive_serial("FTKMOB", 16, "k");
  CHECK(a == derive_serial("FTKMOB", 16, "k"));
  CHECK(a != derive_serial("FTKMOB", 16, "k2"));
  CHECK(is_mobile_token_serial(a));
  CHECK(derive_serial("EFTM", 16, "x").size() == 16);
}

TEST_CASE("case: ASCII letters alone change case, every other byte is kept") {
  CHECK(upper_case("da8c-0508-zZ") == "DA8C-0508-ZZ");
  CHECK(upper_case("caf\xc3\xa9 \xe9") == "CAF\xc3\xa9 \xe9");  // UTF-8 and Latin-1 bytes untouched
  std::string storage;
  CHECK(upper_case("FTKMOB-0-9", storage).data() != storage.data());  // no copy when already upper
  CHECK(upper_case("ftkmob", storage) == "FTKMOB");
  CHECK(same_ignoring_case("/SoftToken/ProcessRequest.ASMX", "/softtoken/processrequest.asmx"));
  CHECK_FALSE(same_ignoring_case("/SoftToken/Process", "/SoftToken/Proces"));
  CHECK_FALSE(same_ignoring_case("a[", "A{"));      // '[' is not 'A' + 26 in lower case, nor '{'
  CHECK_FALSE(same_ignoring_case("\xc9", "\xe9"));  // Latin-1 É and é: bytes, not letters
  for (int c = 0; c < 256; ++c) {
    char ch = static_cast<char>(c);
    bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    CHECK((ascii_lower(ch) != ch || ascii_upper(ch) != ch) == letter);
  }
}

TEST_CASE("times: ISO 8601 in UTC, as gmtime and strftime write them, over the years a scenario may name") {
  auto utc = [](std::int64_t t) {
    std::string out;
    append_utc(t, out);
    return out;
  };
  CHECK(utc(0) == "1970-01-01T00:00:00");
  CHECK(utc(951782400) == "2000-02-29T00:00:00");     // a leap day of a century year
  CHECK(utc(253402300799) == "9999-12-31T23:59:59");  // the last time a scenario may name
  CHECK(utc(-62135596800) == "0001-01-01T00:00:00");  // padded to four digits
  std::uint64_t x = 0x9e3779b97f4a7c15;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    auto t = static_cast<std::time_t>(x % 253402300800);
    std::tm tm{};
    char text[40];
    REQUIRE(::gmtime_r(&t, &tm));
    std::string expected(text, std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm));
    REQUIRE(utc(t) == expected);
  }
}

TEST_CASE("activation codes: base32 for the user, hex for the phone, the same 8 bytes") {
  activation_bytes b{0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33};
  std::string user = activation_code_for_user(b);
  CHECK(user.size() == 16);
  CHECK(user.starts_with("EEI"));  // 0x21 0x10 ...
  CHECK(base32_decode(user)->substr(0, 2) == std::string("\x21\x10", 2));
  CHECK(parse_user_activation_code(user) == b);
  std::string phone = activation_code_for_phone(b);
  CHECK(phone == "deadbeef00112233");
  CHECK(parse_phone_activation_code(phone) == b);
  CHECK_FALSE(parse_phone_activation_code("DEADBEEF00112233").has_value());
  // A real user code from the public FortiToken Mobile registration script's README (0x21 0x00 …).
  auto real = parse_user_activation_code("EEAEVVEYZSERRHEM");
  REQUIRE(real.has_value());
  CHECK(activation_code_for_user(*real, 30) == "EEAEVVEYZSERRHEM");
  // The period byte as the public clients read it: 0x10 60 s (the capture's), 0x00 30 s.
  CHECK(activation_code_period("EEAEVVEYZSERRHEM") == 30);
  CHECK(activation_code_period("EEIAI6ZLEYIRKOYV") == 60);
  CHECK(activation_code_period(activation_code_for_user(b, 30)) == 30);
  CHECK(activation_code_period(activation_code_for_user(b, 60)) == 60);
  CHECK(activation_code_period("not a code") == 0);
  CHECK(base32_encode("foobar") == "MZXW6YTBOI");  // RFC 4648 §10, without padding
  CHECK(base32_decode("MZXW6YTBOI") == "foobar");
}

TEST_CASE("host names: the Fortinet list, matched case-insensitively with or without the trailing dot") {
  const auto& names = fortinet_host_names();
  CHECK(names.size() == 8);
  for (const auto& n : names) {
    CAPTURE(n);
    CHECK(n == canonical_host_name(n));
    CHECK(is_host_name(n));
    CHECK(is_known_host_name(n));
    CHECK(is_known_host_name(n + "."));
    CHECK(is_known_host_name(upper_case(n)));
  }
  CHECK(is_known_host_name("Fortinet-CA2.FORTINET.com."));
  CHECK(canonical_host_name("FDS1.Fortinet.COM.") == "fds1.fortinet.com");
  CHECK(canonical_host_name(".").empty());
  // Exact names only: no suffix, no prefix, no subdomain, no near miss.
  for (std::string_view other :
       {"fortinet.com", "x.fds1.fortinet.com", "fds1.fortinet.co", "fds1.fortinet.com..", "fds2.fortinet.com", "", "."})
    CHECK_FALSE(is_known_host_name(other));
  // A scenario's names extend the list.
  std::vector<std::string> extra{"lab.example.net"};
  CHECK(is_known_host_name("LAB.example.NET.", extra));
  CHECK_FALSE(is_known_host_name("lab.example.net"));
  CHECK(same_host_name("A.b", "a.B."));
  CHECK_FALSE(same_host_name("a.b", "a.bc"));
}

TEST_CASE("host names a scenario may list") {
  for (std::string_view good : {"lab.example.net", "lab.example.net.", "a", "x-1.y_2.z", "a.b"})
    CHECK(is_host_name(good));
  std::string long_label(64, 'a');
  std::string long_name;
  while (long_name.size() < 254) long_name += "abcdefghi.";
  for (std::string_view bad : {"", ".", "a..b", ".a", "*.example.net", "lab example",
                               "l\xc3\xa4"
                               "b.de",
                               "a/b"})
    CHECK_FALSE(is_host_name(bad));
  CHECK_FALSE(is_host_name(long_label + ".net"));
  CHECK(is_host_name(std::string(63, 'a') + ".net"));
  CHECK_FALSE(is_host_name(long_name + "x"));
}

}  // TEST_SUITE
