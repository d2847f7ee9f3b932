#pragma once
// What a FortiGate and a phone make and compute themselves: the FortiGate's random seed for a
// token it provisions, the phone's request for a user's activation code, and the one-time
// password of a secret now (docs/protocol.md §4.3, §4.4, §5).

#include "protocol/messages.hpp"
#include "protocol/otp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fortisim::client {

/// A new random 20-byte secret (OpenSSL RAND_bytes), as a FortiGate makes for each token.
std::string random_secret();

/// A token as FortiOS 7.4.10 provisions it [seen]: `secret` as 40 upper-case hex digits, the
/// code lasting `code_expire_minutes` (4320, three days, as captured), TOTP, 60 s, 6 digits
/// unless `period`, `digits` and `type` say otherwise.
protocol::provisioned_token fortigate_token(std::string serial, std::string_view secret,
                                            std::int64_t code_expire_minutes = 4320, int period = 60, int digits = 6,
                                            std::string type = "totp");

/// What the FortiToken Mobile app sends for the user's activation code ("EEIAI6ZLEYIRKOYV"):
/// its 8 bytes as 16 lower-case hex digits, with `mobile_id` (16 characters); nothing if `code`
/// is not an activation code.
std::optional<protocol::mobile_provision_request> phone_request(std::string_view user_code, std::string mobile_id);

/// A one-time password and how many seconds it stays valid.
struct otp_now {
  std::string code;
  std::int64_t valid_for_s = 0;
};
/// The code of `secret` (raw bytes) at `unix_s`: RFC 6238, or RFC 4226 of `p.counter` for HOTP.
otp_now otp_at(std::string_view secret, std::int64_t unix_s, const protocol::otp_params& p);

}  // namespace fortisim::client
