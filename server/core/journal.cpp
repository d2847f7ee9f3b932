#include "server/core/journal.hpp"

#include <chrono>

namespace fortisim::core {

void journal::add(journal_entry e) {
  if (capacity_ == 0) return;
  e.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (e.request_body.size() > 4096) e.request_body.resize(4096);
  std::lock_guard lock(mutex_);
  e.seq = next_++;
  if (entries_.size() == capacity_) entries_.pop_front();
  entries_.push_back(std::move(e));
}

protocol::json journal::to_json(std::uint64_t after) const {
  std::lock_guard lock(mutex_);
  auto out = protocol::json::array();
  for (const auto& e : entries_) {
    if (e.seq <= after) continue;
    out.push_back({{"seq", e.seq}, {"time_ms", e.time_ms}, {"stage", e.stage}, {"connection", e.connection},
                   {"request", e.request}, {"client_address", e.client_address}, {"sni", e.sni},
                   {"method", e.method}, {"target", e.target}, {"type", e.type}, {"rule", e.rule},
                   {"action", e.action}, {"status", e.status}, {"error_code", e.error_code}, {"seed", e.seed},
                   {"request_body", e.request_body}});
  }
  return out;
}

void journal::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

}  // namespace fortisim::core
