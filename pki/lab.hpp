#pragma once
// The lab certificates in fortisim's data folder (certs/README.md): the lab CA clients trust, made
// once and kept; for each key type a fallback server certificate naming every lab host, and one
// leaf per Fortinet host name, served by SNI. Everything is generated on the machine.
//
//   ca.pem, ca-key.pem                          the lab CA (kept unless --force)
//   ecdsa/server.pem, ecdsa/server-key.pem      the fallback leaf (then the CA), every name
//   ecdsa/hosts/<name>.pem, <name>-key.pem      one leaf per Fortinet name, that name only
//   rsa/…                                       the same with RSA 2048 keys (--key-type rsa)

#include "pki/certs.hpp"

#include <string>
#include <vector>

namespace fortisim::pki {

/// The host names (and addresses) the fallback server certificate carries: every Fortinet name
/// (protocol::fortinet_host_names()), then localhost, 127.0.0.1 and ::1.
const std::vector<std::string>& lab_host_names();

/// One host's own leaf: its name, certificate chain (leaf then CA) and key files.
struct host_leaf {
  std::string name;     ///< e.g. "fds1.fortinet.com"
  std::string cert;     ///< <type>/hosts/fds1.fortinet.com.pem
  std::string key;      ///< <type>/hosts/fds1.fortinet.com-key.pem, mode 0600
  cert_and_key loaded;  ///< the leaf itself, as checked or made; empty until read (host_leaves::on_first_use)
};

/// When `ensure_lab_certs` reads the host leaves whose files are there.
enum class host_leaves {
  now,           ///< each is read and checked (made anew if stale) before it returns
  on_first_use,  ///< each is left unread, for `ensure_host_leaf` when a client first names its host
};

/// Where `ensure_lab_certs` keeps its files.
struct lab_cert_paths {
  std::string ca_cert;  ///< ca.pem: import this into a client's trust store
  std::string ca_key;   ///< ca-key.pem, mode 0600: signs the leaves and the OCSP responses
  key_type type = key_type::ecdsa;
  std::string server_cert;       ///< <type>/server.pem: the fallback leaf then the CA
  std::string server_key;        ///< <type>/server-key.pem, mode 0600
  cert_and_key ca, server;       ///< as loaded or made
  std::vector<host_leaf> hosts;  ///< one per Fortinet name, in protocol::fortinet_host_names() order
};

/// What a new lab CA permits (its X.509 name constraints, make_ca): the domains of the Fortinet
/// names (fortinet.com, fortinet.net, fortiguard.net), localhost, fortisim.invalid (the name of the
/// `tls_cert` `wrong_name` fault's leaf, so that it fails as a wrong name, not as a forbidden one),
/// and the loopback addresses; then `extra` (`fortisim certs --ca-permit`).
std::vector<std::string> lab_ca_permitted(const std::vector<std::string>& extra = {});

/// Loads the lab CA from `dir`, or makes it (with a key of `type`, permitting `permitted`, none
/// when empty) when it is missing or `force` is set. An existing CA is never replaced otherwise:
/// clients already trust it.
cert_and_key ensure_lab_ca(const std::string& dir, key_type type = key_type::ecdsa, bool force = false,
                           const std::vector<std::string>& permitted = lab_ca_permitted());

/// Makes whatever of the lab CA and the leaves of `type` is missing in `dir`, or stale: a leaf that
/// lacks a name, is not signed by the CA, has a key of another type or expires within 30 days is
/// made anew, signed by the CA it already has. `force` makes everything anew, the CA first. Keys
/// are written with mode 0600 from the first byte. Throws std::runtime_error naming the file.
/// With host_leaves::on_first_use, a host leaf whose two files are there is not read (a leaf that is
/// missing, and every leaf with `force`, is still made now): a start reads four files, not twenty.
lab_cert_paths ensure_lab_certs(const std::string& dir, key_type type = key_type::ecdsa, bool force = false,
                                const std::vector<std::string>& permitted = lab_ca_permitted(),
                                host_leaves hosts = host_leaves::now);

/// Reads `h`'s leaf if `ensure_lab_certs` left it unread, and makes it anew, signed by `p.ca`, if
/// it is stale as above: written to its files unless the folder's CA is no longer `p.ca` (after
/// `fortisim certs --force`), then kept in memory only. A file there that cannot be opened, or is
/// not a regular file (a FIFO is never waited on), is an error, never a stale leaf (so too in
/// `ensure_lab_certs`). Throws std::runtime_error naming the file.
void ensure_host_leaf(const lab_cert_paths& p, host_leaf& h);

/// Marks `dir` as served while it lives: a shared lock on `dir/serving.lock`, which any number of
/// servers hold at once and the kernel lets go when a server exits, however it exits. Nothing when
/// the file cannot be made (a read-only folder): the mark only lets `certs --force` warn.
class served_folder {
 public:
  explicit served_folder(const std::string& dir);
  ~served_folder();
  served_folder(const served_folder&) = delete;
  served_folder& operator=(const served_folder&) = delete;

 private:
  int fd_ = -1;
};

/// Whether a server marks `dir` as served (served_folder): it signs with the CA it started with,
/// whatever `fortisim certs --force` makes there.
bool folder_served(const std::string& dir);

/// The lab CA in the forms clients import it in, as written by `export_ca`.
struct ca_export {
  std::string pem;          ///< DIR/fortisim-ca.pem
  std::string der;          ///< DIR/fortisim-ca.cer (DER: Windows, FortiOS's GUI, browsers)
  std::string sha256;       ///< DIR/fortisim-ca.sha256: the fingerprint and a newline
  std::string fingerprint;  ///< "3A:7F:…", as FortiOS and browsers show it
};
/// Writes the CA of `ca_cert_path` into `dir` (made if missing) as PEM, DER and its SHA-256
/// fingerprint. Throws std::runtime_error naming the file.
ca_export export_ca(const std::string& ca_cert_path, const std::string& dir);

/// The default data folder: $FORTISIM_DATA, else $XDG_DATA_HOME/fortisim, else ~/.local/share/fortisim.
std::string default_data_dir();

}  // namespace fortisim::pki
