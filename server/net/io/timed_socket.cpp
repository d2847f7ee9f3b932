#include "server/net/io/timed_socket.hpp"

#include "server/net/io/bytes_transmitted.hpp"

namespace fortisim::net {

timed_socket::timed_socket(tcp_socket&& socket)
    : socket_(std::move(socket)), timing_(std::make_shared<timing>(socket_.get_executor())) {
  timing_->socket = &socket_;
}

timed_socket::~timed_socket() {
  timing_->socket = nullptr;
  timing_->timer.cancel();
}

std::optional<std::uint64_t> timed_socket::transmitted() {
  if (timing_->expired) return timing_->transmitted_at_expiry;
  return bytes_transmitted(socket_.native_handle());
}

void timed_socket::expires_after(clock::duration d) {
  timing_->deadline = clock::now() + d;
  timing_->expired = false;
}

bool timed_socket::begin() {
  auto& t = *timing_;
  ++t.pending;
  if (t.expired) return false;
  if (t.deadline == clock::time_point::max()) return true;
  if (clock::now() >= t.deadline) {
    t.expire();
    return false;
  }
  if (t.armed_for > t.deadline) arm(timing_);  // idle, or waiting for a later time than needed
  return true;
}

boost::system::error_code timed_socket::end(boost::system::error_code ec) {
  auto& t = *timing_;
  --t.pending;
  return t.expired ? boost::system::error_code(boost::beast::error::timeout) : ec;
}

void timed_socket::arm(const std::shared_ptr<timing>& t) {
  t->armed_for = t->deadline;
  t->timer.expires_at(t->deadline);  // a wait already pending completes as cancelled, and is ignored
  t->timer.async_wait([t](boost::system::error_code ec) {
    if (!ec) fired(t);
  });
}

void timed_socket::fired(const std::shared_ptr<timing>& t) {
  t->armed_for = clock::time_point::max();
  if (!t->socket || t->pending == 0 || t->expired) return;  // the next operation arms it again
  if (clock::now() < t->deadline) return arm(t);            // the deadline moved later since
  t->expire();
}

void timed_socket::timing::expire() {
  expired = true;
  boost::system::error_code ignored;
  if (!socket) return;
  // A client that stopped reading is reset, not closed: the kernel would go on sending what it
  // holds after the record has said how far the reply went.
  transmitted_at_expiry = bytes_transmitted(socket->native_handle());
  if (bytes_unacknowledged(socket->native_handle()) > 0)
    socket->set_option(asio::socket_base::linger(true, 0), ignored);
  socket->close(ignored);  // pending operations complete, as cancelled
}

}  // namespace fortisim::net
