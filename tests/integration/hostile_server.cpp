#include "hostile_server.hpp"

#include "pki/lab.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

namespace fortisim::test {

hostile_server::hostile_server(std::string body) : body_(std::move(body)) {
  auto paths = pki::ensure_lab_certs(folder_.path());
  ca_ = paths.ca_cert;
  cert_ = paths.server_cert;
  key_ = paths.server_key;
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(listen_fd_, 16) == 0);
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { serve(); });
}

hostile_server::~hostile_server() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

void hostile_server::serve() {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  SSL_CTX_use_certificate_chain_file(ctx.get(), cert_.c_str());
  SSL_CTX_use_PrivateKey_file(ctx.get(), key_.c_str(), SSL_FILETYPE_PEM);
  std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                      std::to_string(body_.size()) + "\r\n\r\n" + body_;
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;  // wakes to see stop_ at least every 50 ms
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{5, 0};  // a client that stalls holds this thread 5 s at most
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
    SSL_set_fd(ssl.get(), fd);
    if (SSL_accept(ssl.get()) == 1) {
      std::string got;  // the request's headers and its body (Content-Length), then the reply
      char buf[4096];
      for (int n; got.find("\r\n\r\n") == std::string::npos && (n = SSL_read(ssl.get(), buf, sizeof buf)) > 0;)
        got.append(buf, static_cast<std::size_t>(n));
      auto head = got.find("\r\n\r\n");
      auto cl = got.find("Content-Length: ");
      std::size_t want = cl == std::string::npos ? 0 : std::stoul(got.substr(cl + 16));
      for (int n;
           head != std::string::npos && got.size() < head + 4 + want && (n = SSL_read(ssl.get(), buf, sizeof buf)) > 0;)
        got.append(buf, static_cast<std::size_t>(n));
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(got);
      }
      for (std::size_t sent = 0; sent < reply.size();) {
        int n = SSL_write(ssl.get(), reply.data() + sent,
                          static_cast<int>(std::min<std::size_t>(reply.size() - sent, 1 << 20)));
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      SSL_shutdown(ssl.get());
    }
    ::close(fd);
  }
}

}  // namespace fortisim::test
