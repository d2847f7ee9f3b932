#include "server/core/metrics.hpp"

#include <algorithm>
#include <cstdio>

namespace fortisim::core {

namespace {

/// A label value with \, " and newlines escaped, as the text format requires.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

void metrics::request(std::string_view endpoint, std::string_view operation, int error_code, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(endpoint), std::string(operation), error_code, status}];
}

void metrics::tls_failure(std::string_view reason) {
  std::lock_guard lock(mutex_);
  auto it = tls_failures_.find(reason);
  if (it == tls_failures_.end()) it = tls_failures_.emplace(std::string(reason), 0).first;
  ++it->second;
}

void metrics::latency(double seconds) {
  auto bucket = std::lower_bound(latency_buckets.begin(), latency_buckets.end(), seconds) - latency_buckets.begin();
  latency_counts_[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  latency_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void metrics::write(std::string& out) const {
  out +=
      "# HELP fortisim_requests_total HTTP requests answered, by endpoint, operation, FortiCare error code and "
      "status.\n";
  out += "# TYPE fortisim_requests_total counter\n";
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, n] : requests_) {
      const auto& [endpoint, operation, code, status] = key;
      out += "fortisim_requests_total{endpoint=\"" + label(endpoint) + "\",operation=\"" + label(operation) +
             "\",error_code=\"" + std::to_string(code) + "\",status=\"" + std::to_string(status) + "\"} " +
             std::to_string(n) + "\n";
    }
    out += "# HELP fortisim_tls_failures_total Connections that did not complete a TLS handshake, by reason.\n";
    out += "# TYPE fortisim_tls_failures_total counter\n";
    for (const auto& [reason, n] : tls_failures_)
      out += "fortisim_tls_failures_total{reason=\"" + label(reason) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP fortisim_connections_total Connections accepted.\n# TYPE fortisim_connections_total counter\n";
  out += "fortisim_connections_total " + std::to_string(connections_total_.load()) + "\n";
  out += "# HELP fortisim_connections_open Connections open now.\n# TYPE fortisim_connections_open gauge\n";
  out += "fortisim_connections_open " + std::to_string(open_.load()) + "\n";
  out += "# HELP fortisim_request_duration_seconds From a request read to its answer written.\n";
  out += "# TYPE fortisim_request_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < latency_counts_.size(); ++i) {
    cumulative += latency_counts_[i].load();
    std::string le = i < latency_buckets.size() ? number(latency_buckets[i]) : "+Inf";
    out += "fortisim_request_duration_seconds_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += "fortisim_request_duration_seconds_sum " + number(static_cast<double>(latency_micros_.load()) / 1e6) + "\n";
  out += "fortisim_request_duration_seconds_count " + std::to_string(cumulative) + "\n";
}

}  // namespace fortisim::core
