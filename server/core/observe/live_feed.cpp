#include "server/core/observe/live_feed.hpp"

#include <algorithm>

namespace fortisim::core {

std::uint64_t live_feed::subscription::take(std::string& out, std::uint64_t sent_upto) {
  std::lock_guard lock(mutex_);
  for (const auto& e : queue_)
    if (e.seq == 0 || e.seq > sent_upto) out += e.text;
  queue_.clear();
  bytes_ = 0;
  return std::exchange(dropped_, 0);
}

bool live_feed::subscription::push(std::uint64_t seq, const std::string& text, bool& was_empty) {
  std::lock_guard lock(mutex_);
  was_empty = queue_.empty();
  if (queue_.size() >= capacity_ || bytes_ + text.size() > byte_limit) {
    ++dropped_;
    return false;
  }
  queue_.push_back({seq, text});
  bytes_ += text.size();
  return true;
}

std::shared_ptr<live_feed::subscription> live_feed::subscribe(std::size_t capacity, std::function<void()> wake,
                                                              std::size_t max_subscribers) {
  std::lock_guard lock(mutex_);
  if (subs_.size() >= max_subscribers) return nullptr;
  auto s = std::make_shared<subscription>(capacity, std::move(wake));
  subs_.push_back(s);
  count_.store(subs_.size(), std::memory_order_relaxed);
  return s;
}

void live_feed::unsubscribe(const std::shared_ptr<subscription>& s) {
  std::lock_guard lock(mutex_);
  std::erase(subs_, s);
  count_.store(subs_.size(), std::memory_order_relaxed);
}

void live_feed::publish(std::uint64_t seq, const std::string& text) {
  std::vector<std::shared_ptr<subscription>> to_wake;
  {
    std::lock_guard lock(mutex_);
    for (const auto& s : subs_) {
      bool was_empty = false;
      if (!s->push(seq, text, was_empty))
        dropped_.fetch_add(1, std::memory_order_relaxed);
      else if (was_empty)
        to_wake.push_back(s);
    }
  }
  for (const auto& s : to_wake) s->wake_();
}

protocol::json live_feed::exchange_json(const journal_entry& e) const {
  return journal::to_json(e, show_secrets_ ? secrets::shown : secrets::hidden);
}

std::string live_feed::exchange_event(const journal_entry& e) const {
  return "id: " + std::to_string(e.seq) +
         "\nevent: exchange\ndata: " + exchange_json(e).dump(-1, ' ', false, protocol::json::error_handler_t::replace) +
         "\n\n";
}

void live_feed::publish_exchange(const journal_entry& e) {
  if (count_.load(std::memory_order_relaxed) == 0) return;
  publish(e.seq, exchange_event(e));
}

void live_feed::publish_notice(std::string_view event, const protocol::json& fields) {
  if (count_.load(std::memory_order_relaxed) == 0) return;
  protocol::json j{{"event", event}};
  j.update(fields);
  publish(0, "event: notice\ndata: " + j.dump(-1, ' ', false, protocol::json::error_handler_t::replace) + "\n\n");
}

}  // namespace fortisim::core
