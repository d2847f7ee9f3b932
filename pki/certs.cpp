#include "pki/certs.hpp"

#include "protocol/hosts.hpp"

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace fortisim::pki {

namespace {

using bio_ptr = std::unique_ptr<BIO, decltype(&BIO_free)>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw std::runtime_error("cannot build certificate extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

std::shared_ptr<X509> new_cert(EVP_PKEY* key, const std::string& cn, std::int64_t not_before_s,
                               std::int64_t not_after_s) {
  std::shared_ptr<X509> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  // A random 128-bit serial: every generated certificate is distinct.
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(not_before_s));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(not_after_s));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("fortisim lab (not Fortinet)"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

/// An end-entity certificate for `key`, signed by `issuer`: its usages, then its own extensions.
cert_and_key sign_leaf(const cert_and_key& issuer, std::shared_ptr<X509> cert, std::shared_ptr<EVP_PKEY> key,
                       const char* purpose) {
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer.cert.get()));
  // RSA keys also encipher: TLS 1.2's RSA key exchange (older FortiOS) needs keyEncipherment.
  bool rsa = key_type_of(key.get()) == key_type::rsa;
  add_ext(cert.get(), issuer.cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), issuer.cert.get(), NID_key_usage,
          rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature");
  add_ext(cert.get(), issuer.cert.get(), NID_ext_key_usage, purpose);
  add_ext(cert.get(), issuer.cert.get(), NID_authority_key_identifier, "keyid:always");
  if (!X509_sign(cert.get(), issuer.key.get(), EVP_sha256()))
    throw std::runtime_error(std::string("cannot sign a certificate for ") + purpose);
  return {std::move(cert), std::move(key)};
}

bool is_ip_address(const std::string& n) {
  return n.find_first_not_of("0123456789.") == std::string::npos || n.find(':') != std::string::npos;
}

}  // namespace

std::string_view name_of(key_type t) { return t == key_type::rsa ? "rsa" : "ecdsa"; }

std::optional<key_type> key_type_named(std::string_view name) {
  if (name == "ecdsa") return key_type::ecdsa;
  if (name == "rsa") return key_type::rsa;
  return std::nullopt;
}

key_type key_type_of(const EVP_PKEY* key) {
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA ? key_type::rsa : key_type::ecdsa;
}

std::string cert_and_key::cert_pem() const {
  bio_ptr bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(bio.get(), cert.get());
  return bio_text(bio.get());
}

std::string cert_and_key::key_pem() const {
  bio_ptr bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bio_text(bio.get());
}

std::shared_ptr<EVP_PKEY> make_key(key_type type) {
  EVP_PKEY* key = type == key_type::rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  if (!key)
    throw std::runtime_error(std::string("cannot generate an ") + (type == key_type::rsa ? "RSA" : "ECDSA") + " key");
  return {key, EVP_PKEY_free};
}

std::string name_constraint(const std::string& text) {
  auto slash = text.find('/');
  std::string address = text.substr(0, slash);
  unsigned char bytes[16];
  int family = ::inet_pton(AF_INET, address.c_str(), bytes) == 1    ? AF_INET
               : ::inet_pton(AF_INET6, address.c_str(), bytes) == 1 ? AF_INET6
                                                                    : 0;
  if (family == 0) {  // a host name of two labels or more (a CA for "com" would sign for all of it), or localhost
    bool name = slash == std::string::npos && protocol::is_host_name(text) && !text.ends_with('.') &&
                (text.find('.') != std::string::npos || text == "localhost");
    return name ? "DNS:" + text : "";
  }
  int bits = family == AF_INET ? 32 : 128, prefix = bits;
  if (slash != std::string::npos) {
    auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return "";
    prefix = std::stoi(digits);
    if (prefix > bits || prefix < (family == AF_INET ? 8 : 16)) return "";  // not most of the Internet
  }
  unsigned char mask[16] = {};
  for (int i = 0; i < prefix; ++i) mask[i / 8] |= static_cast<unsigned char>(0x80 >> (i % 8));
  for (int i = 0; i < bits / 8; ++i) bytes[i] &= mask[i];  // the network, as the constraint names it
  char network[INET6_ADDRSTRLEN], netmask[INET6_ADDRSTRLEN];
  ::inet_ntop(family, bytes, network, sizeof network);
  ::inet_ntop(family, mask, netmask, sizeof netmask);
  return std::string("IP:") + network + "/" + netmask;
}

cert_and_key make_ca(const std::string& common_name, int days, key_type type,
                     const std::vector<std::string>& permitted) {
  auto key = make_key(type);
  auto cert = new_cert(key.get(), common_name, -3600, static_cast<std::int64_t>(days) * 86400);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_ext(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  std::string constraints;
  for (const auto& p : permitted) {
    auto subtree = name_constraint(p);
    if (subtree.empty()) throw std::invalid_argument(p + ": expected a host name, an IP address or a prefix");
    constraints.append(constraints.empty() ? "critical," : ",").append("permitted;").append(subtree);
  }
  if (!constraints.empty()) {
    // Mail and web addresses only at a name that cannot exist, and leaves for TLS alone: a device
    // that trusts the CA trusts it for no signed mail, no code, no other site.
    constraints += ",permitted;email:fortisim.invalid,permitted;URI:fortisim.invalid";
    add_ext(cert.get(), cert.get(), NID_name_constraints, constraints);
    add_ext(cert.get(), cert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  }
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) throw std::runtime_error("cannot sign the CA certificate");
  return {cert, key};
}

cert_and_key make_server_cert(const cert_and_key& issuer, const std::vector<std::string>& names,
                              std::int64_t not_before_s, std::int64_t not_after_s, key_type type) {
  auto key = make_key(type);
  auto cert = new_cert(key.get(), names.empty() ? "fortisim" : names.front(), not_before_s, not_after_s);
  std::string san;
  for (const auto& n : names) san.append(san.empty() ? "" : ",").append(is_ip_address(n) ? "IP:" : "DNS:").append(n);
  if (!san.empty()) add_ext(cert.get(), issuer.cert.get(), NID_subject_alt_name, san);
  return sign_leaf(issuer, std::move(cert), std::move(key), "serverAuth");
}

cert_and_key make_client_cert(const cert_and_key& issuer, const std::string& common_name, key_type type) {
  auto key = make_key(type);
  auto cert = new_cert(key.get(), common_name, -3600, 86400);
  return sign_leaf(issuer, std::move(cert), std::move(key), "clientAuth");
}

std::shared_ptr<EVP_PKEY> read_private_key(const std::string& path, const X509* cert) {
  bio_ptr bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  if (!bio) return nullptr;
  EVP_PKEY* key = nullptr;
  const EVP_PKEY* pub = cert ? X509_get0_pubkey(cert) : nullptr;
  if (const char* type = pub ? EVP_PKEY_get0_type_name(pub) : nullptr) {
    std::unique_ptr<OSSL_DECODER_CTX, decltype(&OSSL_DECODER_CTX_free)> decoder(
        OSSL_DECODER_CTX_new_for_pkey(&key, "PEM", nullptr, type, OSSL_KEYMGMT_SELECT_KEYPAIR, nullptr, nullptr),
        OSSL_DECODER_CTX_free);
    if (decoder && OSSL_DECODER_from_bio(decoder.get(), bio.get()) == 1 && key) return {key, EVP_PKEY_free};
    if (key) EVP_PKEY_free(key);
    key = nullptr;
    ERR_clear_error();
    if (BIO_reset(bio.get()) != 0) return nullptr;
  }
  key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  return key ? std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free) : nullptr;
}

cert_and_key load_cert_and_key(const std::string& cert_path, const std::string& key_path) {
  bio_ptr cb(BIO_new_file(cert_path.c_str(), "r"), BIO_free);
  if (!cb) throw std::runtime_error("cannot read " + cert_path);
  std::shared_ptr<X509> cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) throw std::runtime_error(cert_path + ": not a PEM certificate");
  auto key = read_private_key(key_path, cert.get());
  if (!key) throw std::runtime_error("cannot read " + key_path + ", or it is not an unencrypted PEM private key");
  return {std::move(cert), std::move(key)};
}

std::shared_ptr<X509> certificate_of_pem(std::string_view pem) {
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  X509* cert = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!cert) return nullptr;
  return {cert, X509_free};
}

std::string der_of(const X509* cert) {
  unsigned char* der = nullptr;
  int n = i2d_X509(cert, &der);
  if (n <= 0) throw std::runtime_error("cannot encode a certificate as DER");
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string sha256_fingerprint(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!X509_digest(cert, EVP_sha256(), md, &n)) throw std::runtime_error("cannot hash a certificate");
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    if (i) out += ':';
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::string one_line(const X509_NAME* name) {
  bio_ptr bio(BIO_new(BIO_s_mem()), BIO_free);
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return bio_text(bio.get());
}

}  // namespace fortisim::pki
