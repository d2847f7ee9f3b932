// The FortiCare model, how a change becomes durable: applied in memory and queued under the
// model's exclusive lock, then written outside it. The first thread to wait for a change that is
// not on disk yet writes the whole queue in one transaction (one fsync for every change waiting:
// a group commit) while the others wait for it, and new changes queue up for the next. A failed
// write undoes its changes, and every change queued since (each may have read them), newest
// first, and every caller that made or saw one gets storage_error (a 503). Without --state a change
// is applied and done.
#include "server/core/model/model.hpp"

#include <algorithm>
#include <set>

namespace fortisim::core {

namespace {

/// Each key once: a change may name a record both to drop and to write.
template <class Record, class Key>
std::set<std::string, std::less<>> keys_of(const std::vector<Record>& records, Key key,
                                           const std::vector<std::string>& dropped) {
  std::set<std::string, std::less<>> keys(dropped.begin(), dropped.end());
  for (const auto& r : records) keys.insert(key(r));
  return keys;
}

/// Into `inverse`: each keyed record as `now` holds it, or its drop where `now` has none.
template <class Map>
void restore(const Map& now, const std::set<std::string, std::less<>>& keys,
             std::vector<typename Map::mapped_type>& records, std::vector<std::string>& dropped) {
  for (const auto& k : keys)
    if (auto it = now.find(k); it != now.end())
      records.push_back(it->second);
    else
      dropped.push_back(k);
}

}  // namespace

void model::commit_locked(const change& c) {
  if (c.empty()) return;
  if (!store_) return apply_in_memory_locked(c);
  // Everything that may fail to allocate comes first: once applied, the change is surely queued
  // (its writer waits for its number, which must be in the queue).
  queued_change q{0, c, inverse_locked(c)};
  std::lock_guard l(commit_mutex_);
  queue_.reserve(queue_.size() + 1);
  apply_in_memory_locked(c);
  q.seq = staged_seq_ + 1;
  queue_.push_back(std::move(q));  // room reserved: cannot throw
  staged_seq_ = queue_.back().seq;
}

change model::inverse_locked(const change& c) const {
  change inverse;
  inverse.clock_ms = c.clock_ms ? std::optional(clock_.now_ms()) : std::nullopt;
  if (c.wipe) {  // a reset: the whole world as it is
    inverse.wipe = true;
    for (const auto& [_, l] : licences_) inverse.licences.push_back(l);
    for (const auto& [_, t] : tokens_) inverse.tokens.push_back(t);
    for (const auto& [_, h] : hardware_) inverse.hardware.push_back(h);
    return inverse;
  }
  restore(licences_,
          keys_of(
              c.licences, [](auto& l) { return l.code; }, c.dropped_licences),
          inverse.licences, inverse.dropped_licences);
  restore(tokens_,
          keys_of(
              c.tokens, [](auto& t) { return t.serial; }, c.dropped_tokens),
          inverse.tokens, inverse.dropped_tokens);
  restore(hardware_,
          keys_of(
              c.hardware, [](auto& h) { return h.serial; }, c.dropped_hardware),
          inverse.hardware, inverse.dropped_hardware);
  return inverse;
}

void model::apply_in_memory_locked(const change& c) {
  if (c.wipe) {
    licences_.clear();
    tokens_.clear();
    hardware_.clear();
    by_activation_.clear();
    licence_codes_.clear();
    unredeemed_tokens_.clear();
  }
  for (const auto& code : c.dropped_licences)
    if (auto it = licences_.find(code); it != licences_.end()) {
      forget_locked(it->second);
      licences_.erase(it);
    }
  for (const auto& serial : c.dropped_tokens)
    if (auto it = tokens_.find(serial); it != tokens_.end()) {
      by_activation_.erase(it->second.activation);
      tokens_.erase(it);
    }
  for (const auto& serial : c.dropped_hardware) hardware_.erase(serial);
  for (const auto& l : c.licences) apply_locked(l);
  for (const auto& t : c.tokens) apply_locked(t);
  for (const auto& h : c.hardware) hardware_[h.serial] = h;
  if (c.clock_ms) clock_.set(*c.clock_ms);
}

void model::await_durable(std::uint64_t seq) {
  if (seq == 0 ||
      (seq <= resolved_seq_.load(std::memory_order_acquire) && seq > undone_upto_.load(std::memory_order_acquire)))
    return;  // nothing queued, or already on disk
  std::unique_lock l(commit_mutex_);
  while (resolved_seq_.load(std::memory_order_relaxed) < seq)
    if (writing_)
      committed_.wait(l);
    else
      write_queue(l);
  throw_if_undone(seq);
}

void model::wait_durable(std::uint64_t seq) const {
  if (seq == 0 ||
      (seq <= resolved_seq_.load(std::memory_order_acquire) && seq > undone_upto_.load(std::memory_order_acquire)))
    return;
  std::unique_lock l(commit_mutex_);
  committed_.wait(l, [&] { return resolved_seq_.load(std::memory_order_relaxed) >= seq; });
  throw_if_undone(seq);
}

void model::throw_if_undone(std::uint64_t seq) const {
  if (seq > undone_upto_.load(std::memory_order_relaxed)) return;
  for (const auto& u : undone_)
    if (seq >= u.first && seq <= u.last) throw storage_error(u.why);
  // As old as a failure forgotten: never a success it cannot vouch for.
  if (seq <= forgotten_upto_)
    throw storage_error("the outcome of this change is no longer known after " + std::to_string(max_undone_ranges) +
                        " failed writes; it may have been undone");
}

void model::write_queue(std::unique_lock<std::mutex>& l) {
  std::vector<queued_change> batch;
  batch.swap(queue_);
  // Cannot be (a change not resolved is queued or being written); said rather than looped on.
  if (batch.empty()) throw storage_error("a change waited for is not in the commit queue");
  writing_ = true;
  l.unlock();
  std::string failed;
  try {
    std::vector<const change*> forward;
    forward.reserve(batch.size());
    for (const auto& q : batch) forward.push_back(&q.forward);
    store_->write(forward);
  } catch (const std::exception& e) {  // a storage error, or memory running out: not written either way
    failed = e.what();
    if (failed.empty()) failed = "the write failed";
  }
  if (failed.empty()) {
    l.lock();
    changes_written_ += batch.size();
    ++commits_;
  } else {
    std::lock_guard lock(mutex_);  // nothing is read or queued while the changes are undone
    l.lock();
    batch.insert(batch.end(), std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    std::for_each(batch.rbegin(), batch.rend(), [&](const queued_change& q) { apply_in_memory_locked(q.inverse); });
    changes_undone_ += batch.size();
    undone_.push_back({batch.front().seq, batch.back().seq, failed});
    // Bounded: a waiter wakes long before 65,536 more writes fail (older ones answer 503, below).
    if (undone_.size() > max_undone_ranges) {
      forgotten_upto_ = undone_.front().last;
      undone_.pop_front();
    }
    undone_upto_.store(batch.back().seq, std::memory_order_release);
    // What is left is durable: a reader from now on sees that, not the changes undone.
    batch.back().seq = ++staged_seq_;
  }
  resolved_seq_.store(batch.back().seq, std::memory_order_release);
  writing_ = false;
  committed_.notify_all();
}

protocol::json model::state_status() const {
  if (!store_) return nullptr;
  std::lock_guard l(commit_mutex_);
  return {{"file", store_->path()},
          {"changes", changes_written_},
          {"commits", commits_},
          {"undone", changes_undone_},
          {"checkpoints", store_->checkpoints()}};
}

}  // namespace fortisim::core
