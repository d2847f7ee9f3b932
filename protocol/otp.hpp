#pragma once
// One token's one-time passwords as its parameters make them (docs/protocol.md §5): TOTP (RFC
// 6238) or HOTP (RFC 4226) with a counter, and how a verifier accepts a code and moves on.

#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fortisim::protocol {

enum class otp_type : std::uint8_t { totp, hotp };

/// "totp" or "hotp" (as a ProvisionRequest's `type` says it [seen: "totp"]), or nothing.
std::optional<otp_type> otp_type_from_text(std::string_view text);
std::string_view otp_type_text(otp_type t);

struct otp_params {
  otp_type type = otp_type::totp;
  int digits = 6;
  int period = 60;  ///< TOTP: seconds per step
  /// HOTP: the counter of the next code the token shows. TOTP: the first time step a verifier
  /// still accepts (one past the last it accepted: a code is never accepted twice).
  std::uint64_t counter = 0;
};

/// The largest counter a token may hold: a verifier's next counter stays a signed 64-bit number
/// (what --state stores).
inline constexpr std::uint64_t max_counter = INT64_MAX;

/// A verifier's windows [assumed: RFC 6238 §5.2 recommends one step back; RFC 4226 §7.4 leaves
/// the look-ahead to the server]: a TOTP code of one step back or ahead is accepted, an HOTP code
/// up to `hotp_look_ahead` counters ahead.
inline constexpr int totp_window_steps = 1;
inline constexpr std::uint64_t hotp_look_ahead = 10;

/// The code the token shows at `now_s` (unix seconds): TOTP of the time, HOTP of the counter.
std::string otp_code(std::string_view secret, const otp_params& p, std::int64_t now_s);
/// Seconds until a TOTP code changes; 0 for HOTP (it changes when used).
std::int64_t otp_valid_for_s(const otp_params& p, std::int64_t now_s);

/// Whether a verifier accepts `code`, and the counter after it: one past the matched HOTP counter
/// or TOTP time step, as a verifier moves on so that no code is accepted twice (RFC 4226 §7.2,
/// RFC 6238 §5.2). A code whose next counter would pass max_counter is refused.
struct otp_verdict {
  bool valid = false;
  std::uint64_t counter = 0;
};
otp_verdict verify_otp(std::string_view secret, const otp_params& p, std::int64_t now_s, std::string_view code);

}  // namespace fortisim::protocol
