#include "server/core/observe/metrics.hpp"

#include "protocol/messages.hpp"

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

std::uint64_t pack(int endpoint, int operation, int error_code, int status) {
  return static_cast<std::uint64_t>(endpoint & 0xf) << 60 | static_cast<std::uint64_t>((operation + 1) & 0xf) << 56 |
         static_cast<std::uint64_t>(status & 0xffff) << 32 | static_cast<std::uint32_t>(error_code);
}

}  // namespace

void metrics::request(int endpoint, int operation, int error_code, int status) {
  auto& s = shards_.mine();
  std::lock_guard lock(s.mutex);
  auto key = pack(endpoint, operation, error_code, status);
  if (auto it = s.value.requests.find(key); it != s.value.requests.end())
    ++it->second;
  else if (s.value.requests.size() < label_set_limit)
    s.value.requests.emplace(key, 1);
  else
    ++s.value.requests_other;
}

void metrics::tls_failure(std::string_view reason) {
  std::lock_guard lock(tls_mutex_);
  auto it = tls_failures_.find(reason);
  if (it == tls_failures_.end()) {
    auto name = tls_failures_.size() < tls_reason_limit ? reason : other_label;
    it = tls_failures_.find(name);
    if (it == tls_failures_.end()) it = tls_failures_.emplace(std::string(name), 0).first;
  }
  ++it->second;
}

void metrics::latency(double seconds) {
  auto bucket = std::lower_bound(latency_buckets.begin(), latency_buckets.end(), seconds) - latency_buckets.begin();
  auto& s = shards_.mine();
  std::lock_guard lock(s.mutex);
  ++s.value.latency[static_cast<std::size_t>(bucket)];
  s.value.latency_micros += static_cast<std::uint64_t>(seconds * 1e6);
}

void metrics::write(std::string& out) const {
  std::map<std::uint64_t, std::uint64_t> requests;  // merged, in a stable order
  counts total;
  for (auto& s : shards_.all()) {
    std::lock_guard lock(s.mutex);
    for (const auto& [key, n] : s.value.requests) requests[key] += n;
    total.requests_other += s.value.requests_other;
    for (std::size_t i = 0; i < total.latency.size(); ++i) total.latency[i] += s.value.latency[i];
    total.latency_micros += s.value.latency_micros;
  }
  out +=
      "# HELP fortisim_requests_total HTTP requests answered, by endpoint, operation, FortiCare error code and "
      "status.\n";
  out += "# TYPE fortisim_requests_total counter\n";
  for (const auto& [key, n] : requests) {
    auto endpoint = endpoints[std::min<std::size_t>(key >> 60, endpoints.size() - 1)];
    int operation = static_cast<int>((key >> 56) & 0xf) - 1;
    auto op =
        operation < 0 ? std::string_view() : protocol::operation_name(static_cast<protocol::operation>(operation));
    out += "fortisim_requests_total{endpoint=\"" + std::string(endpoint) + "\",operation=\"" + std::string(op) +
           "\",error_code=\"" + std::to_string(static_cast<std::int32_t>(key & 0xffffffff)) + "\",status=\"" +
           std::to_string((key >> 32) & 0xffff) + "\"} " + std::to_string(n) + "\n";
  }
  if (total.requests_other > 0) {
    std::string other = "\"" + std::string(other_label) + "\"";
    out += "fortisim_requests_total{endpoint=" + other + ",operation=" + other + ",error_code=" + other +
           ",status=" + other + "} " + std::to_string(total.requests_other) + "\n";
  }
  out += "# HELP fortisim_tls_failures_total Connections that did not complete a TLS handshake, by reason.\n";
  out += "# TYPE fortisim_tls_failures_total counter\n";
  {
    std::lock_guard lock(tls_mutex_);
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
  for (std::size_t i = 0; i < total.latency.size(); ++i) {
    cumulative += total.latency[i];
    std::string le = i < latency_buckets.size() ? number(latency_buckets[i]) : "+Inf";
    out += "fortisim_request_duration_seconds_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += "fortisim_request_duration_seconds_sum " + number(static_cast<double>(total.latency_micros) / 1e6) + "\n";
  out += "fortisim_request_duration_seconds_count " + std::to_string(cumulative) + "\n";
}

}  // namespace fortisim::core
