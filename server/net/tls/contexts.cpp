#include "server/net/tls/contexts.hpp"

#include "pki/lab.hpp"
#include "protocol/hosts.hpp"
#include "server/net/io/config.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <filesystem>

namespace fortisim::net {

namespace {

int connection_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

tls_connection* connection_of(SSL* ssl) {
  return static_cast<tls_connection*>(SSL_get_ex_data(ssl, connection_index()));
}

std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown reason";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

/// A lab must see what a device presents, not refuse it: every client certificate is accepted.
int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

/// The ClientHello's server name: remembered for the journal, and the host's own leaf served
/// (SSL_set_SSL_CTX swaps the certificate; the session, verify mode and options stay).
int on_server_name(SSL* ssl, int*, void* arg) try {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  tls_connection* c = connection_of(ssl);
  if (c && name) c->sni = name;
  if (!name || (c && c->keep_context)) return SSL_TLSEXT_ERR_OK;
  if (SSL_CTX* ctx = static_cast<tls_contexts*>(arg)->context_for(name)) SSL_set_SSL_CTX(ssl, ctx);
  return SSL_TLSEXT_ERR_OK;  // an unknown name gets the fallback, which names every lab host
} catch (...) {              // never through OpenSSL's C frames (out of memory): the fallback
  return SSL_TLSEXT_ERR_OK;
}

/// A client asked for the certificate's status (status_request): staple the cached response.
int on_status_request(SSL* ssl, void* arg) try {
  std::string_view status;
  auto der = static_cast<tls_contexts*>(arg)->staple(ssl, status);
  if (!der) return SSL_TLSEXT_ERR_NOACK;
  if (tls_connection* c = connection_of(ssl)) c->stapled = status;
  auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(der->data(), der->size()));
  if (!copy) return SSL_TLSEXT_ERR_NOACK;
  SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(der->size()));  // OpenSSL frees it
  return SSL_TLSEXT_ERR_OK;
} catch (...) {  // never through OpenSSL's C frames (out of memory): nothing stapled
  return SSL_TLSEXT_ERR_NOACK;
}

void use_chain(SSL_CTX* ctx, const std::string& cert, const std::string& key) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
    throw startup_error("cannot use the certificate " + cert + ": " + openssl_reason() +
                        "; give a PEM certificate (chain) with --cert");
  auto pkey = pki::read_private_key(key, SSL_CTX_get0_certificate(ctx));
  if (!pkey || SSL_CTX_use_PrivateKey(ctx, pkey.get()) != 1)
    throw startup_error("cannot use the private key " + key + ": " + openssl_reason() +
                        "; give an unencrypted PEM key readable by fortisim with --key");
  if (SSL_CTX_check_private_key(ctx) != 1)
    throw startup_error("the key " + key + " does not belong to the certificate " + cert);
}

/// A lab leaf as ensure_lab_certs loaded or made it, with the CA after it (no file read again).
void use_leaf(SSL_CTX* ctx, const pki::cert_and_key& leaf, const pki::cert_and_key& ca, const std::string& file) {
  if (SSL_CTX_use_certificate(ctx, leaf.cert.get()) != 1 || SSL_CTX_add1_chain_cert(ctx, ca.cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, leaf.key.get()) != 1)
    throw startup_error("cannot use the lab certificate " + file + ": " + openssl_reason());
}

std::string_view mode_name(client_cert_mode m) {
  return m == client_cert_mode::request ? "request" : m == client_cert_mode::require ? "require" : "off";
}

}  // namespace

void attach(SSL* ssl, tls_connection* c) { SSL_set_ex_data(ssl, connection_index(), c); }

void keep_context(SSL* ssl) {
  if (tls_connection* c = connection_of(ssl)) c->keep_context = true;
}

void tls_contexts::context_free::operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }

tls_contexts::tls_contexts(SSL_CTX* fallback, const tls_options& o, std::shared_ptr<core::engine> engine)
    : fallback_(fallback), options_(o), engine_(std::move(engine)) {
  if (o.cert.has_value() != o.key.has_value())
    throw startup_error("--cert and --key go together: give both, or neither to use the lab CA's certificates");
  configure(fallback_);
  SSL_CTX_set_tlsext_servername_callback(fallback_, on_server_name);
  SSL_CTX_set_tlsext_servername_arg(fallback_, this);
  if (o.cert) {
    use_chain(fallback_, *o.cert, *o.key);
    summary_ = {
        {"certificate", *o.cert},
        {"client_cert", mode_name(o.client_cert)},
        {"ocsp", "off: the chain of --cert is served, and fortisim has no CA key to sign OCSP responses for it"}};
    return;
  }
  load_lab();
  summary_ = {{"ca", ca_path_},
              {"ca_sha256", ca_sha256_},
              {"key_type", pki::name_of(o.type)},
              {"leaves", hosts_.size() + 1},
              {"client_cert", mode_name(o.client_cert)},
              {"ocsp", "stapled as the scenario says (tls.ocsp, default good)"}};
}

void tls_contexts::load_lab() {
  try {
    std::error_code ec;  // a folder that cannot be made is named by ensure_lab_certs
    std::filesystem::create_directories(options_.data_dir, ec);
    served_.emplace(options_.data_dir);
    lab_ = pki::ensure_lab_certs(options_.data_dir, options_.type, false, pki::lab_ca_permitted(),
                                 pki::host_leaves::on_first_use);
    ocsp_.emplace(lab_.ca);
  } catch (const std::exception& ex) {
    throw startup_error(std::string("cannot prepare the lab certificates: ") + ex.what() +
                        "; pass --data DIR with a writable folder, or --cert and --key");
  }
  ca_path_ = lab_.ca_cert;
  ca_pem_ = lab_.ca.cert_pem();
  ca_sha256_ = pki::sha256_fingerprint(lab_.ca.cert.get());
  use_leaf(fallback_, lab_.server, lab_.ca, lab_.server_cert);
  for (auto& leaf : lab_.hosts) hosts_.emplace_back().leaf = std::move(leaf);
  lab_.hosts.clear();
}

void tls_contexts::make_context(host_context& h) {
  try {
    pki::ensure_host_leaf(lab_, h.leaf);
    std::unique_ptr<SSL_CTX, context_free> ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) throw std::runtime_error("cannot make a TLS context: " + openssl_reason());
    configure(ctx.get());
    use_leaf(ctx.get(), h.leaf.loaded, lab_.ca, h.leaf.cert);
    h.ctx = std::move(ctx);
    h.ready.store(h.ctx.get(), std::memory_order_release);
  } catch (const std::exception& e) {  // the fallback names this host too
    h.retry = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    engine_->notice("tls", {{"what",
                             "the host's own leaf cannot be served; it gets the fallback, which names it too, "
                             "and a handshake 10 s later or more tries again"},
                            {"host", h.leaf.name},
                            {"error", e.what()}});
  }
  ERR_clear_error();  // a damaged file's decoding errors stay out of this handshake's
}

void tls_contexts::configure(SSL_CTX* ctx) {
  const tls_options& o = options_;
  // TLS 1.2 and 1.3, the server's preference, session resumption (OpenSSL's server cache).
  SSL_CTX_set_options(ctx, SSL_OP_ALL | SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // An idle connection keeps no TLS record buffers (about 34 KiB each): 1,000 idle connections stay small.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  // One session ID context for every host: a session resumes whichever leaf it began with, and a
  // session with a client certificate may resume at all (OpenSSL refuses without one).
  static constexpr unsigned char session_context[] = "fortisim";
  SSL_CTX_set_session_id_context(ctx, session_context, sizeof session_context - 1);
  if (o.client_cert != client_cert_mode::off)
    SSL_CTX_set_verify(
        ctx, SSL_VERIFY_PEER | (o.client_cert == client_cert_mode::require ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
        accept_any_certificate);
  SSL_CTX_set_tlsext_status_cb(ctx, on_status_request);
  SSL_CTX_set_tlsext_status_arg(ctx, this);
}

SSL_CTX* tls_contexts::context_for(std::string_view name) {
  for (auto& h : hosts_)
    if (protocol::same_host_name(h.leaf.name, name)) {
      if (SSL_CTX* ctx = h.ready.load(std::memory_order_acquire)) return ctx;
      std::lock_guard lock(h.making);
      if (!h.ctx && std::chrono::steady_clock::now() >= h.retry) make_context(h);
      return h.ctx.get();
    }
  return nullptr;
}

namespace {

/// The scenario's word for a host's OCSP status, in the PKI's terms.
pki::ocsp_status pki_status(core::ocsp_status s) {
  switch (s) {
    case core::ocsp_status::good: return pki::ocsp_status::good;
    case core::ocsp_status::revoked: return pki::ocsp_status::revoked;
    case core::ocsp_status::unknown: return pki::ocsp_status::unknown;
    case core::ocsp_status::none: break;
  }
  return pki::ocsp_status::none;
}

}  // namespace

std::shared_ptr<const std::string> tls_contexts::staple(SSL* ssl, std::string_view& word) {
  if (!ocsp_) return nullptr;
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  auto status = engine_->current_scenario()->tls.ocsp_for(name ? name : "");
  word = status == core::ocsp_status::revoked ? "revoked" : status == core::ocsp_status::unknown ? "unknown" : "good";
  try {
    return ocsp_->response(SSL_get_certificate(ssl), pki_status(status));
  } catch (const std::exception& e) {  // never through OpenSSL's C frames: this handshake goes without
    engine_->notice("tls", {{"what", "no OCSP response stapled"}, {"error", e.what()}});
    return nullptr;
  }
}

}  // namespace fortisim::net
