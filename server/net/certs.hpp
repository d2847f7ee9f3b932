#pragma once
// Lab certificates, made with OpenSSL's API: a lab CA and an ECDSA P-256 server certificate whose
// names cover every Fortinet host a FortiGate or the app may ask for (docs/protocol.md §6), plus
// localhost. Also the deliberately bad certificates of the tls_cert fault. None of this is, or
// imitates, a Fortinet certificate: the subject says "fortisim lab".

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;

namespace fortisim::net {

/// The host names (and addresses) the lab server certificate carries: every Fortinet name
/// (protocol::fortinet_host_names()), then localhost, 127.0.0.1 and ::1.
const std::vector<std::string>& lab_host_names();

/// A certificate and its private key, in memory.
struct cert_and_key {
  std::shared_ptr<X509> cert;
  std::shared_ptr<EVP_PKEY> key;
  std::string cert_pem() const;
  std::string key_pem() const;
};

/// Where `ensure_lab_certs` keeps its files.
struct lab_cert_paths {
  std::string ca_cert;      ///< ca.pem: import this into a client's trust store
  std::string server_cert;  ///< server.pem: the server certificate then the CA
  std::string server_key;   ///< server-key.pem, mode 0600
};

/// Makes a new ECDSA P-256 key.
std::shared_ptr<EVP_PKEY> make_p256_key();
/// A self-signed CA certificate valid for `days`.
cert_and_key make_ca(const std::string& common_name, int days);
/// A server certificate for `names` (DNS names or IP addresses), signed by `issuer`, valid
/// from `not_before_s` to `not_after_s` seconds relative to now.
cert_and_key make_server_cert(const cert_and_key& issuer, const std::vector<std::string>& names,
                              std::int64_t not_before_s, std::int64_t not_after_s);

/// Creates the lab CA and server certificate in `dir` unless they are already there; keys are
/// written with mode 0600. Throws std::runtime_error naming the file on failure.
lab_cert_paths ensure_lab_certs(const std::string& dir, bool force = false);
/// Loads a PEM certificate's CA from disk (for signing fault certificates).
cert_and_key load_cert_and_key(const std::string& cert_path, const std::string& key_path);

/// The default data folder: $FORTISIM_DATA, else $XDG_DATA_HOME/fortisim, else ~/.local/share/fortisim.
std::string default_data_dir();

}  // namespace fortisim::net
