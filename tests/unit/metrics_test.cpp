// server/core/observe/metrics: GET /metrics's counters, and the bound on their label sets (rules
// may answer any error code and status, and TLS failures come in many words).
#include "server/core/observe/metrics.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

using namespace fortisim::core;

namespace {

std::size_t lines_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.starts_with(prefix);
  return n;
}

}  // namespace

TEST_SUITE("metrics") {

TEST_CASE("requests by endpoint, operation, error code and status, then everything past the bound as other") {
  metrics m;
  m.request(0, 0, 14, 200);
  m.request(0, 0, 14, 200);
  std::string out;
  m.write(out);
  CHECK(
      out.find(
          R"(fortisim_requests_total{endpoint="process",operation="activation_license",error_code="14",status="200"} 2)") !=
      std::string::npos);
  for (int code = 0; code < 3000; ++code) m.request(1, -1, code, 200);
  out.clear();
  m.write(out);
  CHECK(lines_starting(out, "fortisim_requests_total{") == metrics::label_set_limit + 1);
  // 1,023 new codes found room next to the first set; the other 1,977 are counted, not named.
  CHECK(out.find(
            R"(fortisim_requests_total{endpoint="other",operation="other",error_code="other",status="other"} 1977)") !=
        std::string::npos);
  m.request(0, 0, 14, 200);  // a set already kept is still counted by name
  out.clear();
  m.write(out);
  CHECK(out.find(R"(error_code="14",status="200"} 3)") != std::string::npos);
}

TEST_CASE("TLS failures by reason, the reasons past the bound counted as other") {
  metrics m;
  for (int i = 0; i < 200; ++i) m.tls_failure("reason " + std::to_string(i));
  m.tls_failure("reason 0");
  std::string out;
  m.write(out);
  CHECK(lines_starting(out, "fortisim_tls_failures_total{") == metrics::tls_reason_limit + 1);
  CHECK(out.find(R"(fortisim_tls_failures_total{reason="reason 0"} 2)") != std::string::npos);
  CHECK(out.find(R"(fortisim_tls_failures_total{reason="other"} 136)") != std::string::npos);
}

}
