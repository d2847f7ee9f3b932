// GET /ca: the lab CA certificate clients should trust, as PEM (pebble serves its roots the same
// way); ?format=der: the same in DER (a .cer file); ?format=sha256: its SHA-256 fingerprint as
// FortiOS and browsers show it. Any other parameter is refused (400), as every control call is
// strict.
#include "pki/certs.hpp"
#include "server/core/control/call.hpp"

namespace fortisim::core::control {

control_reply ca_certificate(call& c) {
  c.only_query({"format"});
  auto format = c.query_text("format").value_or("pem");
  if (format != "pem" && format != "der" && format != "sha256") throw bad_call("format must be pem, der or sha256");
  auto pem = c.server.lab_ca_pem();
  if (pem.empty()) throw bad_call("no lab CA: fortisim serves the certificate given with --cert", 404);
  control_reply r{200, std::move(pem)};
  r.content_type = "application/x-pem-file";
  if (format == "pem") return r;
  auto cert = pki::certificate_of_pem(r.body);
  if (!cert) throw bad_call("the lab CA is not a PEM certificate", 500);
  if (format == "der") {
    r.body = pki::der_of(cert.get());
    r.content_type = "application/pkix-cert";
  } else {
    r.body = pki::sha256_fingerprint(cert.get()) + "\n";
    r.content_type = "text/plain; charset=utf-8";
  }
  return r;
}

}  // namespace fortisim::core::control
