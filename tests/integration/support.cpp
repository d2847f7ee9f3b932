#include "support.hpp"
#include "../support/temp_folder.hpp"

#include "pki/lab.hpp"

#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fortisim::test {

namespace {

/// A temporary folder with the lab certificates in it.
struct lab_data : temp_folder {
  lab_data() : temp_folder("test") { pki::ensure_lab_certs(path()); }
};

}  // namespace

const std::string& test_data_dir() {
  static const lab_data dir;  // made when first asked for, removed when the test program exits
  return dir.path();
}

test_server::test_server(const std::string& scenario_json, int threads, std::optional<std::string> state_path,
                         std::function<void(net::server_config&)> configure) {
  core::engine_options opts;
  opts.state_path = std::move(state_path);
  engine_ = std::make_shared<core::engine>(scenario_from(scenario_json), opts);
  net::server_config cfg;
  cfg.listen = "127.0.0.1:0";
  cfg.admin = "127.0.0.1:0";
  cfg.data_dir = test_data_dir();
  cfg.threads = threads;
  cfg.idle_timeout_ms = 5000;
  cfg.handshake_timeout_ms = 1500;
  if (configure) configure(cfg);
  server_ = std::make_unique<net::server>(cfg, engine_);
  server_->start();
}

test_server::~test_server() { server_.reset(); }

std::uint16_t test_server::admin_port() const {
  auto a = server_->admin_address();
  return static_cast<std::uint16_t>(std::stoi(a->substr(a->rfind(':') + 1)));
}

const char* to_string(outcome::kind k) {
  switch (k) {
    case outcome::kind::ok: return "ok";
    case outcome::kind::refused: return "refused";
    case outcome::kind::reset: return "reset";
    case outcome::kind::eof: return "eof";
    case outcome::kind::timeout: return "timeout";
    case outcome::kind::tls_error: return "tls_error";
  }
  return "?";
}

std::uint16_t bind_loopback(int fd) {
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

std::uint16_t released_port(int socket_type) {
  int fd = ::socket(AF_INET, socket_type | SOCK_CLOEXEC, 0);
  auto port = bind_loopback(fd);
  ::close(fd);
  return port;
}

int connect_loopback(std::uint16_t port, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  int err = 0;
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
      err = ETIMEDOUT;
    else {
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
  } else if (rc != 0) {
    err = errno;
  }
  if (err != 0) {
    ::close(fd);
    return -err;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

std::string ssl_reason() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out;
}

namespace {

outcome::kind classify_errno(int e) {
  if (e == ECONNRESET || e == EPIPE) return outcome::kind::reset;
  if (e == EAGAIN || e == EWOULDBLOCK || e == ETIMEDOUT) return outcome::kind::timeout;
  if (e == ECONNREFUSED) return outcome::kind::refused;
  return outcome::kind::eof;
}

/// Parses a complete response out of `raw`; false if it is not complete yet.
bool parse_response(const std::string& raw, outcome& o) {
  auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::istringstream head(raw.substr(0, end));
  std::string line;
  std::getline(head, line);
  if (line.size() < 12) return false;
  o.status = std::stoi(line.substr(9, 3));
  o.headers.clear();
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    o.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  std::size_t length = o.headers.contains("content-length") ? std::stoul(o.headers["content-length"]) : 0;
  if (raw.size() < end + 4 + length) return false;
  o.body = raw.substr(end + 4, length);
  return true;
}

}  // namespace

std::optional<long> ms_until_closed(std::uint16_t port, std::chrono::milliseconds within) {
  auto start = std::chrono::steady_clock::now();
  int fd = connect_loopback(port, within);
  if (fd < 0) return std::nullopt;
  char c;
  ssize_t n = ::recv(fd, &c, 1, 0);  // bounded by SO_RCVTIMEO = within
  int e = errno;
  ::close(fd);
  if (n < 0 && (e == EAGAIN || e == EWOULDBLOCK)) return std::nullopt;
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
}

int tcp_connect_errno(std::uint16_t port) {
  int fd = connect_loopback(port, std::chrono::milliseconds(2000));
  if (fd < 0) return -fd;
  ::close(fd);
  return 0;
}

client::client(std::uint16_t port, client_options opts) : opts_(std::move(opts)) {
  fd_ = connect_loopback(port, opts_.timeout);
  if (fd_ < 0) {
    connect_.what = classify_errno(-fd_);
    connect_.detail = std::strerror(-fd_);
    return;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ssl_ctx_ = ctx;
  if (opts_.max_tls) SSL_CTX_set_max_proto_version(ctx, opts_.max_tls);
  if (!opts_.ca.empty()) {
    SSL_CTX_load_verify_locations(ctx, opts_.ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  SSL* ssl = SSL_new(ctx);
  ssl_ = ssl;
  if (!opts_.sni.empty()) SSL_set_tlsext_host_name(ssl, opts_.sni.c_str());
  if (!opts_.ca.empty()) SSL_set1_host(ssl, (opts_.verify_name.empty() ? opts_.sni : opts_.verify_name).c_str());
  SSL_set_fd(ssl, fd_);
  ERR_clear_error();
  errno = 0;
  int rc = SSL_connect(ssl);
  if (rc != 1) {
    int err = SSL_get_error(ssl, rc);
    int saved = errno;
    connect_.detail = ssl_reason();
    connect_.verify_result = SSL_get_verify_result(ssl);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
      connect_.what = outcome::kind::timeout;  // SO_RCVTIMEO
    else if (err == SSL_ERROR_SYSCALL && saved != 0)
      connect_.what = classify_errno(saved);
    else if (err == SSL_ERROR_SYSCALL)
      connect_.what = connect_.detail.empty() ? outcome::kind::eof : outcome::kind::tls_error;
    else
      connect_.what = outcome::kind::tls_error;
    if (connect_.detail.empty()) connect_.detail = std::strerror(saved);
    return;
  }
  connect_.tls_version = SSL_get_version(ssl);
  connect_.verify_result = SSL_get_verify_result(ssl);
}

client::~client() {
  if (ssl_) SSL_free(static_cast<SSL*>(ssl_));
  if (ssl_ctx_) SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
  if (fd_ >= 0) ::close(fd_);
}

outcome client::request(const std::string& method, const std::string& target, const std::string& body,
                        const std::string& extra_headers) {
  std::string req =
      method + " " + target + " HTTP/1.1\r\nHost: " + opts_.sni +
      "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
      extra_headers + "\r\n" + body;
  return raw_exchange(req);
}

outcome client::raw_exchange(const std::string& bytes) {
  if (!ok()) return connect_;
  outcome o;
  auto* ssl = static_cast<SSL*>(ssl_);
  if (!bytes.empty() && SSL_write(ssl, bytes.data(), static_cast<int>(bytes.size())) <= 0) {
    o.what = classify_errno(errno);
    o.detail = ssl_reason();
    return o;
  }
  char buf[16384];
  for (;;) {
    ERR_clear_error();
    errno = 0;
    int n = SSL_read(ssl, buf, sizeof buf);
    if (n > 0) {
      o.raw.append(buf, static_cast<std::size_t>(n));
      if (parse_response(o.raw, o)) return o;
      continue;
    }
    int err = SSL_get_error(ssl, n);
    int saved = errno;
    if (err == SSL_ERROR_ZERO_RETURN)
      o.what = outcome::kind::eof;
    else if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
      o.what = outcome::kind::timeout;  // SO_RCVTIMEO
    else if (err == SSL_ERROR_SYSCALL && saved != 0)
      o.what = classify_errno(saved);
    else
      o.what = outcome::kind::eof;  // EOF without close_notify, or garbage the TLS layer refused
    o.detail = ssl_reason();
    parse_response(o.raw, o);  // what arrived before the end, if anything
    return o;
  }
}

bool client::send_raw(const std::string& bytes) {
  return ok() && SSL_write(static_cast<SSL*>(ssl_), bytes.data(), static_cast<int>(bytes.size())) > 0;
}

bool client::read_at_least(std::size_t n) {
  char buf[16384];
  for (std::size_t got = 0; got < n;) {
    int r = ok() ? SSL_read(static_cast<SSL*>(ssl_), buf, sizeof buf) : 0;
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

outcome post_once(std::uint16_t port, const std::string& body, client_options opts) {
  client c(port, std::move(opts));
  return c.post(body);
}

std::pair<int, std::string> control(std::uint16_t admin_port, const std::string& method, const std::string& target,
                                    const std::string& body) {
  auto r = try_control(admin_port, method, target, body);
  REQUIRE_MESSAGE(r.has_value(), "no complete response from the control API");
  return *r;
}

std::optional<std::pair<int, std::string>> try_control(std::uint16_t admin_port, const std::string& method,
                                                       const std::string& target, const std::string& body) {
  return control_raw(admin_port, method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" +
                                     (body.empty() ? "" : "Content-Type: application/json\r\n") +
                                     "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

std::optional<std::pair<int, std::string>> control_raw(std::uint16_t admin_port, const std::string& req) {
  int fd = connect_loopback(admin_port, std::chrono::milliseconds(5000));
  if (fd < 0) return std::nullopt;
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string raw;
  char buf[16384];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  outcome o;
  if (!parse_response(raw, o)) return std::nullopt;
  return std::pair<int, std::string>{o.status, o.body};
}

control_connection::control_connection(std::uint16_t admin_port) {
  fd_ = connect_loopback(admin_port, std::chrono::milliseconds(5000));
  if (fd_ < 0) fd_ = -1;
}

control_connection::~control_connection() {
  if (fd_ >= 0) ::close(fd_);
}

void control_connection::send(const std::string& method, const std::string& target, const std::string& body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" +
                    (body.empty() ? "" : "Content-Type: application/json\r\n") +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
}

std::optional<std::pair<int, std::string>> control_connection::receive(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto head_end = buffer_.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      auto cl = buffer_.find("Content-Length: ");
      std::size_t length = cl == std::string::npos || cl > head_end ? 0 : std::stoul(buffer_.substr(cl + 16));
      if (buffer_.size() >= head_end + 4 + length) {
        outcome o;
        std::string raw = buffer_.substr(0, head_end + 4 + length);
        buffer_.erase(0, raw.size());
        if (!parse_response(raw, o)) return std::nullopt;
        return std::pair<int, std::string>{o.status, o.body};
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
    char chunk[16384];
    auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return std::nullopt;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::optional<std::pair<int, std::string>> control_connection::call(const std::string& method,
                                                                    const std::string& target, const std::string& body,
                                                                    std::chrono::milliseconds timeout) {
  send(method, target, body);
  return receive(timeout);
}

}  // namespace fortisim::test
