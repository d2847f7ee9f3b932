#include "server/core/journal.hpp"

#include "protocol/json_writer.hpp"

#include <chrono>

namespace fortisim::core {

std::int64_t journal::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void journal::reset(journal_entry& e) {
  for (auto* s : {&e.stage, &e.client_address, &e.sni, &e.method, &e.target, &e.type, &e.rule, &e.action,
                  &e.request_headers, &e.request_body})
    s->clear();
  e.connection = e.request = e.seed = 0;
  e.status = e.error_code = 0;
}

protocol::json journal::to_json(std::uint64_t after) const {
  std::lock_guard lock(mutex_);
  auto out = protocol::json::array();
  std::uint64_t first = std::max({after + 1, cleared_before_, next_ > slots_.size() ? next_ - slots_.size() : 1});
  for (std::uint64_t seq = first; seq < next_; ++seq) {
    out.push_back(to_json(slots_[(seq - 1) % slots_.size()]));
  }
  return out;
}

protocol::json journal::to_json(const journal_entry& e) {
  return {{"seq", e.seq},
          {"time_ms", e.time_ms},
          {"stage", e.stage},
          {"connection", e.connection},
          {"request", e.request},
          {"client_address", e.client_address},
          {"sni", e.sni},
          {"method", e.method},
          {"target", e.target},
          {"type", e.type},
          {"rule", e.rule},
          {"action", e.action},
          {"status", e.status},
          {"error_code", e.error_code},
          {"seed", e.seed},
          {"request_headers", e.request_headers},
          {"request_body", e.request_body}};
}

void journal::write_line(const journal_entry& e, std::string& out) {
  protocol::json_writer w(out);
  w.open().str("event", "exchange").num("seq", e.seq).num("time_ms", e.time_ms);
  w.str("stage", e.stage).num("connection", e.connection);
  w.num("request", e.request).str("client_address", e.client_address).str("sni", e.sni);
  w.str("method", e.method).bytes("target", e.target).str("type", e.type).str("rule", e.rule);
  w.str("action", e.action).num("status", e.status).num("error_code", e.error_code);
  w.num("seed", e.seed).bytes("request_headers", e.request_headers);
  w.bytes("request_body", e.request_body).close();
}

void journal::clear() {
  std::lock_guard lock(mutex_);
  cleared_before_ = next_;
}

}  // namespace fortisim::core
