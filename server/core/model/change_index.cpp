#include "server/core/model/change_index.hpp"

#include <algorithm>

namespace fortisim::core {

void change_index::clear() {
  if (!mapped_) return;
  serials_ = {}, codes_ = {};  // their memory too: one large request does not keep it
  mapped_ = false;
}

std::size_t change_index::find(const positions& map, std::string_view key) {
  auto it = map.find(key);
  return it == map.end() ? none : it->second;
}

std::size_t change_index::of_serial(const change& c, std::string_view serial) const {
  if (mapped_) return find(serials_, serial);
  auto it = std::find_if(c.tokens.begin(), c.tokens.end(), [&](const auto& t) { return t.serial == serial; });
  return it == c.tokens.end() ? none : static_cast<std::size_t>(it - c.tokens.begin());
}

std::size_t change_index::of_code(const change& c, std::string_view hex) const {
  if (mapped_) return find(codes_, hex);
  auto it = std::find_if(c.tokens.begin(), c.tokens.end(), [&](const auto& t) { return t.activation == hex; });
  return it == c.tokens.end() ? none : static_cast<std::size_t>(it - c.tokens.begin());
}

void change_index::recoding(const change& c, std::size_t i) {
  if (!mapped_) return;
  if (auto it = codes_.find(c.tokens[i].activation); it != codes_.end() && it->second == i) codes_.erase(it);
}

void change_index::noted(const change& c, std::size_t i) {
  if (!mapped_) {
    if (c.tokens.size() <= scanned_up_to) return;
    mapped_ = true;  // the change outgrew a scan: every token so far goes in
    for (std::size_t j = 0; j < c.tokens.size(); ++j) noted(c, j);
    return;
  }
  const auto& t = c.tokens[i];
  serials_.try_emplace(t.serial, i);
  if (!t.activation.empty()) codes_.insert_or_assign(t.activation, i);
}

}  // namespace fortisim::core
