#pragma once
// Counters for GET /metrics (Prometheus text format): requests by endpoint, operation, error code
// and status, connections, TLS failures by reason, and a histogram of request latency. Rule
// firings come from the rule books themselves. Per-request counting takes no shared lock and
// allocates nothing once a combination has been seen (shards per thread, merged when read).

#include "server/core/observe/shards.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fortisim::core {

class metrics {
 public:
  /// Upper bounds of the latency histogram's buckets, in seconds (Prometheus `le`).
  static constexpr std::array<double, 10> latency_buckets{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                          0.025,  0.05,  0.1,    0.5,   1.0};
  /// The endpoints and operations requests are counted by (an operation index of -1: none).
  static constexpr std::array<std::string_view, 3> endpoints{"process", "mobile", "other"};
  /// The most label sets a family keeps (requests: per shard, about a core): a combination seen
  /// after that is counted under one set whose every label reads `other_label`. Rules may answer
  /// any error code and status, so without it /metrics could grow as long as a test runs.
  static constexpr std::size_t label_set_limit = 1024;
  /// The most TLS failure reasons kept by name; later ones are counted under `other_label`.
  static constexpr std::size_t tls_reason_limit = 64;
  static constexpr std::string_view other_label = "other";

  void request(int endpoint, int operation, int error_code, int status);
  void connection_opened() {
    connections_total_.fetch_add(1, std::memory_order_relaxed);
    open_.fetch_add(1, std::memory_order_relaxed);
  }
  /// A connection closed as it was accepted: counted, never open.
  void connection_turned_away() { connections_total_.fetch_add(1, std::memory_order_relaxed); }
  /// The connections still open after this one closed.
  std::int64_t connection_closed() { return open_.fetch_sub(1, std::memory_order_relaxed) - 1; }
  std::int64_t open_connections() const { return open_.load(std::memory_order_relaxed); }
  void tls_failure(std::string_view reason);
  /// From a request read to its answer written.
  void latency(double seconds);
  /// Appends the counters in Prometheus text format.
  void write(std::string& out) const;

 private:
  struct counts {
    std::unordered_map<std::uint64_t, std::uint64_t> requests;  ///< by packed (endpoint, operation, code, status)
    std::uint64_t requests_other = 0;                           ///< those past label_set_limit
    std::array<std::uint64_t, latency_buckets.size() + 1> latency{};
    std::uint64_t latency_micros = 0;
  };
  mutable shards<counts> shards_;
  mutable std::mutex tls_mutex_;  // TLS failures are rare: one lock is enough
  std::map<std::string, std::uint64_t, std::less<>> tls_failures_;
  std::atomic<std::uint64_t> connections_total_{0};
  std::atomic<std::int64_t> open_{0};
};

}  // namespace fortisim::core
