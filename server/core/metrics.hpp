#pragma once
// Counters for GET /metrics (Prometheus text format): requests by endpoint, operation and error
// code, connections, TLS failures by reason, and a histogram of request latency. Rule firings come
// from the rule books themselves.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace fortisim::core {

class metrics {
 public:
  /// Upper bounds of the latency histogram's buckets, in seconds (Prometheus `le`).
  static constexpr std::array<double, 10> latency_buckets{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                          0.025,  0.05,  0.1,    0.5,   1.0};

  void request(std::string_view endpoint, std::string_view operation, int error_code, int status);
  void connection_opened() { connections_total_.fetch_add(1, std::memory_order_relaxed), ++open_; }
  /// The connections still open after this one closed.
  std::int64_t connection_closed() { return --open_; }
  std::int64_t open_connections() const { return open_.load(std::memory_order_relaxed); }
  void tls_failure(std::string_view reason);
  /// From a request read to its answer written.
  void latency(double seconds);
  /// Appends the counters in Prometheus text format.
  void write(std::string& out) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int, int>, std::uint64_t> requests_;
  std::map<std::string, std::uint64_t, std::less<>> tls_failures_;
  std::atomic<std::uint64_t> connections_total_{0};
  std::atomic<std::int64_t> open_{0};
  std::array<std::atomic<std::uint64_t>, latency_buckets.size() + 1> latency_counts_{};
  std::atomic<std::uint64_t> latency_micros_{0};
};

}  // namespace fortisim::core
