// protocol/seed_crypto: RFC 4226 and RFC 6238 test vectors; the phone's seed, checked against
// an independent decryption with OpenSSL's EVP API.
#include "protocol/seed_crypto.hpp"
#include "protocol/formats.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>

using namespace fortisim::protocol;

TEST_SUITE("seed crypto") {

TEST_CASE("HOTP matches RFC 4226 appendix D") {
  const std::string secret = "12345678901234567890";
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (int i = 0; i < 10; ++i) CHECK(hotp(secret, static_cast<std::uint64_t>(i), 6) == expected[i]);
}

TEST_CASE("TOTP matches RFC 6238 appendix B (SHA-1)") {
  const std::string secret = "12345678901234567890";
  struct row {
    std::int64_t t;
    const char* code;
  };
  for (auto [t, code] : {row{59, "94287082"}, row{1111111109, "07081804"}, row{1111111111, "14050471"},
                         row{1234567890, "89005924"}, row{2000000000, "69279037"}, row{20000000000, "65353130"}}) {
    const auto& t_ = t;  // clang 14 cannot capture a structured binding
    CAPTURE(t_);
    CHECK(totp(secret, t, 30, 8) == code);
  }
}

TEST_CASE("the phone's seed is AES-128-CBC of the hex secret, key mobile_id, IV fortitokenmobile, zero padded") {
  std::string secret = derive_secret(42, "FTKMOB0000000001");
  REQUIRE(secret.size() == 20);
  std::string mobile_id = "A1B2C3D4E5F60718";
  auto seed = encrypt_seed_for_phone(secret, mobile_id);
  REQUIRE(seed.has_value());

  // Decrypt independently, as the public registration scripts do.
  auto cipher = base64_decode(*seed);
  REQUIRE(cipher.has_value());
  CHECK(cipher->size() == 48);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  REQUIRE(EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), nullptr, reinterpret_cast<const unsigned char*>(mobile_id.data()),
                             reinterpret_cast<const unsigned char*>("fortitokenmobile")) == 1);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  unsigned char plain[64];
  int n = 0, tail = 0;
  REQUIRE(EVP_DecryptUpdate(ctx, plain, &n, reinterpret_cast<const unsigned char*>(cipher->data()),
                            static_cast<int>(cipher->size())) == 1);
  REQUIRE(EVP_DecryptFinal_ex(ctx, plain + n, &tail) == 1);
  EVP_CIPHER_CTX_free(ctx);
  std::string text(reinterpret_cast<char*>(plain), static_cast<std::size_t>(n + tail));
  CHECK(text.substr(0, 40) == hex_encode(secret));
  CHECK(text.substr(40) == std::string(8, '\0'));

  CHECK(decrypt_seed_from_phone(*seed, mobile_id) == secret);
  CHECK_FALSE(encrypt_seed_for_phone(secret, "short").has_value());
}

TEST_CASE("derived secrets are stable per seed and name, and distinct otherwise") {
  CHECK(derive_secret(1, "a") == derive_secret(1, "a"));
  CHECK(derive_secret(1, "a") != derive_secret(2, "a"));
  CHECK(derive_secret(1, "a") != derive_secret(1, "b"));
  CHECK(derive_bytes(1, "x", 100).size() == 100);
  CHECK(base64_decode(base64_encode("hello world!?")) == "hello world!?");
  CHECK(sha1_hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
}

}  // TEST_SUITE
