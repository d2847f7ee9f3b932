#pragma once
// A TLS stream over a connection's timed socket (whose deadline applies to every TLS read and
// write), with OpenSSL reading from and writing to buffers that are only as large as the data in
// flight. Asio's own ssl::stream keeps four 17 KiB buffers per connection for its whole life (its
// BIO pair and its stream core); here an idle keep-alive connection holds a few kilobytes (with
// OpenSSL's SSL_MODE_RELEASE_BUFFERS), so a thousand idle connections cost a few megabytes, not
// eighty.
//
// The interface is the part of asio::ssl::stream that fortisim uses: handshake, read, write and
// shutdown as asynchronous operations, native_handle() and next_layer(). One operation at a time.

#include "server/net/io/asio.hpp"
#include "server/net/io/timed_socket.hpp"

#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>

namespace fortisim::net {

class tls_stream {
 public:
  using next_layer_type = timed_socket;
  using executor_type = executor;
  /// Room kept for the next read while a connection waits for it (a request fits), and the most
  /// either buffer keeps once drained: what an idle connection holds.
  static constexpr std::size_t read_room = 4096;

  tls_stream(tcp_socket&& socket, ssl::context& ctx);
  executor_type get_executor() { return tcp_.get_executor(); }
  next_layer_type& next_layer() { return tcp_; }
  SSL* native_handle() { return ssl_.get(); }

  template <class Token>
  auto async_handshake(ssl::stream_base::handshake_type type, Token&& token) {
    type == ssl::stream_base::server ? SSL_set_accept_state(ssl_.get()) : SSL_set_connect_state(ssl_.get());
    return start<false>(op{kind::handshake}, std::forward<Token>(token));
  }
  /// Sends close_notify (it does not wait for the peer's).
  template <class Token>
  auto async_shutdown(Token&& token) {
    return start<false>(op{kind::shutdown}, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    op o{kind::read};
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it)
      if (asio::mutable_buffer b(*it); b.size() > 0) {
        o.into = b;
        break;
      }
    return start<true>(o, std::forward<Token>(token));
  }
  /// Encrypts `buffers` (up to eight, as async_write_some does) and sends what the socket takes
  /// at once, without waiting: the plaintext bytes OpenSSL took (`ec` set if the socket failed).
  /// A reply usually goes whole this way, so it is known to be written before the session
  /// yields. Whatever the socket did not take yet waits for an asynchronous write: unsent() says
  /// so, and async_write_some of the remaining buffers (or of none) sends it first.
  std::size_t write_now(std::span<const asio::const_buffer> buffers, boost::system::error_code& ec);
  bool unsent() const { return !io_->out.empty(); }
  /// Encrypted bytes made since the stream began: with delivered_since, how far a reply got when
  /// its client left part way.
  std::uint64_t sealed() const { return io_->sealed; }
  /// Of the encrypted bytes made since `sealed() == from`, those that left this machine (those the
  /// socket took, where the kernel does not say: they also count what was still in the send
  /// buffer, megabytes, when the client left).
  std::uint64_t delivered_since(std::uint64_t from);
  /// Writes every buffer of the sequence (up to eight) in one TCP write: as one TLS record when
  /// together they fit in `gather_limit` bytes, else a record each.
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    op o{kind::write};
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it)
      if (asio::const_buffer b(*it); b.size() > 0 && o.count < o.from.size()) o.from[o.count++] = b;
    return start<true>(o, std::forward<Token>(token));
  }

 private:
  enum class kind { handshake, read, write, shutdown };
  static constexpr std::size_t gather_limit = 16384;  ///< a TLS record's most plaintext
  /// One TLS operation and its progress.
  struct op {
    kind what;
    asio::mutable_buffer into{};
    std::array<asio::const_buffer, 8> from{};
    std::size_t count = 0;  ///< buffers in `from`
    std::size_t done = 0;   ///< bytes read or written so far
    std::size_t total() const {
      std::size_t n = 0;
      for (std::size_t i = 0; i < count; ++i) n += from[i].size();
      return n;
    }
    bool finished = false;
    boost::system::error_code ec{};
  };
  /// What an operation needs next.
  enum class next { complete, flush, wait_read };
  /// The bytes between OpenSSL and the socket (on the heap: OpenSSL's BIO points at them).
  struct buffers {
    std::string in;  ///< received, not yet given to OpenSSL (from in_pos)
    std::size_t in_pos = 0;
    std::size_t in_end = 0;         ///< while a read is pending: where its room in `in` starts
    std::string out;                ///< from OpenSSL, not yet sent
    std::uint64_t sealed = 0;       ///< bytes OpenSSL has written into `out`, ever
    std::uint64_t sealed_sent = 0;  ///< of those, the bytes the socket has taken
    bool eof = false;
    bool filled = false;  ///< the last read filled its room: the socket may hold more
    static int read(BIO* bio, char* data, int size);
    static int write(BIO* bio, const char* data, int size);
  };
  struct ssl_free {
    void operator()(SSL* s) const { SSL_free(s); }
  };

  /// Runs OpenSSL as far as it goes without waiting (reading what the socket already holds).
  next advance(op& o);
  /// One call into OpenSSL for `o`; its SSL_get_error code.
  int call(op& o);
  bool read_available();
  /// Makes `room` bytes of room at the end of `in` for a read; `received` keeps what came.
  asio::mutable_buffer read_space(std::size_t room);
  void received(std::size_t n);
  void sent();
  static boost::system::error_code error_of(int ssl_error, bool eof);
  static BIO_METHOD* bio_method();

  /// Runs `o` to its end: handshake and shutdown complete with (error), reads and writes with
  /// (error, bytes).
  template <bool Sized, class Token>
  auto start(op o, Token&& token) {
    using signature =
        std::conditional_t<Sized, void(boost::system::error_code, std::size_t), void(boost::system::error_code)>;
    auto finish = [](auto& self, boost::system::error_code ec, std::size_t n) {
      if constexpr (Sized)
        self.complete(ec, n);
      else
        self.complete(ec);
    };
    return asio::async_compose<Token, signature>(
        [this, o, finish, state = 0](auto& self, boost::system::error_code ec = {}, std::size_t n = 0) mutable {
          if (state == 4) return finish(self, o.ec, o.done);  // posted below
          if (state != 0) ec = tcp_.end(ec);
          if (state == 3) return finish(self, ec, 0);  // the deadline had passed
          if (state == 1) {                            // a read completed
            received(ec ? 0 : n);
            if (ec == asio::error::eof)
              io_->eof = true;
            else if (ec)
              return finish(self, ec, 0);
          } else if (state == 2) {  // a flush completed
            io_->sealed_sent += n;
            sent();
            if (ec) return finish(self, ec, 0);
            if (o.finished) return finish(self, o.ec, o.done);
          }
          switch (advance(o)) {
            case next::complete:
              if (state == 0) {
                // Done without waiting (the bytes were already decrypted): completed from the
                // loop, never inside the call that started it. A reader that reads again from its
                // handler (Beast reading a body whose records have all arrived) would otherwise
                // recurse a record deeper each time, and a 1 MiB body overflowed the stack.
                state = 4;
                return asio::post(tcp_.get_executor(), std::move(self));
              }
              return finish(self, o.ec, o.done);
            case next::flush:
              state = 2;
              if (!tcp_.begin()) return expired(std::move(self), state);
              asio::async_write(tcp_.socket(), asio::buffer(io_->out), std::move(self));
              return;
            case next::wait_read:
              state = 1;
              if (!tcp_.begin()) return expired(std::move(self), state);
              tcp_.socket().async_read_some(read_space(read_room), std::move(self));
              return;
          }
        },
        token, tcp_);
  }

  /// Completes an operation whose deadline passed before its next step.
  template <class Self>
  void expired(Self&& self, int& state) {
    state = 3;
    tcp_.post_timeout(std::move(self));
  }

  next_layer_type tcp_;
  std::unique_ptr<buffers> io_;
  std::unique_ptr<SSL, ssl_free> ssl_;
};

}  // namespace fortisim::net
