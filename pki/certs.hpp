#pragma once
// Certificates made and read with OpenSSL's API: keys (ECDSA P-256 or RSA 2048), a lab CA, server
// certificates for a list of names, client certificates (a FortiGate presents its factory one),
// and the forms a CA is handed out in (PEM, DER, SHA-256 fingerprint). The lab's files on disk are
// certs_lab.hpp's. None of this is, or imitates, a Fortinet certificate: subjects say "fortisim lab".

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

typedef struct x509_st X509;
typedef struct X509_name_st X509_NAME;
typedef struct evp_pkey_st EVP_PKEY;

namespace fortisim::pki {

/// The kind of key a certificate carries: ECDSA P-256 (the default) or RSA 2048 (`--key-type rsa`,
/// for older FortiOS builds and clients that offer only RSA cipher suites).
enum class key_type { ecdsa, rsa };
/// "ecdsa" or "rsa".
std::string_view name_of(key_type t);
/// The key type named "ecdsa" or "rsa"; nothing for any other name.
std::optional<key_type> key_type_named(std::string_view name);
/// The type of `key`: rsa for an RSA key, else ecdsa.
key_type key_type_of(const EVP_PKEY* key);

/// A certificate and its private key, in memory.
struct cert_and_key {
  std::shared_ptr<X509> cert;
  std::shared_ptr<EVP_PKEY> key;
  std::string cert_pem() const;
  std::string key_pem() const;
};

/// Makes a new key: ECDSA P-256 or RSA 2048.
std::shared_ptr<EVP_PKEY> make_key(key_type type);
/// A self-signed CA certificate valid for `days`, e.g. make_ca("fortisim lab CA", 3650). With
/// `permitted` (name_constraint() entries) it carries critical X.509 name constraints (RFC 5280
/// §4.2.1.10): clients that trust it accept its leaves for those names and addresses alone.
cert_and_key make_ca(const std::string& common_name, int days, key_type type = key_type::ecdsa,
                     const std::vector<std::string>& permitted = {});
/// One permitted subtree as OpenSSL writes it: a host name of two labels or more (or localhost)
/// and every name under it ("fortinet.com" -> "DNS:fortinet.com"), or an address or a prefix of at
/// least /8 (IPv4) or /16 (IPv6) ("127.0.0.0/8" -> "IP:127.0.0.0/255.0.0.0", "::1" ->
/// "IP:::1/ffff:…:ffff"); "" for anything else (a lone label, a trailing dot, "0.0.0.0/0").
/// A CA made with such subtrees also permits mail and web addresses only at fortisim.invalid,
/// and its extended key usage is serverAuth and clientAuth.
std::string name_constraint(const std::string& text);
/// A server certificate for `names` (DNS names or IP addresses; the first is its CN), signed by
/// `issuer`, valid from `not_before_s` to `not_after_s` seconds relative to now.
cert_and_key make_server_cert(const cert_and_key& issuer, const std::vector<std::string>& names,
                              std::int64_t not_before_s, std::int64_t not_after_s, key_type type = key_type::ecdsa);
/// A client certificate (extended key usage clientAuth) whose subject's CN is `common_name`,
/// signed by `issuer`, valid for a day: e.g. make_client_cert(ca, "FGT40FHA25099UXR"), the way a
/// FortiGate's factory certificate names its serial.
cert_and_key make_client_cert(const cert_and_key& issuer, const std::string& common_name,
                              key_type type = key_type::ecdsa);

/// The unencrypted PEM private key in `path`, or null. Decoded for the key type of `cert` when one
/// is given: OpenSSL's generic decoder tries every key type and takes four times as long, and
/// start-up reads ten keys.
std::shared_ptr<EVP_PKEY> read_private_key(const std::string& path, const X509* cert = nullptr);
/// Loads a PEM certificate and its (unencrypted) PEM key. Throws std::runtime_error naming the file.
cert_and_key load_cert_and_key(const std::string& cert_path, const std::string& key_path);
/// The first certificate of a PEM text; null if there is none.
std::shared_ptr<X509> certificate_of_pem(std::string_view pem);

/// The certificate in DER (what a `.cer` file holds).
std::string der_of(const X509* cert);
/// The SHA-256 fingerprint of the certificate's DER as colon-separated upper-case hex, as FortiOS
/// and browsers show it: "3A:7F:…" (32 bytes).
std::string sha256_fingerprint(const X509* cert);
/// A name on one line in RFC 2253 form: "CN=FGT40FHA25099UXR,O=fortisim lab (not Fortinet)".
std::string one_line(const X509_NAME* name);

}  // namespace fortisim::pki
