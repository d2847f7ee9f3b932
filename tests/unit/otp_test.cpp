// protocol/otp: a token's codes by its type (RFC 4226 and RFC 6238 vectors) and a verifier's
// windows: one TOTP step either way; HOTP up to the look-ahead, moving the counter past a match.
#include "protocol/otp.hpp"
#include "protocol/seed_crypto.hpp"

#include <doctest/doctest.h>

using namespace fortisim::protocol;

namespace {
const std::string rfc_secret = "12345678901234567890";  // RFC 4226 appendix D, RFC 6238 appendix B
}

TEST_SUITE("otp") {

TEST_CASE("an HOTP token shows RFC 4226's code of its counter, and a TOTP token RFC 6238's of the time") {
  otp_params hotp_token{otp_type::hotp, 6, 30, 5};
  CHECK(otp_code(rfc_secret, hotp_token, 1111111109) == "254676");  // appendix D, count 5
  CHECK(otp_valid_for_s(hotp_token, 1111111109) == 0);
  otp_params totp_token{otp_type::totp, 8, 30, 0};
  CHECK(otp_code(rfc_secret, totp_token, 1111111109) == "07081804");  // appendix B
  CHECK(otp_valid_for_s(totp_token, 1111111109) == 1);
  CHECK(otp_type_from_text("hotp") == otp_type::hotp);
  CHECK(otp_type_from_text("totp") == otp_type::totp);
  CHECK_FALSE(otp_type_from_text("HOTP").has_value());
  CHECK(otp_type_text(otp_type::hotp) == "hotp");
}

TEST_CASE("HOTP: a code within the look-ahead is accepted once and moves the counter past it") {
  otp_params p{otp_type::hotp, 6, 30, 2};
  auto v = verify_otp(rfc_secret, p, 0, "338314");  // count 4: two ahead
  CHECK(v.valid);
  CHECK(v.counter == 5);
  p.counter = v.counter;
  CHECK_FALSE(verify_otp(rfc_secret, p, 0, "338314").valid);  // replayed: behind the counter now
  CHECK(verify_otp(rfc_secret, p, 0, "338314").counter == 5);
  CHECK(verify_otp(rfc_secret, p, 0, "520489").valid);  // count 9, four ahead
  otp_params far{otp_type::hotp, 6, 30, 0};
  CHECK(verify_otp(rfc_secret, far, 0, hotp(rfc_secret, hotp_look_ahead, 6)).valid);
  CHECK_FALSE(verify_otp(rfc_secret, far, 0, hotp(rfc_secret, hotp_look_ahead + 1, 6)).valid);
  CHECK_FALSE(verify_otp(rfc_secret, far, 0, "75522").valid);  // too short: never a prefix match
}

TEST_CASE("TOTP: one step back or ahead is accepted, two are not, and never the same step twice") {
  const std::string at_59 = "94287082";  // RFC 6238 appendix B, T = 59: step 1 of 30 s
  otp_params p{otp_type::totp, 8, 30, 0};
  auto v = verify_otp(rfc_secret, p, 59, at_59);
  CHECK(v.valid);
  CHECK(v.counter == 2);  // step 1 accepted: the next acceptable step is 2
  p.counter = v.counter;
  CHECK_FALSE(verify_otp(rfc_secret, p, 59, at_59).valid);                                // replayed
  CHECK(verify_otp(rfc_secret, {otp_type::totp, 8, 30, 0}, 59 + 30, at_59).valid);        // one step late
  CHECK_FALSE(verify_otp(rfc_secret, {otp_type::totp, 8, 30, 0}, 59 + 60, at_59).valid);  // two
}

TEST_CASE("a counter never passes the largest one --state can hold") {
  otp_params near{otp_type::hotp, 6, 30, max_counter - 3};
  auto at_limit = hotp(rfc_secret, max_counter, 6);
  CHECK_FALSE(verify_otp(rfc_secret, near, 0, at_limit).valid);  // its next counter would be max + 1
  auto v = verify_otp(rfc_secret, near, 0, hotp(rfc_secret, max_counter - 1, 6));
  CHECK(v.valid);
  CHECK(v.counter == max_counter);
}
}
