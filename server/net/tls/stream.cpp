#include "server/net/tls/stream.hpp"

#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/socket.h>

namespace fortisim::net {

namespace {

/// What one read takes from the socket when it already holds more.
constexpr std::size_t read_chunk = 64 * 1024;

/// Gives a string's storage back when it has grown past what an idle connection should keep.
void trim(std::string& s) {
  s.clear();
  if (s.capacity() > tls_stream::read_room) std::string().swap(s);
}

long bio_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

}  // namespace

BIO_METHOD* tls_stream::bio_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "fortisim buffers");
    BIO_meth_set_read(m, &buffers::read);
    BIO_meth_set_write(m, &buffers::write);
    BIO_meth_set_ctrl(m, &bio_ctrl);
    return m;
  }();
  return method;
}

int tls_stream::buffers::read(BIO* bio, char* data, int size) {
  auto& b = *static_cast<buffers*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  std::size_t left = b.in.size() - b.in_pos;
  if (left == 0) {
    if (b.eof) return 0;
    BIO_set_retry_read(bio);
    return -1;
  }
  std::size_t n = std::min(left, static_cast<std::size_t>(size));
  std::memcpy(data, b.in.data() + b.in_pos, n);
  b.in_pos += n;
  if (b.in_pos == b.in.size()) {
    trim(b.in);
    b.in_pos = 0;
  }
  return static_cast<int>(n);
}

int tls_stream::buffers::write(BIO* bio, const char* data, int size) {
  auto* io = static_cast<buffers*>(BIO_get_data(bio));
  io->out.append(data, static_cast<std::size_t>(size));
  io->sealed += static_cast<std::size_t>(size);
  return size;
}

tls_stream::tls_stream(tcp_socket&& socket, ssl::context& ctx)
    : tcp_(std::move(socket)), io_(std::make_unique<buffers>()), ssl_(SSL_new(ctx.native_handle())) {
  if (!ssl_) throw boost::system::system_error(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category());
  // The gathered write's buffer is thread_local: a retried write may come from another address.
  SSL_set_mode(ssl_.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  BIO* bio = BIO_new(bio_method());
  BIO_set_data(bio, io_.get());
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_.get(), bio, bio);
}

int tls_stream::call(op& o) {
  SSL* s = ssl_.get();
  ERR_clear_error();
  int r = 1;
  switch (o.what) {
    case kind::handshake: r = SSL_do_handshake(s); break;
    case kind::shutdown:
      r = SSL_shutdown(s);
      if (r == 0) r = 1;  // close_notify sent: enough (the peer's is not awaited)
      break;
    case kind::read:
      if (o.into.size() > 0) r = SSL_read_ex(s, o.into.data(), o.into.size(), &o.done);
      break;
    case kind::write:
      if (o.count > 1 && o.total() - o.done <= gather_limit) {
        // A reply's head and body as one TLS record: one encryption, one buffer from OpenSSL
        // (it takes and frees one per call), where a call per piece cost seven of each.
        thread_local std::string gathered;
        gathered.clear();
        for (std::size_t i = 0, skip = o.done; i < o.count; ++i) {
          auto b = o.from[i];
          auto n = std::min(skip, b.size());
          gathered.append(static_cast<const char*>(b.data()) + n, b.size() - n);
          skip -= n;
        }
        std::size_t n = 0;
        r = SSL_write_ex(s, gathered.data(), gathered.size(), &n);
        o.done += n;
        break;
      }
      for (std::size_t i = 0, skip = o.done; i < o.count && r == 1; ++i) {
        auto b = o.from[i];
        if (skip >= b.size()) {
          skip -= b.size();
          continue;
        }
        std::size_t n = 0;
        r = SSL_write_ex(s, static_cast<const char*>(b.data()) + skip, b.size() - skip, &n);
        o.done += n;
        skip = 0;
      }
      break;
  }
  return r == 1 ? SSL_ERROR_NONE : SSL_get_error(s, r);
}

tls_stream::next tls_stream::advance(op& o) {
  for (;;) {
    int e = call(o);
    if (e == SSL_ERROR_WANT_READ) {
      if (!io_->out.empty()) return next::flush;  // e.g. a handshake flight before its answer
      if (read_available()) continue;
      return next::wait_read;
    }
    o.finished = true;
    o.ec = error_of(e, io_->eof);
    return io_->out.empty() ? next::complete : next::flush;
  }
}

bool tls_stream::read_available() {
  // Only after a read that filled its room: a request that fit in one read costs no ioctl.
  if (io_->eof || !io_->filled) return false;
  boost::system::error_code ec;
  std::size_t ready = tcp_.socket().available(ec);
  if (ec || ready == 0) return false;
  std::size_t n = tcp_.socket().read_some(read_space(std::min(ready, read_chunk)), ec);
  received(ec ? 0 : n);
  return n > 0;
}

asio::mutable_buffer tls_stream::read_space(std::size_t room) {
  auto& in = io_->in;
  io_->in_end = in.size();
  in.resize(io_->in_end + room);
  return asio::buffer(in.data() + io_->in_end, room);
}

void tls_stream::received(std::size_t n) {
  io_->filled = n > 0 && io_->in_end + n == io_->in.size();
  io_->in.resize(io_->in_end + n);
}

void tls_stream::sent() { trim(io_->out); }

std::size_t tls_stream::write_now(std::span<const asio::const_buffer> buffers, boost::system::error_code& ec) {
  op o{kind::write};
  for (const auto& b : buffers)
    if (b.size() > 0 && o.count < o.from.size()) o.from[o.count++] = b;
  call(o);  // WANT_READ and the like: what was not taken is left to the asynchronous write
  auto& out = io_->out;
  if (out.empty()) return o.done;
  ssize_t n = ::send(tcp_.socket().native_handle(), out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n > 0) io_->sealed_sent += static_cast<std::size_t>(n);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    ec.assign(errno, boost::system::system_category());
  else if (n > 0 && static_cast<std::size_t>(n) == out.size())
    sent();
  else if (n > 0)
    out.erase(0, static_cast<std::size_t>(n));
  return o.done;
}

std::uint64_t tls_stream::delivered_since(std::uint64_t from) {
  // Every byte of the connection was sealed here (the handshake's too), in the order it went, so
  // the bytes transmitted are the first ones sealed.
  std::uint64_t reached = io_->sealed_sent;
  if (auto out = tcp_.transmitted()) reached = std::min(reached, *out);
  return reached > from ? std::min(reached - from, io_->sealed - from) : 0;
}

boost::system::error_code tls_stream::error_of(int ssl_error, bool eof) {
  switch (ssl_error) {
    case SSL_ERROR_NONE: return {};
    case SSL_ERROR_ZERO_RETURN: return asio::error::eof;
    case SSL_ERROR_SSL:
      if (auto code = ERR_get_error()) return {static_cast<int>(code), asio::error::get_ssl_category()};
      [[fallthrough]];
    default: return eof ? boost::system::error_code(ssl::error::stream_truncated) : asio::error::connection_reset;
  }
}

}  // namespace fortisim::net
