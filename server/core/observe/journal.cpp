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

/// Whether a text field holds what a filter wants, compared as the filter declares.
bool accepts(filter_match how, const std::string& value, const std::string& wanted) {
  switch (how) {
    case filter_match::equal: return value == wanted;
    case filter_match::word: return holds_word(value, wanted);
    case filter_match::type_name: return value == wanted || value == "SoftToken." + wanted;
  }
  return false;
}

/// An integer filter on a text field (error_code on errors): compared as text; 0 wants none.
bool accepts(filter_match how, const std::string& value, int wanted) {
  return wanted == 0 ? value.empty() : accepts(how, value, std::to_string(wanted));
}

template <class T>
constexpr bool is_number = std::is_arithmetic_v<std::remove_cvref_t<T>>;

/// Every field of `e` back to empty or 0; with `free_storage`, the strings' storage freed too
/// (clearing, or assigning an empty string, keeps it: libstdc++ reuses its buffer).
void empty_fields(journal_entry& e, bool free_storage) {
  for_each_journal_field([&](const auto& f) {
    auto& value = e.*f.member;
    if constexpr (is_number<decltype(value)>)
      value = 0;
    else if (free_storage)
      std::string().swap(value);
    else
      value.clear();
  });
}

}  // namespace

bool journal_filter::matches(const journal_entry& e) const {
  if (e.seq <= after) return false;
  bool all = true;
  for_each_journal_filter([&](const auto& f) {
    if (const auto& wanted = this->*f.wanted) all = all && accepts(f.match, e.*f.on, *wanted);
  });
  return all;
}

std::int64_t journal::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void journal::blank(journal_entry& e) { empty_fields(e, false); }

void journal::release(journal_entry& e) { empty_fields(e, true); }

void journal::cap(journal_entry& e) {
  for_each_journal_field([&](const auto& f) {
    if constexpr (!is_number<decltype(e.*f.member)>) {
      auto& value = e.*f.member;
      if (!f.kept || value.size() <= f.kept) return;
      // Cut on a character boundary, and marked, within the bound (a body's first bytes too).
      std::size_t n = f.kept - journal_cut_marker.size();
      while (n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;
      value.resize(n);
      value.append(journal_cut_marker);
      if (value.capacity() > 4 * f.kept) value.shrink_to_fit();  // a recording thread's entry keeps no megabytes
    }
  });
}

journal::journal(std::size_t capacity, std::size_t ring_bytes) : capacity_(capacity), ring_bytes_(ring_bytes) {
  // A ring per core or so (workers rarely share one); a ring takes memory only once a thread
  // records into it, and each keeps at most `capacity` entries, so the journal holds at most
  // 8 x capacity whatever the machine.
  for (std::size_t i = 0; i < shard_count(); ++i) rings_.push_back(std::make_unique<ring>());
}

std::size_t journal::held_bytes(const journal_entry& e) {
  std::size_t n = sizeof e;
  for_each_journal_field([&](const auto& f) {
    if constexpr (!is_number<decltype(e.*f.member)>) n += (e.*f.member).capacity();
  });
  return n;
}

void journal::ring::keep(const journal_entry& e, std::size_t capacity, std::size_t byte_limit) {
  // A ring takes memory as it fills (a large --journal-size costs nothing until it is used).
  if (written % capacity == slots.size()) slots.emplace_back();
  auto& slot = slots[written % capacity];
  if (written - oldest == capacity) {  // full: the oldest is overwritten, its storage reused
    bytes -= held_bytes(slot);
    ++oldest;
  }
  slot = e;
  ++written;
  bytes += held_bytes(slot);
  while (bytes > byte_limit && written - oldest > 1) {
    auto& old = slots[oldest++ % capacity];
    bytes -= held_bytes(old);
    release(old);
  }
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
    for (std::uint64_t i = r->oldest; i < r->written; ++i)
      if (const auto& e = r->slots[i % capacity_]; e.seq >= first) found.push_back(&e);
  std::sort(found.begin(), found.end(), [](const auto* a, const auto* b) { return a->seq < b->seq; });
  for (const auto* e : found)
    if (!f(*e)) return;
}

void journal::settle() const {
  // The window is a write syscall and the record after it (microseconds), unless the client reads
  // slowly: the wait is bounded so that a slow client never holds a reader up for long.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  while (writing_.load(std::memory_order_seq_cst) > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
}

protocol::json journal::select(const journal_filter& f, secrets s) const {
  settle();
  auto locks = lock_all();
  auto out = protocol::json::array();
  each_locked(f.after, [&](const journal_entry& e) {
    if (f.matches(e)) out.push_back(to_json(e, s));
    return !f.limit || out.size() < *f.limit;
  });
  return out;
}

std::size_t journal::count(const journal_filter& f) const {
  settle();
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

protocol::json journal::to_json(const journal_entry& e, secrets s) {
  auto j = protocol::json::object();
  std::string scratch;
  for_each_journal_field([&](const auto& f) {
    const auto& value = e.*f.member;
    auto& to = j[std::string(f.name)];
    if constexpr (is_number<decltype(value)>) {
      to = value;
    } else if (f.kind == field_kind::certificate) {
      auto names = split_certificate(value);
      to = value.empty() ? protocol::json(nullptr)
                         : protocol::json{{"subject", names.subject}, {"issuer", names.issuer}};
    } else {
      to = f.may_hold_secrets ? shown(value, s, scratch) : std::string_view(value);
    }
  });
  return j;
}

void journal::write_line(const journal_entry& e, std::string& out, secrets s) {
  protocol::json_writer w(out);
  thread_local std::string scratch;
  w.open().str("event", "exchange");
  for_each_journal_field([&](const auto& f) {
    if (!f.in_log_line) return;
    const auto& value = e.*f.member;
    if constexpr (is_number<decltype(value)>) {
      w.num(f.name, value);
    } else if (f.kind == field_kind::certificate) {
      if (value.empty()) {
        w.null(f.name);
      } else {
        auto names = split_certificate(value);
        w.key(f.name).open().bytes("subject", names.subject).bytes("issuer", names.issuer).close();
      }
    } else if (f.kind == field_kind::bytes) {
      w.bytes(f.name, f.may_hold_secrets ? shown(value, s, scratch) : std::string_view(value));
    } else {
      w.str(f.name, value);
    }
  });
  w.close();
}

std::uint64_t journal::watch(std::function<void()> wake) {
  std::lock_guard lock(watchers_mutex_);
  watchers_.emplace_back(next_watcher_, std::move(wake));
  watchers_count_.store(watchers_.size(), std::memory_order_seq_cst);  // against record's check: no lost wake-up
  return next_watcher_++;
}

void journal::unwatch(std::uint64_t id) {
  std::lock_guard lock(watchers_mutex_);
  std::erase_if(watchers_, [id](const auto& w) { return w.first == id; });
  watchers_count_.store(watchers_.size(), std::memory_order_release);
}

void journal::wake_watchers() {
  std::lock_guard lock(watchers_mutex_);
  for (const auto& [id, wake] : watchers_) wake();
}

void journal::clear(const std::function<std::uint64_t()>& count) {
  auto locks = lock_all();
  cleared_before_ = next_.load(std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_relaxed);
  requests_cleared_ = count();
}

}  // namespace fortisim::core
