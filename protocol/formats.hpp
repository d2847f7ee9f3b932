#pragma once
// Serial numbers and codes (docs/protocol.md §5): what they look like, how to check them, and how
// fortisim derives new ones deterministically from a scenario seed.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fortisim::protocol {

/// A licence activation code: 20 hex digits in 5 dashed groups, "DA8C-0508-1F31-4CF7-C990".
bool is_license_activation_code(std::string_view s);
/// The case of ASCII letters, whatever the C locale says of other bytes: codes, serials, header
/// names, paths and host names are ASCII, and these are a compare, not a call into libc.
constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }
constexpr char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - ('a' - 'A')) : c; }
/// Codes are case-insensitive: FortiCare keys them in upper case.
std::string upper_case(std::string_view s);
/// `s` in upper case without a copy when it already is: `s` itself, or `storage` holding the copy.
std::string_view upper_case(std::string_view s, std::string& storage);
/// `a` and `b` alike but for the case of ASCII letters: header names, IIS paths.
bool same_ignoring_case(std::string_view a, std::string_view b);
/// The free trial's code (docs/protocol.md §1 flow 1).
inline constexpr std::string_view trial_activation_code = "0000-0000-0000-0000-0000";

/// FTM token serial: "FTKMOB" + 10 alphanumerics (16 characters).
bool is_mobile_token_serial(std::string_view s);
/// Hardware token serial: "FTK200" or "FTK220" + 10 alphanumerics.
bool is_hardware_token_serial(std::string_view s);
/// A 16-character serial of the form prefix + digits, e.g. ("FTKMOB", key) -> "FTKMOB3814402957".
/// The digits are derived from `key` (SHA-256), so the same key always gives the same serial.
std::string derive_serial(std::string_view prefix, std::size_t total_length, std::string_view key);

/// The 8 random bytes of a per-token activation code.
using activation_bytes = std::array<std::uint8_t, 8>;
/// The code mailed to the user: base32 of 0x21, 0x10 (FortiGate-issued, 60 s period) or 0x00,
/// then the 8 bytes: 16 characters, e.g. "EEIDMRFGGM2DKNRX".
/// The user's code: base32 of 0x21, the period byte, then `b`. The period byte is 0x00 for a
/// 30-second token and 0x10 for a 60-second one [seen: the 7.4.10 capture's 0x10 for 60 s;
/// inferred: the public clients (zcpnate PR #9, ss23 issues #3/#6/#7/#8) read 0x00 as 30 s].
std::string activation_code_for_user(const activation_bytes& b, int period = 60);
/// The same, written into `out` (its storage kept).
void activation_code_for_user(const activation_bytes& b, int period, std::string& out);
/// The OTP period a user's code announces: 60 for period byte 0x10, else 30 (as the public clients
/// read it); 0 if `user_code` is not an activation code.
int activation_code_period(std::string_view user_code);
/// What the phone sends: the 8 bytes as 16 lowercase hex digits, e.g. "0d3a4c...".
std::string activation_code_for_phone(const activation_bytes& b);
/// The same, written into `out` (its storage kept).
void activation_code_for_phone(const activation_bytes& b, std::string& out);
/// Parses the phone's 16 lowercase hex digits back into the 8 bytes.
std::optional<activation_bytes> parse_phone_activation_code(std::string_view hex16);
/// Parses the user's 16 base32 characters (case-insensitive) into the 8 bytes.
std::optional<activation_bytes> parse_user_activation_code(std::string_view base32);

/// RFC 4648 base32, no padding for multiples of 5 bytes.
std::string base32_encode(std::string_view bytes);
/// The same, written into `out` (its storage kept).
void base32_encode(std::string_view bytes, std::string& out);
std::optional<std::string> base32_decode(std::string_view text);
std::string hex_encode(std::string_view bytes);
/// The same, written into `out` (its storage kept).
void hex_encode(std::string_view bytes, std::string& out);
/// The same, written at `out` (two characters a byte, no terminator): where its end is.
char* hex_encode(std::string_view bytes, char* out);
std::optional<std::string> hex_decode(std::string_view hex);
/// The same, written into `out` (its storage kept): false, and `out` unspecified, when `hex` is not
/// an even number of hex digits.
bool hex_decode(std::string_view hex, std::string& out);
/// Appends a time as ISO 8601 in UTC to the second, "2026-11-28T08:41:02" (no zone letter: the
/// caller adds "Z" or its fraction first). Computed from the civil calendar, not by libc's
/// gmtime/strftime, whose time zone lock and format parser cost more than the rest of a refusal.
void append_utc(std::int64_t unix_s, std::string& out);
bool is_lower_hex(std::string_view s, std::size_t length);

}  // namespace fortisim::protocol
