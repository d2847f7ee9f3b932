#include "server/net/certs.hpp"

#include "protocol/hosts.hpp"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace fortisim::net {

namespace fs = std::filesystem;

namespace {

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
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

void write_file(const fs::path& path, const std::string& text, mode_t mode) {
  // Created with its final mode: a key is never readable by others, not even for a moment.
  fs::path tmp = path;
  tmp += ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fchmod(fd, mode) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok) throw std::runtime_error("cannot write " + tmp.string());
  fs::rename(tmp, path);
}

}  // namespace

const std::vector<std::string>& lab_host_names() {
  static const std::vector<std::string> names = [] {
    auto all = protocol::fortinet_host_names();
    all.insert(all.end(), {"localhost", "127.0.0.1", "::1"});
    return all;
  }();
  return names;
}

std::string cert_and_key::cert_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert.get());
  return bio_text(bio);
}

std::string cert_and_key::key_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bio_text(bio);
}

std::shared_ptr<EVP_PKEY> make_p256_key() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) throw std::runtime_error("cannot generate an ECDSA P-256 key");
  return {key, EVP_PKEY_free};
}

cert_and_key make_ca(const std::string& common_name, int days) {
  auto key = make_p256_key();
  auto cert = new_cert(key.get(), common_name, -3600, static_cast<std::int64_t>(days) * 86400);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_ext(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) throw std::runtime_error("cannot sign the CA certificate");
  return {cert, key};
}

cert_and_key make_server_cert(const cert_and_key& issuer, const std::vector<std::string>& names,
                              std::int64_t not_before_s, std::int64_t not_after_s) {
  auto key = make_p256_key();
  auto cert = new_cert(key.get(), names.empty() ? "fortisim" : names.front(), not_before_s, not_after_s);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer.cert.get()));
  std::string san;
  for (const auto& n : names) {
    bool ip = n.find_first_not_of("0123456789.") == std::string::npos || n.find(':') != std::string::npos;
    san += (san.empty() ? "" : ",") + std::string(ip ? "IP:" : "DNS:") + n;
  }
  add_ext(cert.get(), issuer.cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), issuer.cert.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(cert.get(), issuer.cert.get(), NID_ext_key_usage, "serverAuth");
  add_ext(cert.get(), issuer.cert.get(), NID_subject_alt_name, san);
  add_ext(cert.get(), issuer.cert.get(), NID_authority_key_identifier, "keyid:always");
  if (!X509_sign(cert.get(), issuer.key.get(), EVP_sha256()))
    throw std::runtime_error("cannot sign the server certificate");
  return {cert, key};
}

namespace {

/// Whether the certificate in `path` names every lab host (a data folder made by an older
/// fortisim may lack a name added since, such as fortinet-ca2.fortinet.com).
bool names_every_lab_host(const std::string& path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  if (!bio) return false;
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) return false;
  for (const auto& n : lab_host_names()) {
    bool ip = n.find_first_not_of("0123456789.") == std::string::npos || n.find(':') != std::string::npos;
    if ((ip ? X509_check_ip_asc(cert.get(), n.c_str(), 0)
            : X509_check_host(cert.get(), n.data(), n.size(), 0, nullptr)) != 1)
      return false;
  }
  return true;
}

}  // namespace

lab_cert_paths ensure_lab_certs(const std::string& dir, bool force) {
  fs::path d(dir);
  lab_cert_paths p{(d / "ca.pem").string(), (d / "server.pem").string(), (d / "server-key.pem").string()};
  fs::path ca_key = d / "ca-key.pem";
  bool have_ca = fs::exists(p.ca_cert) && fs::exists(ca_key);
  if (!force && have_ca && fs::exists(p.server_key) && names_every_lab_host(p.server_cert)) return p;
  std::error_code ec;
  fs::create_directories(d, ec);
  if (ec) throw std::runtime_error("cannot create the data folder " + dir + ": " + ec.message());
  // Keep a CA that clients already trust; only --force makes a new one.
  auto ca = !force && have_ca ? load_cert_and_key(p.ca_cert, ca_key.string()) : make_ca("fortisim lab CA", 3650);
  auto server = make_server_cert(ca, lab_host_names(), -3600, 825LL * 86400);
  write_file(ca_key, ca.key_pem(), 0600);
  write_file(p.server_key, server.key_pem(), 0600);
  write_file(p.ca_cert, ca.cert_pem(), 0644);
  write_file(p.server_cert, server.cert_pem() + ca.cert_pem(), 0644);
  return p;
}

cert_and_key load_cert_and_key(const std::string& cert_path, const std::string& key_path) {
  auto read = [](const std::string& path) {
    BIO* bio = BIO_new_file(path.c_str(), "r");
    if (!bio) throw std::runtime_error("cannot read " + path);
    return std::unique_ptr<BIO, decltype(&BIO_free)>(bio, BIO_free);
  };
  auto cb = read(cert_path);
  X509* cert = PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr);
  if (!cert) throw std::runtime_error(cert_path + ": not a PEM certificate");
  auto kb = read(key_path);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr);
  if (!key) {
    X509_free(cert);
    throw std::runtime_error(key_path + ": not a PEM private key (or it is encrypted)");
  }
  return {std::shared_ptr<X509>(cert, X509_free), std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free)};
}

std::string default_data_dir() {
  if (const char* d = std::getenv("FORTISIM_DATA"); d && *d) return d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/fortisim";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/fortisim";
  return "./fortisim-data";
}

}  // namespace fortisim::net
