#pragma once
// Seed crypto (docs/protocol.md §5): the seed sent to the phone, RFC 4226/6238 one-time passwords,
// and deterministic secrets derived from a scenario seed. OpenSSL does the primitives.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fortisim::protocol {

/// The IV of the phone's seed encryption: the 16 ASCII bytes "fortitokenmobile" [seen].
inline constexpr std::string_view phone_seed_iv = "fortitokenmobile";

/// base64(AES-128-CBC(key = the 16 ASCII bytes of mobile_id, IV = "fortitokenmobile",
/// plaintext = the 40 lowercase hex digits of the secret, zero-padded to 48 bytes, no PKCS#7)).
/// `secret` is the raw 20-byte secret; `mobile_id` must be 16 bytes.
std::optional<std::string> encrypt_seed_for_phone(std::string_view secret, std::string_view mobile_id);
/// The same, written into `out` (its storage kept); false, and `out` unchanged, where that gives nothing.
bool encrypt_seed_for_phone(std::string_view secret, std::string_view mobile_id, std::string& out);
/// The inverse: the raw secret, or nothing if the input is not of that form.
std::optional<std::string> decrypt_seed_from_phone(std::string_view seed_b64, std::string_view mobile_id);

/// RFC 4226 HOTP over HMAC-SHA1, `digits` long, zero-padded.
std::string hotp(std::string_view secret, std::uint64_t counter, int digits);
/// RFC 6238 TOTP: HOTP of floor(unix_seconds / period).
std::string totp(std::string_view secret, std::int64_t unix_seconds, int period, int digits);

/// A 20-byte secret derived from the scenario seed and a name (a token serial): reruns of a
/// scenario give every token the same secret, and no two tokens share one.
std::string derive_secret(std::uint64_t seed, std::string_view name);
/// 8 activation-code bytes derived the same way.
std::string derive_bytes(std::uint64_t seed, std::string_view name, std::size_t count);

std::string base64_encode(std::string_view bytes);
/// The same, written into `out` (its storage kept).
void base64_encode(std::string_view bytes, std::string& out);
std::optional<std::string> base64_decode(std::string_view text);
/// Lowercase hex SHA-1 of `data` (used for mobile_id_hash, an assumed field).
std::string sha1_hex(std::string_view data);
/// The same, written into `out` (its storage kept).
void sha1_hex(std::string_view data, std::string& out);

}  // namespace fortisim::protocol
