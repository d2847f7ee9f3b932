// The FortiCare model, reset: the whole world back to the scenario's start (between tests), or
// one licence, token, device or hardware token. The start is computed, never stored: it is what
// the scenario declares, applied to an empty world.
#include "server/core/model/model.hpp"

#include "protocol/formats.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace fortisim::core {

using namespace protocol;

void model::reset() {
  write_durably([&]() {
    commit_locked(start_locked(*scenario_));
    test_tokens_ = 0;
    hardware_steps_.clear();
  });
}

change model::start_locked(const scenario& s) const {
  change c = definitions_locked(s, /*from_scratch=*/true);
  c.wipe = true;
  c.clock_ms = s.clock_start_ms.value_or(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  return c;
}

void model::reset_licence_locked(const std::string& code, const change& start, change& c) const {
  if (auto it = licences_.find(code); it != licences_.end()) {
    c.dropped_licences.push_back(code);
    for (const auto& t : it->second.tokens) c.dropped_tokens.push_back(t);
  }
  for (const auto& l : start.licences) {
    if (l.code != code) continue;
    c.licences.push_back(l);
    for (const auto& t : start.tokens)
      if (t.license == l.serial) c.tokens.push_back(t);
  }
}

model::reset_result model::reset_one(reset_target what, const std::string& key) {
  return write_durably([&]() -> reset_result {
    // The start, its derived serials clear of those the runtime gave (an unknown code's licence):
    // a licence reset must not take another's token.
    const change start = definitions_locked(*scenario_, /*from_scratch=*/true, /*clear_of_runtime=*/true);
    change c;
    switch (what) {
      case reset_target::licence: {
        // An activation code in any case; a trial's key ("TRIAL:" and its device's serial) as it is.
        std::string code = key.starts_with("TRIAL:") ? key : upper_case(key);
        if (!licences_.contains(code)) return {reset_result::unknown, {}};
        reset_licence_locked(code, start, c);
        break;
      }
      case reset_target::device: {
        for (const auto& [code, l] : licences_)
          if (std::binary_search(l.bound_to.begin(), l.bound_to.end(), key)) reset_licence_locked(code, start, c);
        if (c.empty()) return {reset_result::unknown, {}};
        break;
      }
      case reset_target::token: {
        auto it = tokens_.find(key);
        if (it == tokens_.end()) return {reset_result::unknown, {}};
        c.dropped_tokens.push_back(key);
        auto defined = std::find_if(start.tokens.begin(), start.tokens.end(), [&](auto& t) { return t.serial == key; });
        if (defined != start.tokens.end())
          c.tokens.push_back(*defined);
        else if (owns_token_of_redeemed_licence_locked(it->second))
          c.tokens.push_back(fresh_token(key, it->second.license));
        break;
      }
      case reset_target::hardware: {
        if (!hardware_.contains(key)) return {reset_result::unknown, {}};
        c.dropped_hardware.push_back(key);
        for (const auto& h : start.hardware)
          if (h.serial == key) c.hardware.push_back(h);
        break;
      }
    }
    if (auto why = code_clash_locked(c); !why.empty()) return {reset_result::refused, why};
    commit_locked(c);
    return {};
  });
}

std::string model::code_clash_locked(const change& c) const {
  // The tokens the change rewrites or drops give up their codes; a code is given once in it.
  std::set<std::string_view> moved(c.dropped_tokens.begin(), c.dropped_tokens.end());
  for (const auto& t : c.tokens) moved.insert(t.serial);
  std::map<std::string_view, std::string_view> given;
  for (const auto& t : c.tokens) {
    if (t.activation.empty()) continue;
    std::string_view holder;
    if (auto [it, fresh] = given.emplace(t.activation, t.serial); !fresh)
      holder = it->second;
    else if (auto held = by_activation_.find(t.activation);
             held != by_activation_.end() && !moved.contains(held->second))
      holder = held->second;
    if (!holder.empty())
      return t.serial + "'s activation code at the start, " + user_activation_code(t) + ", is token " +
             std::string(holder) +
             "'s now (a phone's code names one token): reset that token first, or both at once (a licence or device "
             "they share, or everything)";
  }
  return "";
}

bool model::owns_token_of_redeemed_licence_locked(const token_record& t) const {
  auto code = licence_codes_.find(t.license);
  return code != licence_codes_.end() && !licences_.at(code->second).bound_to.empty();
}

}  // namespace fortisim::core
