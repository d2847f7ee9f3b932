// The FortiCare model: licence import (docs/protocol.md §1 flow 1, §4.1).
#include "server/core/model.hpp"

#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"

#include <algorithm>

namespace fortisim::core {

using namespace protocol;

namespace {

/// The device identity of a request: its HA members, or the device alone (docs/protocol.md §3).
std::vector<std::string> identity_of(const envelope& env) {
  std::vector<std::string> ids = env.clustered_sns;
  if (!env.serial_number.empty()) ids.push_back(env.serial_number);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

bool overlaps(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(),
                     [&](const std::string& x) { return std::binary_search(b.begin(), b.end(), x); });
}

}  // namespace

activation_license_response model::import_license(const activation_license_request& r) {
  std::lock_guard lock(mutex_);
  const auto& s = *scenario_;
  activation_license_response out{head_locked(r.env, operation::activation_license), r.license_activation_code, "",
                                  std::nullopt, std::nullopt};
  auto fail = [&](error_id id) {
    out.error = s.errors[id];
    return out;
  };
  auto ids = identity_of(r.env);
  std::string code = upper_case(r.license_activation_code);
  licence* lic = nullptr;
  if (code == trial_activation_code) {
    // One trial licence per device (or cluster), the same again on a re-import.
    if (!s.trial_available) return fail(error_id::trial_already_used);
    std::string device = ids.empty() ? std::string("unknown") : ids.front();
    std::string key = "TRIAL:" + device;
    auto it = licences_.find(key);
    if (it == licences_.end()) {
      licence l;
      l.code = key;
      l.serial = derive_serial("FTMTRIAL", 16, "trial:" + device);
      for (int i = 0; i < s.trial_token_count; ++i)
        l.tokens.push_back(derive_serial("FTKMOB", 16, "trial-token:" + device + "#" + std::to_string(i)));
      licence_codes_[l.serial] = key;
      it = licences_.emplace(key, std::move(l)).first;
    }
    lic = &it->second;
  } else {
    auto it = licences_.find(code);
    if (it == licences_.end()) {
      if (!is_license_activation_code(code) || !s.unknown_codes.accept) return fail(error_id::card_not_found);
      lic = &ensure_licence_locked(code, "", s.unknown_codes.token_count, s.unknown_codes.valid_until);
    } else {
      lic = &it->second;
    }
  }
  if (lic->bound_to.empty()) {
    // An unredeemed code past its valid-until date is expired; once redeemed it stays usable.
    if (lic->valid_until && clock_.now_s() > *lic->valid_until) return fail(error_id::license_expired);
  } else if (!overlaps(lic->bound_to, ids)) {
    return fail(error_id::registered_to_another_device);
  }
  std::vector<std::string> merged = lic->bound_to;
  merged.insert(merged.end(), ids.begin(), ids.end());
  std::sort(merged.begin(), merged.end());
  merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
  bool changed = merged != lic->bound_to;
  if (lic->bound_to.empty() && !ids.empty())
    lic->registered_to = r.env.serial_number.empty() ? ids.front() : r.env.serial_number;
  lic->bound_to = std::move(merged);
  out.license = lic->serial;
  out.tokens.emplace();
  for (const auto& serial : lic->tokens) {
    if (!tokens_.contains(serial)) changed = true;
    ensure_token_locked(serial, lic->serial);
    out.tokens->push_back({serial, lic->serial});
  }
  if (changed) persist_locked();
  return out;
}

}  // namespace fortisim::core
