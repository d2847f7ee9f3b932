#include "protocol/seed_crypto.hpp"

#include "protocol/formats.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <memory>
#include <vector>

namespace fortisim::protocol {
namespace {

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

/// AES-128-CBC of `in` (whole blocks) into `out`, which has room for in.size() + 16 bytes: the
/// bytes written, or nothing.
std::optional<std::size_t> aes128_cbc_nopad(bool encrypt, std::string_view key, std::string_view in,
                                            unsigned char* out) {
  if (key.size() != 16 || in.size() % 16 != 0) return std::nullopt;
  cipher_ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  auto k = reinterpret_cast<const unsigned char*>(key.data());
  auto iv = reinterpret_cast<const unsigned char*>(phone_seed_iv.data());
  if (!ctx || EVP_CipherInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, k, iv, encrypt ? 1 : 0) != 1)
    return std::nullopt;
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  int n = 0, tail = 0;
  if (EVP_CipherUpdate(ctx.get(), out, &n, reinterpret_cast<const unsigned char*>(in.data()),
                       static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), out + n, &tail) != 1)
    return std::nullopt;
  return static_cast<std::size_t>(n + tail);
}

std::optional<std::string> aes128_cbc_nopad(bool encrypt, std::string_view key, std::string_view in) {
  std::string out(in.size() + 16, '\0');
  auto n = aes128_cbc_nopad(encrypt, key, in, reinterpret_cast<unsigned char*>(out.data()));
  if (!n) return std::nullopt;
  out.resize(*n);
  return out;
}

}  // namespace

std::optional<std::string> encrypt_seed_for_phone(std::string_view secret, std::string_view mobile_id) {
  std::string out;
  if (!encrypt_seed_for_phone(secret, mobile_id, out)) return std::nullopt;
  return out;
}

bool encrypt_seed_for_phone(std::string_view secret, std::string_view mobile_id, std::string& out) {
  // The hex digits of the secret, cut or zero-padded to 48 bytes (three blocks), not PKCS#7 [seen].
  char plain[48] = {};
  hex_encode(secret.substr(0, sizeof plain / 2), plain);
  unsigned char cipher[sizeof plain + 16];
  auto n = aes128_cbc_nopad(true, mobile_id, std::string_view(plain, sizeof plain), cipher);
  if (!n) return false;
  base64_encode(std::string_view(reinterpret_cast<const char*>(cipher), *n), out);
  return true;
}

std::optional<std::string> decrypt_seed_from_phone(std::string_view seed_b64, std::string_view mobile_id) {
  auto cipher = base64_decode(seed_b64);
  if (!cipher) return std::nullopt;
  auto plain = aes128_cbc_nopad(false, mobile_id, *cipher);
  if (!plain) return std::nullopt;
  auto end = plain->find('\0');
  return hex_decode(std::string_view(*plain).substr(0, end));
}

std::string hotp(std::string_view secret, std::uint64_t counter, int digits) {
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i) {
    msg[i] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), msg, sizeof msg, mac, &mac_len);
  int offset = mac[mac_len - 1] & 0x0f;
  std::uint32_t bin = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                      (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                      (static_cast<std::uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  std::uint64_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  std::string code = std::to_string(bin % mod);
  return std::string(static_cast<std::size_t>(digits) - code.size(), '0') + code;
}

std::string totp(std::string_view secret, std::int64_t unix_seconds, int period, int digits) {
  return hotp(secret, static_cast<std::uint64_t>(unix_seconds / period), digits);
}

std::string derive_bytes(std::uint64_t seed, std::string_view name, std::size_t count) {
  std::string key = std::to_string(seed);
  std::string out;
  for (std::uint32_t block = 0; out.size() < count; ++block) {
    std::string msg(name);
    msg += '#';
    msg += std::to_string(block);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
         msg.size(), mac, &mac_len);
    out.append(reinterpret_cast<const char*>(mac), mac_len);
  }
  out.resize(count);
  return out;
}

std::string derive_secret(std::uint64_t seed, std::string_view name) {
  return derive_bytes(seed, std::string("secret:") + std::string(name), 20);
}

void base64_encode(std::string_view bytes, std::string& out) {
  out.resize(4 * ((bytes.size() + 2) / 3));  // EVP_EncodeBlock's NUL goes where the string keeps its own
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  base64_encode(bytes, out);
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string sha1_hex(std::string_view data) {
  std::string out;
  sha1_hex(data, out);
  return out;
}

void sha1_hex(std::string_view data, std::string& out) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  hex_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest), out);
}

}  // namespace fortisim::protocol
