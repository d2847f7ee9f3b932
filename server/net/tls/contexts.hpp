#pragma once
// The server's TLS side, chosen per connection: a leaf per Fortinet host name picked by SNI (the
// fallback, which names every lab host, for clients that send none or another name), OCSP staples
// as the scenario says, and an optional client-certificate request. With --cert/--key one chain
// serves every name and nothing is stapled (there is no lab CA key to sign with).

#include "pki/certs.hpp"
#include "pki/lab.hpp"
#include "pki/ocsp.hpp"
#include "server/core/engine/engine.hpp"
#include "server/net/io/config.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace fortisim::net {

/// What one connection's TLS callbacks learn and heed. It lives in the session's coroutine frame,
/// tied to the connection's SSL object by `attach`.
struct tls_connection {
  std::string sni;            ///< the ClientHello's server name, as the SNI callback saw it
  bool keep_context = false;  ///< a TLS fault set this connection's certificate or versions: no SNI switch
  /// The status the stapled OCSP response gave ("good", "revoked", "unknown"), "" when none was
  /// stapled: a client that checks it and ends the connection says nothing else of why.
  std::string_view stapled;
};
/// Ties `c` to `ssl` for the callbacks; `c` must outlive the handshake.
void attach(SSL* ssl, tls_connection* c);
/// Marks `ssl`'s connection so that the SNI callback leaves its certificate and settings alone (the
/// tls_cert and tls_version faults act on the SSL object before the handshake; the SNI callback
/// runs during it and would otherwise replace them).
void keep_context(SSL* ssl);

/// The TLS options of `fortisim serve`, parsed once.
struct tls_options {
  std::optional<std::string> cert, key;       ///< --cert/--key: one chain and key for every name
  std::string data_dir;                       ///< the lab CA and leaves (certs_lab.hpp)
  pki::key_type type = pki::key_type::ecdsa;  ///< --key-type: the lab leaves' keys
  client_cert_mode client_cert = client_cert_mode::off;
};

/// Configures the fallback context (Asio's, which every connection starts from) and one context
/// per Fortinet host name, each made when a client first names its host; the callbacks switch,
/// staple and accept client certificates.
class tls_contexts {
 public:
  /// Loads the certificates into `fallback` and the host contexts. Throws startup_error (one line
  /// naming the file and the fix). The engine is asked, per handshake, for the OCSP settings.
  tls_contexts(SSL_CTX* fallback, const tls_options& o, std::shared_ptr<core::engine> engine);
  tls_contexts(const tls_contexts&) = delete;
  tls_contexts& operator=(const tls_contexts&) = delete;

  /// The lab CA's certificate file ("" with --cert).
  const std::string& ca_path() const { return ca_path_; }
  /// The lab CA's certificate as PEM, as loaded at start ("" with --cert).
  const std::string& ca_pem() const { return ca_pem_; }
  /// The lab CA's SHA-256 fingerprint, "3A:7F:…" as GET /ca?format=sha256 gives it ("" with
  /// --cert: the issuer of a user's chain is not ours to name).
  const std::string& ca_sha256() const { return ca_sha256_; }
  /// What is served, for the start-up log's "tls" event (logged once the server has started, so
  /// that a start-up failure stays one line): the CA (its file and fingerprint) or --cert, the
  /// key type, the number of leaves, --client-cert and what is stapled.
  const protocol::json& summary() const { return summary_; }
  /// The context of the host `name` (SNI), or null for the fallback's. A host's leaf is read, and
  /// its context made, when a client first names it (a start reads no host leaf): if that fails,
  /// the host is served the fallback (tried again 10 s later or more), and a "tls" notice says why.
  SSL_CTX* context_for(std::string_view name);
  /// The DER OCSP response to staple on `ssl`, or null for none; `status` gets its word.
  std::shared_ptr<const std::string> staple(SSL* ssl, std::string_view& status);

 private:
  struct context_free {
    void operator()(SSL_CTX* ctx) const;
  };
  /// One Fortinet host's leaf and context, made on the first handshake that names the host. One
  /// that could not be made is tried again by a handshake 10 s later or more (the fallback until then).
  struct host_context {
    pki::host_leaf leaf;
    std::mutex making;                            ///< held while it is made: the others wait for it
    std::atomic<SSL_CTX*> ready{nullptr};         ///< ctx, once made
    std::unique_ptr<SSL_CTX, context_free> ctx;   ///< under `making`
    std::chrono::steady_clock::time_point retry;  ///< under `making`: after a failure, not before
  };
  void configure(SSL_CTX* ctx);
  void load_lab();
  void make_context(host_context& h);
  SSL_CTX* fallback_;  ///< Asio's, owned by the server
  tls_options options_;
  std::string ca_path_, ca_pem_, ca_sha256_;
  protocol::json summary_;
  std::optional<pki::served_folder> served_;  ///< the data folder marked as served (lab certificates)
  pki::lab_cert_paths lab_;                   ///< the CA and the fallback as loaded; the host leaves' files
  std::deque<host_context> hosts_;            ///< one per Fortinet name (a deque: a once_flag never moves)
  std::optional<pki::ocsp_responder> ocsp_;   ///< none with --cert
  std::shared_ptr<core::engine> engine_;
};

}  // namespace fortisim::net
