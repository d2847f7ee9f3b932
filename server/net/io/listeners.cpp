#include "server/net/io/listeners.hpp"

#include "server/net/io/config.hpp"
#include "server/net/io/endpoint.hpp"

#include <boost/asio/detail/socket_option.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

namespace fortisim::net {

namespace {

using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

/// How long settled() waits for the workers before it reports them as stuck.
constexpr auto settle_bound = std::chrono::seconds(5);

}  // namespace

std::string bind_failure(const boost::system::error_code& ec, const std::string& where, const char* option) {
  if (ec == boost::system::errc::permission_denied)
    return "cannot listen on " + where +
           ": permission denied. Ports below 1024 need root or "
           "CAP_NET_BIND_SERVICE (sudo setcap cap_net_bind_service=+ep <path to fortisim>); or pass " +
           option + " with a port of 1024 or more (0 picks a free one)";
  if (ec == boost::system::errc::address_in_use)
    return "cannot listen on " + where +
           ": the address is already in use. Stop the other server, or "
           "pass " +
           option + " with another port (0 picks a free one)";
  if (ec == boost::system::errc::address_not_available)
    return "cannot listen on " + where + ": no interface has that address; pass " + option +
           " with an address of this machine, e.g. 127.0.0.1:8443";
  return "cannot listen on " + where + ": " + ec.message();
}

void bind_socket(tcp::acceptor& a, const tcp::endpoint& ep, const char* option, bool shared) {
  boost::system::error_code ec;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && shared) a.set_option(reuse_port(true), ec);
  if (!ec) a.bind(ep, ec);
  if (ec) throw startup_error(bind_failure(ec, endpoint_text(ep), option));
}

/// A coroutine waiting in settled(): woken by cancelling its timer on its own executor.
struct listener_set::waiter {
  waiter(std::uint64_t g, asio::steady_timer t) : generation(g), timer(std::move(t)) {}
  std::uint64_t generation;
  asio::steady_timer timer;
  bool done = false;
  std::string result;
};

listener_set::listener_set(std::vector<asio::io_context*> loops, tcp::endpoint where, start_accepting start)
    : endpoint_(where), start_(std::move(start)) {
  for (auto* loop : loops) slots_.push_back({loop, std::nullopt, 0, {}});
  // A probe first: it learns the port when 0 was asked, and fails if another server holds it.
  {
    tcp::acceptor probe(*loops.front());
    bind_socket(probe, endpoint_, "--listen", false);
    endpoint_ = probe.local_endpoint();
  }
  placeholder_.emplace(*loops.front());
  bind_socket(*placeholder_, endpoint_, "--listen", true);
}

listener_set::~listener_set() = default;

void listener_set::begin(std::int64_t refuse_ms) {
  if (refuse_ms != 0)
    refuse(refuse_ms > 0 ? refuse_ms : 0);
  else
    open();
}

void listener_set::threads_started() {
  std::lock_guard lock(mutex_);
  threads_ = true;
}

void listener_set::on_loop(std::size_t i, std::function<void()> f) {
  bool threads;
  {
    std::lock_guard lock(mutex_);
    threads = threads_;
  }
  if (threads)
    asio::post(*slots_[i].loop, std::move(f));
  else
    f();
}

void listener_set::refuse(std::int64_t ms) { change(false, ms); }

bool listener_set::listening() const {
  std::lock_guard lock(mutex_);
  return listening_;
}

bool listener_set::settled_now() const {
  std::lock_guard lock(mutex_);
  return settled_generation_locked() == generation_;
}

void listener_set::open() { change(true, 0); }

void listener_set::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  change(false, 0);
}

void listener_set::change(bool listen, std::int64_t reopen_after_ms) {
  std::uint64_t generation;
  {
    std::lock_guard lock(mutex_);
    if (listen && closed_) return;  // a drain closed them: a reset or reload that raced it does not reopen
    generation = ++generation_;
    listening_ = listen;
    if (!listen && !placeholder_) {
      // Hold the port first, then stop every listener on its own thread.
      placeholder_.emplace(*slots_.front().loop);
      try {
        bind_socket(*placeholder_, endpoint_, "--listen", true);
      } catch (const startup_error&) {
        placeholder_.reset();  // the workers' own sockets still hold it
      }
    }
  }
  for (std::size_t i = 0; i < slots_.size(); ++i) on_loop(i, [this, i] { apply(i); });
  // A timed refusal ends with an open(), unless another change came first. (Loop 0 owns the timer.)
  on_loop(0, [this, generation, reopen_after_ms] {
    if (reopen_after_ms <= 0) {
      reopen_.reset();
      return;
    }
    reopen_.emplace(*slots_.front().loop, std::chrono::milliseconds(reopen_after_ms));
    reopen_->async_wait([this, generation](boost::system::error_code ec) {
      if (ec) return;
      {
        std::lock_guard lock(mutex_);
        if (generation != generation_) return;
      }
      open();
      if (refuse_ended_ && listening()) refuse_ended_();  // not after a drain's close()
    });
  });
}

namespace {

/// The connections waiting in `a`'s backlog (their handshakes done, accept() not yet called).
std::vector<std::pair<tcp::socket, tcp::endpoint>> take_backlog(tcp::acceptor& a) {
  std::vector<std::pair<tcp::socket, tcp::endpoint>> waiting;
  boost::system::error_code ec;
  a.non_blocking(true, ec);
  while (!ec) {
    tcp::endpoint peer;
    auto socket = a.accept(peer, ec);  // would_block once the backlog is empty
    if (!ec) waiting.emplace_back(std::move(socket), peer);
  }
  return waiting;
}

}  // namespace

void listener_set::apply(std::size_t i) {
  std::vector<std::pair<tcp::socket, tcp::endpoint>> waiting;
  bool for_good = false;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    apply_locked(i, waiting);
    for_good = closed_;
    generation = generation_;
  }
  for (auto& [socket, peer] : waiting) {  // recorded before the client meets its reset
    if (backlog_reset_) backlog_reset_(peer, i, for_good);
    boost::system::error_code ec;
    socket.set_option(asio::socket_base::linger(true, 0), ec);
    socket.close(ec);
  }
  // Carried out, its backlog journaled: a caller waiting in settled() finds every entry.
  std::lock_guard lock(mutex_);
  slots_[i].applied = std::max(slots_[i].applied, generation);
  notify_locked();
  if (applied_) applied_();
}

void listener_set::apply_locked(std::size_t i, std::vector<std::pair<tcp::socket, tcp::endpoint>>& waiting) {
  auto& s = slots_[i];
  s.error.clear();
  if (listening_ && !s.acceptor) {
    try {
      s.acceptor.emplace(*s.loop);
      bind_socket(*s.acceptor, endpoint_, "--listen", true);
      s.acceptor->listen(asio::socket_base::max_listen_connections);
      start_(*s.acceptor, i);
    } catch (const std::exception& e) {
      // At runtime a failed re-bind (another process took the port meanwhile) is reported by
      // settled(), never thrown: nothing but a bug may escape io_context::run().
      s.acceptor.reset();
      s.error = e.what();
    }
  } else if (!listening_ && s.acceptor) {
    waiting = take_backlog(*s.acceptor);
    s.acceptor.reset();  // its accept loop ends with operation_aborted
  }
}

std::uint64_t listener_set::settled_generation_locked() const {
  std::uint64_t least = UINT64_MAX;
  for (const auto& s : slots_) least = std::min(least, s.applied);
  return least;
}

std::string listener_set::failures_locked() const {
  std::string out;
  for (const auto& s : slots_)
    if (!s.error.empty() && out.find(s.error) == std::string::npos) out += (out.empty() ? "" : "; ") + s.error;
  return out;
}

void listener_set::notify_locked() {
  auto settled = settled_generation_locked();
  if (settled == generation_ && listening_) placeholder_.reset();  // every worker listens: let go of the port
  std::erase_if(waiters_, [&](const std::shared_ptr<waiter>& w) {
    if (w->generation > settled) return false;
    w->done = true;
    w->result = failures_locked();
    asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
    return true;
  });
}

task<std::string> listener_set::settled() {
  auto w = std::make_shared<waiter>(0, asio::steady_timer(co_await asio::this_coro::executor, settle_bound));
  {
    std::lock_guard lock(mutex_);
    w->generation = generation_;
    if (settled_generation_locked() >= w->generation) co_return failures_locked();
    waiters_.push_back(w);
  }
  co_await w->timer.async_wait(use_nothrow);
  std::lock_guard lock(mutex_);
  if (w->done) co_return w->result;
  std::erase(waiters_, w);
  co_return "the listeners did not settle within 5 s (a worker is stuck)";
}

}  // namespace fortisim::net
