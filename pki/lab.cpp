#include "pki/lab.hpp"

#include "protocol/hosts.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace fortisim::pki {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t leaf_days = 825;
constexpr std::int64_t renew_before_s = 30 * 86400;

/// `text` in a new file beside `path`, named for this process, with its final mode from the first
/// byte (a key is never readable by others, not even for a moment). Throws, leaving nothing, when
/// the disk refuses it.
fs::path write_beside(const fs::path& path, const std::string& text, mode_t mode) {
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
  int error = 0;  // errno of the first step that failed
  auto step = [&](bool done) {
    if (!done && error == 0) error = errno != 0 ? errno : EIO;
  };
  std::size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  step(written == text.size());
  step(::fchmod(fd, mode) == 0);
  step(::close(fd) == 0);
  if (error) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(error));
  }
  return tmp;
}

/// A key and its certificate: both written whole before either replaces the one there, so a disk
/// that refuses one leaves the pair as it was, never a key beside another's certificate.
void write_pair(const fs::path& key, const std::string& key_pem, const fs::path& cert, const std::string& cert_pem) {
  fs::path key_tmp = write_beside(key, key_pem, 0600);
  fs::path cert_tmp;
  try {
    cert_tmp = write_beside(cert, cert_pem, 0644);
  } catch (...) {
    ::unlink(key_tmp.c_str());
    throw;
  }
  if (::rename(key_tmp.c_str(), key.c_str()) != 0 || ::rename(cert_tmp.c_str(), cert.c_str()) != 0) {
    int error = errno;
    ::unlink(key_tmp.c_str());
    ::unlink(cert_tmp.c_str());
    throw std::runtime_error("cannot write " + cert.string() + ": " + std::strerror(error));
  }
}

void write_file(const fs::path& path, const std::string& text, mode_t mode) {
  fs::path tmp = write_beside(path, text, mode);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(error));
  }
}

/// Held while `fortisim certs` or a start makes certificates in a folder: two at once would mix
/// one's CA key with the other's certificate. Waits for the other; nothing when the lock cannot be
/// made (a read-only folder, where nothing is written either).
class making_lock {
 public:
  explicit making_lock(const fs::path& dir)
      : fd_(::open((dir / "certs.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~making_lock() {
    if (fd_ >= 0) ::close(fd_);
  }
  making_lock(const making_lock&) = delete;
  making_lock& operator=(const making_lock&) = delete;

 private:
  int fd_;
};

void make_folder(const fs::path& d) {
  std::error_code ec;
  fs::create_directories(d, ec);
  if (ec) throw std::runtime_error("cannot create the folder " + d.string() + ": " + ec.message());
}

bool names_all(X509* cert, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    bool ip = n.find_first_not_of("0123456789.") == std::string::npos || n.find(':') != std::string::npos;
    if ((ip ? X509_check_ip_asc(cert, n.c_str(), 0) : X509_check_host(cert, n.data(), n.size(), 0, nullptr)) != 1)
      return false;
  }
  return true;
}

/// Whether a leaf's file is at `path`. Something there that is not a regular file, or that cannot
/// be opened (no descriptors left, say), throws std::runtime_error naming it: made anew, a good
/// leaf would be replaced. Opened without waiting: a FIFO would hold the thread until a writer came.
bool leaf_file_there(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return false;
    throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  ::close(fd);
  if (!regular) throw std::runtime_error(path + ": is not a regular file");
  return true;
}

/// The leaf in `cert_path` and `key_path` if it can be served as it is: its key is of `type` and
/// belongs to it, `ca` signed it, it names every one of `names` and is good for 30 days more.
std::optional<cert_and_key> current_leaf(const std::string& cert_path, const std::string& key_path,
                                         const cert_and_key& ca, const std::vector<std::string>& names, key_type type) {
  if (!leaf_file_there(cert_path) || !leaf_file_there(key_path)) return std::nullopt;
  cert_and_key leaf;
  try {
    leaf = load_cert_and_key(cert_path, key_path);
  } catch (const std::runtime_error&) {
    return std::nullopt;  // unreadable: made anew
  }
  std::time_t soon = std::time(nullptr) + renew_before_s;
  bool current = key_type_of(leaf.key.get()) == type && X509_check_private_key(leaf.cert.get(), leaf.key.get()) == 1 &&
                 X509_verify(leaf.cert.get(), X509_get0_pubkey(ca.cert.get())) == 1 &&
                 X509_cmp_time(X509_get0_notAfter(leaf.cert.get()), &soon) > 0 && names_all(leaf.cert.get(), names);
  ERR_clear_error();  // a mismatch leaves OpenSSL errors behind
  return current ? std::optional(std::move(leaf)) : std::nullopt;
}

/// A new leaf for `names`, signed by `ca`, written to `cert_path` and `key_path` when `write`.
cert_and_key new_leaf(const std::string& cert_path, const std::string& key_path, const cert_and_key& ca,
                      const std::vector<std::string>& names, key_type type, bool write = true) {
  auto leaf = make_server_cert(ca, names, -3600, leaf_days * 86400, type);
  if (!write) return leaf;
  write_pair(key_path, leaf.key_pem(), cert_path, leaf.cert_pem() + ca.cert_pem());
  return leaf;
}

/// The leaf for `names`, made unless it is current; `force`: always.
cert_and_key ensure_leaf(const std::string& cert_path, const std::string& key_path, const cert_and_key& ca,
                         const std::vector<std::string>& names, key_type type, bool force) {
  if (!force)
    if (auto leaf = current_leaf(cert_path, key_path, ca, names, type)) return std::move(*leaf);
  return new_leaf(cert_path, key_path, ca, names, type);
}

/// The first certificate of the PEM file at `path`, or null.
std::shared_ptr<X509> certificate_in(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream pem;
  pem << in.rdbuf();
  return in ? certificate_of_pem(pem.str()) : nullptr;
}

/// Whether the folder's CA file still holds `ca` (`fortisim certs --force` replaces it).
bool folder_holds(const std::string& ca_cert_path, const cert_and_key& ca) {
  auto cert = certificate_in(ca_cert_path);
  return cert && X509_cmp(cert.get(), ca.cert.get()) == 0;
}

}  // namespace

served_folder::served_folder(const std::string& dir) {
  fd_ = ::open((fs::path(dir) / "serving.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ >= 0 && ::flock(fd_, LOCK_SH | LOCK_NB) != 0) {
    ::close(fd_);  // only while `certs --force` looks: the mark is a courtesy, never a wait
    fd_ = -1;
  }
}

served_folder::~served_folder() {
  if (fd_ >= 0) ::close(fd_);
}

bool folder_served(const std::string& dir) {
  int fd = ::open((fs::path(dir) / "serving.lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool served = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return served;
}

const std::vector<std::string>& lab_host_names() {
  static const std::vector<std::string> names = [] {
    auto all = protocol::fortinet_host_names();
    all.insert(all.end(), {"localhost", "127.0.0.1", "::1"});
    return all;
  }();
  return names;
}

std::vector<std::string> lab_ca_permitted(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  for (const auto& name : protocol::fortinet_host_names()) {  // "fds1.fortinet.com" -> "fortinet.com"
    auto dot = name.rfind('.', name.rfind('.') - 1);
    auto domain = dot == std::string::npos ? name : name.substr(dot + 1);
    if (std::find(out.begin(), out.end(), domain) == out.end()) out.push_back(domain);
  }
  out.insert(out.end(), {"localhost", "fortisim.invalid", "127.0.0.0/8", "::1"});
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

cert_and_key ensure_lab_ca(const std::string& dir, key_type type, bool force,
                           const std::vector<std::string>& permitted) {
  fs::path d(dir);
  fs::path cert = d / "ca.pem", key = d / "ca-key.pem";
  if (!force && fs::exists(cert) && fs::exists(key)) {
    auto ca = load_cert_and_key(cert.string(), key.string());
    bool pair = X509_check_private_key(ca.cert.get(), ca.key.get()) == 1;
    ERR_clear_error();
    if (!pair)
      throw std::runtime_error(key.string() + " is not the key of " + cert.string() +
                               ": make a new CA with fortisim certs --force (clients must then trust it)");
    return ca;
  }
  make_folder(d);
  auto ca = make_ca("fortisim lab CA", 3650, type, permitted);
  write_pair(key, ca.key_pem(), cert, ca.cert_pem());
  return ca;
}

lab_cert_paths ensure_lab_certs(const std::string& dir, key_type type, bool force,
                                const std::vector<std::string>& permitted, host_leaves hosts) {
  fs::path d(dir);
  fs::path leaves = d / name_of(type);
  lab_cert_paths p;
  p.ca_cert = (d / "ca.pem").string();
  p.ca_key = (d / "ca-key.pem").string();
  p.type = type;
  p.server_cert = (leaves / "server.pem").string();
  p.server_key = (leaves / "server-key.pem").string();
  make_folder(d);
  making_lock one_at_a_time(d);
  p.ca = ensure_lab_ca(dir, type, force, permitted);
  make_folder(leaves / "hosts");
  p.server = ensure_leaf(p.server_cert, p.server_key, p.ca, lab_host_names(), type, force);
  for (const auto& name : protocol::fortinet_host_names()) {
    host_leaf h{
        name, (leaves / "hosts" / (name + ".pem")).string(), (leaves / "hosts" / (name + "-key.pem")).string(), {}};
    if (force || hosts == host_leaves::now || !fs::exists(h.cert) || !fs::exists(h.key))
      h.loaded = ensure_leaf(h.cert, h.key, p.ca, {name}, type, force);
    p.hosts.push_back(std::move(h));
  }
  return p;
}

void ensure_host_leaf(const lab_cert_paths& p, host_leaf& h) {
  if (h.loaded.cert) return;
  if (auto leaf = current_leaf(h.cert, h.key, p.ca, {h.name}, p.type)) {
    h.loaded = std::move(*leaf);
    return;
  }
  // Made anew, signed by the CA this process serves; written only while the folder's CA is that
  // one, so that a server started before `fortisim certs --force` never replaces the new leaves.
  h.loaded = new_leaf(h.cert, h.key, p.ca, {h.name}, p.type, folder_holds(p.ca_cert, p.ca));
}

ca_export export_ca(const std::string& ca_cert_path, const std::string& dir) {
  auto cert = certificate_in(ca_cert_path);
  if (!cert) throw std::runtime_error("cannot read the CA certificate " + ca_cert_path);
  fs::path d(dir);
  make_folder(d);
  ca_export out{(d / "fortisim-ca.pem").string(), (d / "fortisim-ca.cer").string(), (d / "fortisim-ca.sha256").string(),
                sha256_fingerprint(cert.get())};
  write_file(out.pem, cert_and_key{cert, nullptr}.cert_pem(), 0644);
  write_file(out.der, der_of(cert.get()), 0644);
  write_file(out.sha256, out.fingerprint + "\n", 0644);
  return out;
}

std::string default_data_dir() {
  if (const char* d = std::getenv("FORTISIM_DATA"); d && *d) return d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/fortisim";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/fortisim";
  return "./fortisim-data";
}

}  // namespace fortisim::pki
