#include "pki/ocsp.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <stdexcept>

namespace fortisim::pki {

namespace {

constexpr std::int64_t valid_s = 86400;         // nextUpdate - thisUpdate
constexpr std::int64_t remake_after_s = 43200;  // half of it: a client never sees one near its end

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

template <class T, void (*Free)(T*)>
struct freer {
  void operator()(T* p) const { Free(p); }
};
using basic_ptr = std::unique_ptr<OCSP_BASICRESP, freer<OCSP_BASICRESP, OCSP_BASICRESP_free>>;
using response_ptr = std::unique_ptr<OCSP_RESPONSE, freer<OCSP_RESPONSE, OCSP_RESPONSE_free>>;
using certid_ptr = std::unique_ptr<OCSP_CERTID, freer<OCSP_CERTID, OCSP_CERTID_free>>;
using time_ptr = std::unique_ptr<ASN1_TIME, freer<ASN1_TIME, ASN1_TIME_free>>;

int status_code(ocsp_status s) {
  switch (s) {
    case ocsp_status::revoked: return V_OCSP_CERTSTATUS_REVOKED;
    case ocsp_status::unknown: return V_OCSP_CERTSTATUS_UNKNOWN;
    default: return V_OCSP_CERTSTATUS_GOOD;
  }
}

std::string serial_of(X509* leaf) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(leaf);
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(serial)),
          static_cast<std::size_t>(ASN1_STRING_length(serial))};
}

}  // namespace

std::string make_ocsp_response(X509* leaf, const cert_and_key& ca, ocsp_status status) {
  basic_ptr basic(OCSP_BASICRESP_new());
  certid_ptr id(OCSP_cert_to_id(EVP_sha1(), leaf, ca.cert.get()));  // SHA-1 CertIDs: what every client matches
  time_ptr this_update(X509_gmtime_adj(nullptr, 0));
  time_ptr next_update(X509_gmtime_adj(nullptr, valid_s));
  time_ptr revoked_at(X509_gmtime_adj(nullptr, -3600));
  if (!basic || !id || !this_update || !next_update || !revoked_at)
    throw std::runtime_error("cannot build an OCSP response");
  bool revoked = status == ocsp_status::revoked;
  if (!OCSP_basic_add1_status(basic.get(), id.get(), status_code(status),
                              revoked ? OCSP_REVOKED_STATUS_UNSPECIFIED : -1, revoked ? revoked_at.get() : nullptr,
                              this_update.get(), next_update.get()) ||
      !OCSP_basic_sign(basic.get(), ca.cert.get(), ca.key.get(), EVP_sha256(), nullptr, 0))
    throw std::runtime_error("cannot sign an OCSP response with the lab CA");
  response_ptr response(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  unsigned char* der = nullptr;
  int n = response ? i2d_OCSP_RESPONSE(response.get(), &der) : 0;
  if (n <= 0) throw std::runtime_error("cannot encode an OCSP response");
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::shared_ptr<const std::string> ocsp_responder::response(X509* leaf, ocsp_status status) {
  if (status == ocsp_status::none || !leaf) return nullptr;
  auto key = std::make_pair(serial_of(leaf), status);
  auto now = now_s();
  std::lock_guard lock(mutex_);
  auto& m = made_[key];
  if (m.at_s != 0 && now - m.at_s < remake_after_s) return m.der;
  m.at_s = now;
  if (X509_check_issued(ca_.cert.get(), leaf) != X509_V_OK) {
    ERR_clear_error();
    m.der = nullptr;  // not the lab CA's to vouch for
    return nullptr;
  }
  m.der = std::make_shared<const std::string>(make_ocsp_response(leaf, ca_, status));
  return m.der;
}

}  // namespace fortisim::pki
