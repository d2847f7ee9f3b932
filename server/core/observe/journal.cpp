#include "server/core/observe/journal.hpp"

#include "protocol/json_writer.hpp"
#include "server/core/observe/shards.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

namespace fortisim::core {

namespace {

/// Whether the space-separated `list` holds `word`.
bool holds_word(const std::string& list, const std::string& word) {
  std::istringstream in(list);
  for (std::string w; in >> w;)
    if (w == word) return true;
  return false;
}

}  // namespace

bool journal_filter::matches(const journal_entry& e) const {
  if (e.seq <= after) return false;
  if (type && e.type != *type && e.type != "SoftToken." + *type) return false;
  if (operation && e.operation != *operation) return false;
  if (serial && !holds_word(e.serials, *serial)) return false;
  if (token && !holds_word(e.tokens, *token)) return false;
  if (code && e.code != *code) return false;
  if (rule && e.rule != *rule) return false;
  if (stage && e.stage != *stage) return false;
  if (error_code && e.error_code != *error_code) return false;
  return true;
}

std::int64_t journal::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void journal::reset(journal_entry& e) {
  for (auto* s :
       {&e.stage, &e.client_address, &e.sni, &e.method, &e.target, &e.type, &e.operation, &e.serials, &e.tokens,
        &e.code, &e.rule, &e.action, &e.reason, &e.client_cert, &e.request_headers, &e.request_body, &e.reply_body})
    s->clear();
  e.connection = e.request = e.seed = 0;
  e.status = e.error_code = 0;
}

journal::journal(std::size_t capacity) : capacity_(capacity) {
  // A ring per core or so (workers rarely share one); a ring takes memory only once a thread
  // records into it, and each keeps at most `capacity` entries, so the journal holds at most
  // 8 x capacity whatever the machine.
  for (std::size_t i = 0; i < shard_count(); ++i) rings_.push_back(std::make_unique<ring>());
}

journal::ring& journal::own_ring() { return *rings_[thread_ordinal() % rings_.size()]; }

std::vector<std::unique_lock<std::mutex>> journal::lock_all() const {
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(rings_.size());
  for (const auto& r : rings_) locks.emplace_back(r->mutex);
  return locks;
}

template <class F>
void journal::each_locked(std::uint64_t after, F&& f) const {
  if (capacity_ == 0) return;
  // Every seq below next_ is in a ring (or overwritten): the last capacity_ of them are kept,
  // since a ring keeps its own last capacity_ entries.
  std::uint64_t next = next_.load(std::memory_order_relaxed);
  std::uint64_t first = std::max({after + 1, cleared_before_, next > capacity_ ? next - capacity_ : 1});
  std::vector<const journal_entry*> found;
  for (const auto& r : rings_)
    for (std::uint64_t i = r->written > capacity_ ? r->written - capacity_ : 0; i < r->written; ++i)
      if (const auto& e = r->slots[i % capacity_]; e.seq >= first) found.push_back(&e);
  std::sort(found.begin(), found.end(), [](const auto* a, const auto* b) { return a->seq < b->seq; });
  for (const auto* e : found)
    if (!f(*e)) return;
}

protocol::json journal::select(const journal_filter& f) const {
  auto locks = lock_all();
  auto out = protocol::json::array();
  each_locked(f.after, [&](const journal_entry& e) {
    if (f.matches(e)) out.push_back(to_json(e));
    return !f.limit || out.size() < *f.limit;
  });
  return out;
}

std::size_t journal::count(const journal_filter& f) const {
  auto locks = lock_all();
  std::size_t n = 0;
  each_locked(f.after, [&](const journal_entry& e) { return n += f.matches(e), true; });
  return n;
}

std::vector<journal_entry> journal::since(std::uint64_t after) const {
  auto locks = lock_all();
  std::vector<journal_entry> out;
  each_locked(after, [&](const journal_entry& e) { return out.push_back(e), true; });
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
          {"operation", e.operation},
          {"serials", e.serials},
          {"tokens", e.tokens},
          {"code", e.code},
          {"rule", e.rule},
          {"action", e.action},
          {"reason", e.reason},
          {"status", e.status},
          {"error_code", e.error_code},
          {"seed", e.seed},
          {"client_cert", e.client_cert},
          {"request_headers", e.request_headers},
          {"request_body", e.request_body},
          {"reply_body", e.reply_body}};
}

void journal::write_line(const journal_entry& e, std::string& out) {
  protocol::json_writer w(out);
  w.open().str("event", "exchange").num("seq", e.seq).num("time_ms", e.time_ms);
  w.str("stage", e.stage).num("connection", e.connection).num("request", e.request);
  w.str("client_address", e.client_address).str("sni", e.sni).str("method", e.method).bytes("target", e.target);
  w.str("type", e.type).str("operation", e.operation).str("serials", e.serials).str("tokens", e.tokens);
  w.str("code", e.code).str("rule", e.rule).str("action", e.action).str("reason", e.reason);
  w.num("status", e.status).num("error_code", e.error_code).num("seed", e.seed).bytes("client_cert", e.client_cert);
  w.bytes("request_headers", e.request_headers).bytes("request_body", e.request_body).close();
}

void journal::clear() {
  auto locks = lock_all();
  cleared_before_ = next_.load(std::memory_order_relaxed);
}

}  // namespace fortisim::core
