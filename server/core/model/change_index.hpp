// Which token of a change being built has a serial, or holds an activation code: found by a scan
// while the change is small, and through maps once it grows. A ProvisionRequest of thousands of
// tokens would otherwise scan its change for each entry, under the model's exclusive lock
// (quadratic: a request of 15,000 tokens spent a quarter of its locked time so).
#pragma once

#include "server/core/model/records.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fortisim::core {

class change_index {
 public:
  static constexpr std::size_t none = static_cast<std::size_t>(-1);
  /// The change is emptied to be built again: the maps are let go.
  void clear();
  /// Where in `c.tokens` the token with `serial` is, or `none`.
  std::size_t of_serial(const change& c, std::string_view serial) const;
  /// Where in `c.tokens` the token holding activation code `hex` is, or `none`.
  std::size_t of_code(const change& c, std::string_view hex) const;
  /// `c.tokens[i]`'s code is about to change (call `noted` after).
  void recoding(const change& c, std::size_t i);
  /// `c.tokens[i]` was added, or its code changed.
  void noted(const change& c, std::size_t i);

 private:
  static constexpr std::size_t scanned_up_to = 32;
  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using positions = std::unordered_map<std::string, std::size_t, text_hash, std::equal_to<>>;
  static std::size_t find(const positions& map, std::string_view key);
  positions serials_, codes_;
  bool mapped_ = false;
};

}  // namespace fortisim::core
