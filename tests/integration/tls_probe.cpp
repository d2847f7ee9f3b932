#include "tls_probe.hpp"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>
#include <unistd.h>

namespace fortisim::test {

namespace {

template <class T, void (*Free)(T*)>
struct freer {
  void operator()(T* p) const { Free(p); }
};
using ctx_ptr = std::unique_ptr<SSL_CTX, freer<SSL_CTX, SSL_CTX_free>>;
using ssl_ptr = std::unique_ptr<SSL, freer<SSL, SSL_free>>;
using response_ptr = std::unique_ptr<OCSP_RESPONSE, freer<OCSP_RESPONSE, OCSP_RESPONSE_free>>;
using basic_ptr = std::unique_ptr<OCSP_BASICRESP, freer<OCSP_BASICRESP, OCSP_BASICRESP_free>>;
using certid_ptr = std::unique_ptr<OCSP_CERTID, freer<OCSP_CERTID, OCSP_CERTID_free>>;
using store_ptr = std::unique_ptr<X509_STORE, freer<X509_STORE, X509_STORE_free>>;

std::shared_ptr<X509> read_pem(const std::string& path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  X509* cert = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  return cert ? std::shared_ptr<X509>(cert, X509_free) : nullptr;
}

const char* status_name(int status) {
  switch (status) {
    case V_OCSP_CERTSTATUS_GOOD: return "good";
    case V_OCSP_CERTSTATUS_REVOKED: return "revoked";
    default: return "unknown";
  }
}

/// The stapled response, if any: its status, whether it is about the leaf and signed by the CA.
void read_staple(SSL* ssl, const probe_options& o, probe_result& r) {
  const unsigned char* der = nullptr;
  long length = SSL_get_tlsext_status_ocsp_resp(ssl, &der);
  if (length <= 0 || !der) return;
  response_ptr response(d2i_OCSP_RESPONSE(nullptr, &der, length));
  basic_ptr basic(response ? OCSP_response_get1_basic(response.get()) : nullptr);
  OCSP_SINGLERESP* single = basic ? OCSP_resp_get0(basic.get(), 0) : nullptr;
  if (!single) {
    r.ocsp = "malformed";
    return;
  }
  int reason = 0;
  r.ocsp = status_name(OCSP_single_get0_status(single, &reason, nullptr, nullptr, nullptr));
  auto ca = o.ca.empty() ? nullptr : read_pem(o.ca);
  if (!ca || !r.leaf) return;
  certid_ptr id(OCSP_cert_to_id(nullptr, r.leaf.get(), ca.get()));
  int status = 0;
  if (!OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, nullptr, nullptr, nullptr))
    r.ocsp = "about another certificate";
  store_ptr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  r.ocsp_signed_by_ca = OCSP_basic_verify(basic.get(), nullptr, store.get(), 0) == 1;
  ERR_clear_error();
}

ctx_ptr client_context(const probe_options& o) {
  ctx_ptr ctx(SSL_CTX_new(TLS_client_method()));
  if (o.max_tls) SSL_CTX_set_max_proto_version(ctx.get(), o.max_tls);
  if (!o.ciphers.empty()) SSL_CTX_set_cipher_list(ctx.get(), o.ciphers.c_str());
  if (!o.ca.empty()) {
    SSL_CTX_load_verify_locations(ctx.get(), o.ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  if (o.certificate) {
    SSL_CTX_use_certificate(ctx.get(), o.certificate->cert.get());
    SSL_CTX_use_PrivateKey(ctx.get(), o.certificate->key.get());
  }
  return ctx;
}

/// GET / on the established connection; the reply's status, or 0.
int request(SSL* ssl, probe_result& r) {
  static constexpr std::string_view get = "GET / HTTP/1.1\r\nHost: fortisim\r\nConnection: close\r\n\r\n";
  std::string reply;
  char buf[4096];
  int n = SSL_write(ssl, get.data(), static_cast<int>(get.size()));
  while (n > 0 && (n = SSL_read(ssl, buf, sizeof buf)) > 0) reply.append(buf, static_cast<std::size_t>(n));
  r.detail = ssl_reason();
  return reply.starts_with("HTTP/1.1 ") && reply.size() >= 12 ? std::stoi(reply.substr(9, 3)) : 0;
}

}  // namespace

probe_result probe(std::uint16_t port, const probe_options& o) {
  probe_result r;
  int fd = connect_loopback(port, o.timeout);
  if (fd < 0) {
    r.detail = "connect failed";
    return r;
  }
  auto ctx = client_context(o);
  ssl_ptr ssl(SSL_new(ctx.get()));
  if (!o.sni.empty()) SSL_set_tlsext_host_name(ssl.get(), o.sni.c_str());
  if (!o.ca.empty()) SSL_set1_host(ssl.get(), (o.verify_name.empty() ? o.sni : o.verify_name).c_str());
  if (o.status_request) SSL_set_tlsext_status_type(ssl.get(), TLSEXT_STATUSTYPE_ocsp);
  if (o.resume) SSL_set_session(ssl.get(), o.resume.get());
  SSL_set_fd(ssl.get(), fd);
  ERR_clear_error();
  r.ok = SSL_connect(ssl.get()) == 1;
  r.detail = ssl_reason();
  r.verify_result = SSL_get_verify_result(ssl.get());
  if (X509* leaf = SSL_get0_peer_certificate(ssl.get())) {
    X509_up_ref(leaf);
    r.leaf = std::shared_ptr<X509>(leaf, X509_free);
  }
  if (r.ok) {
    r.tls_version = SSL_get_version(ssl.get());
    r.cipher = SSL_get_cipher_name(ssl.get());
    read_staple(ssl.get(), o, r);
    if (o.request) {
      r.status = request(ssl.get(), r);
      r.ok = r.status != 0;
    }
    r.resumed = SSL_session_reused(ssl.get()) == 1;
    r.session = std::shared_ptr<SSL_SESSION>(SSL_get1_session(ssl.get()), SSL_SESSION_free);
  }
  if (!r.ok) {
    // The server journals a failure, then closes: wait for that (SO_RCVTIMEO bounds it).
    char buf[4096];
    while (::recv(fd, buf, sizeof buf, 0) > 0) {
    }
  }
  if (r.ok) SSL_shutdown(ssl.get());  // a session freed without close_notify is no longer resumable
  ssl.reset();
  ::close(fd);
  return r;
}

std::vector<std::string> dns_names_of(X509* cert) {
  std::vector<std::string> out;
  if (!cert) return out;  // no certificate seen: the caller's checks fail, not the test binary
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS)
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                       static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string key_of(X509* cert) {
  if (!cert) return "no certificate";
  EVP_PKEY* key = X509_get0_pubkey(cert);
  std::string type = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA  ? "rsa"
                     : EVP_PKEY_get_base_id(key) == EVP_PKEY_EC ? "ecdsa"
                                                                : "other";
  return type + " " + std::to_string(EVP_PKEY_get_bits(key));
}

}  // namespace fortisim::test
