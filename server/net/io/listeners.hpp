#pragma once
// The listener set: every worker's acceptor on the shared port (SO_REUSEPORT, one per io_context,
// as nginx), and the refuse/open state they follow. Refusing keeps the port bound by a socket that
// does not listen, so clients get ECONNREFUSED (a FortiGate logs "Connection refused"), not a
// reset. Each change is carried out by every worker on its own thread; settled() completes when
// all have, with the failures (a re-bind another process got in the way of), without polling.

#include "server/net/io/asio.hpp"
#include "server/net/io/endpoint.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fortisim::net {

class listener_set {
 public:
  /// Starts the accept loop of one worker's new acceptor, on that worker's thread.
  using start_accepting = std::function<void(tcp::acceptor&, std::size_t worker)>;

  /// Binds `where` (port 0 picks one) on every worker's loop: the first bind is exclusive, so a
  /// port another server holds is a startup_error, not a silent split of its traffic.
  listener_set(std::vector<asio::io_context*> loops, tcp::endpoint where, start_accepting start);
  ~listener_set();
  listener_set(const listener_set&) = delete;
  listener_set& operator=(const listener_set&) = delete;

  tcp::endpoint endpoint() const { return endpoint_; }
  /// Listens on every worker now, or refuses from the start (`refuse_ms`: -1 until open(), else ms).
  void begin(std::int64_t refuse_ms);
  /// Every worker's loop now runs on its own thread: changes are posted to it from here on.
  void threads_started();
  /// Stops listening on every worker: for `ms`, or until open() when 0.
  void refuse(std::int64_t ms);
  /// Listens again on every worker (not after close()).
  void open();
  /// Stops listening on every worker for good (a drain): no open(), timed reopening, reset or
  /// reload listens again, whichever thread asks.
  void close();
  /// Called (on loop 0) when a timed refusal ends by itself, so that the end is logged as its
  /// start was: `refuse(ms)` with ms > 0 from the control API, a `refuse` fault or a scenario.
  void on_refuse_ended(std::function<void()> f) { refuse_ended_ = std::move(f); }
  /// Called on a worker's loop for each connection waiting in its listener's backlog as the
  /// listener stops (`for_good`: close(), else refuse()), before the connection is reset: the
  /// kernel would reset it unseen. Set before the threads start.
  using backlog_reset = std::function<void(const tcp::endpoint& peer, std::size_t worker, bool for_good)>;
  void on_backlog_reset(backlog_reset f) { backlog_reset_ = std::move(f); }
  /// Whether every worker has been asked to listen (and is not refusing).
  bool listening() const;
  /// Whether every worker has carried out the last refuse(), open() or close().
  bool settled_now() const;
  /// Called (under the set's lock: it must not call back) each time a worker has carried out a
  /// change. Set before the threads start.
  void on_applied(std::function<void()> f) { applied_ = std::move(f); }
  /// Completes once every worker has carried out the last refuse() or open(): "" if all did, else
  /// why not (e.g. "cannot listen on 0.0.0.0:443: the address is already in use").
  task<std::string> settled();

 private:
  struct slot {
    asio::io_context* loop;
    std::optional<tcp::acceptor> acceptor;
    std::uint64_t applied = 0;  ///< the last generation this worker carried out
    std::string error;
  };
  struct waiter;
  void change(bool listen, std::int64_t reopen_after_ms);
  void apply(std::size_t i);
  /// The change itself, under the lock: apply() then journals the backlog it took, and only then
  /// marks the change carried out.
  void apply_locked(std::size_t i, std::vector<std::pair<tcp::socket, tcp::endpoint>>& waiting);
  void notify_locked();
  std::string failures_locked() const;
  std::uint64_t settled_generation_locked() const;
  void on_loop(std::size_t i, std::function<void()> f);

  tcp::endpoint endpoint_;
  start_accepting start_;
  mutable std::mutex mutex_;
  std::vector<slot> slots_;
  bool listening_ = false;
  bool closed_ = false;  ///< close() was called: nothing listens again
  bool threads_ = false;
  std::uint64_t generation_ = 0;
  std::optional<tcp::acceptor> placeholder_;  ///< holds the port while refusing
  std::optional<asio::steady_timer> reopen_;  ///< on loop 0 only
  std::function<void()> refuse_ended_;
  backlog_reset backlog_reset_;
  std::function<void()> applied_;
  std::vector<std::shared_ptr<waiter>> waiters_;
};

/// Binds (without listening) to `ep`. With `shared`, SO_REUSEPORT lets our own workers' sockets
/// share the port. Throws startup_error naming `option` and the fix.
void bind_socket(tcp::acceptor& a, const tcp::endpoint& ep, const char* option, bool shared);
/// Why binding `where` failed, and the fix, in one line naming `option` ("--listen", "--dns").
std::string bind_failure(const boost::system::error_code& ec, const std::string& where, const char* option);

}  // namespace fortisim::net
