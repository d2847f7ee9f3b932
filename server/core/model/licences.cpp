// The FortiCare model: licence import (docs/protocol.md §1 flow 1, §4.1).
#include "server/core/model/model.hpp"

#include "protocol/formats.hpp"

#include <algorithm>
#include <shared_mutex>

namespace fortisim::core {

using namespace protocol;

namespace {

/// The device identity of a request: its HA members and the device itself, sorted (§3).
std::vector<std::string> identity_of(const envelope& env) {
  std::vector<std::string> ids = env.clustered_sns;
  if (!env.serial_number.empty()) ids.push_back(env.serial_number);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
  return out.empty() ? "no device" : out;
}

/// Whether the request names at least one device and every one it names is in `bound` (sorted):
/// a re-import that binds nothing new. Allocates nothing.
bool all_bound(const envelope& env, const std::vector<std::string>& bound) {
  auto in = [&](const std::string& sn) { return std::binary_search(bound.begin(), bound.end(), sn); };
  if (env.serial_number.empty() && env.clustered_sns.empty()) return false;
  return (env.serial_number.empty() || in(env.serial_number)) &&
         std::all_of(env.clustered_sns.begin(), env.clustered_sns.end(), in);
}

/// The reply's licence and tokens, written over the last reply's (their strings keep their storage).
void answer_licence(const licence_record& l, activation_license_response& out) {
  out.error.reset();
  out.license.assign(l.serial);
  if (!out.tokens) out.tokens.emplace();
  out.tokens->resize(l.tokens.size());
  for (std::size_t i = 0; i < l.tokens.size(); ++i) {
    (*out.tokens)[i].token.assign(l.tokens[i]);
    (*out.tokens)[i].license.assign(l.serial);
  }
}

bool overlaps(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(),
                     [&](const std::string& x) { return std::binary_search(b.begin(), b.end(), x); });
}

}  // namespace

const licence_record* model::licence_for_locked(std::string_view code, const envelope& env, error_id& refusal,
                                                std::optional<licence_record>& made, bool serials) const {
  const auto& s = *scenario_;
  if (code == trial_activation_code) {
    // One trial licence per device (or cluster), the same again on a re-import.
    if (!s.trial_available) return refusal = error_id::trial_already_used, nullptr;
    auto ids = identity_of(env);
    std::string device = ids.empty() ? std::string("unknown") : ids.front();
    if (auto it = licences_.find("TRIAL:" + device); it != licences_.end()) return &it->second;
    licence_record& l = made.emplace();
    l.code = "TRIAL:" + device;
    if (!serials) return &l;
    auto taken = [&](const std::string& serial) { return serial_in_use_locked(serial); };
    l.serial = unique_serial("FTMTRIAL", "trial:" + device, taken);
    add_tokens(l, "trial-token:" + device, s.trial_token_count, taken);
    return &l;
  }
  if (auto it = licences_.find(code); it != licences_.end()) return &it->second;
  if (!is_license_activation_code(code) || !s.unknown_codes.accept) return refusal = error_id::card_not_found, nullptr;
  if (!serials) {
    licence_record& l = made.emplace();
    l.code = code;
    l.valid_until = s.unknown_codes.valid_until;
    return &l;
  }
  return &made.emplace(new_licence(code, "", s.unknown_codes.token_count, s.unknown_codes.valid_until,
                                   [&](const std::string& serial) { return serial_in_use_locked(serial); }));
}

activation_license_response model::import_license(const activation_license_request& r, std::string* why) {
  activation_license_response out;
  import_license(r, out, why);
  return out;
}

void model::import_license(const activation_license_request& r, activation_license_response& out, std::string* why) {
  // Most imports change nothing (a refusal, a re-import): those run side by side under a shared
  // lock; one that changes the world runs again under the exclusive lock, from the start.
  bool answered = false;
  std::uint64_t seen = 0;
  {
    std::shared_lock lock(mutex_);
    answered = import_locked(r, out, why, false);
    seen = staged_seq_;
  }
  // Only an answer waits for what it read to be durable: an attempt given up has told nothing.
  if (answered) return wait_durable(seen);
  write_durably([&] { import_locked(r, out, why, true); });
}

bool model::import_locked(const activation_license_request& r, activation_license_response& out, std::string* why_out,
                          bool may_change) {
  // Every field of `out` is set on every path: it may hold the last request's reply.
  reason why(why_out);
  head_locked(r.env, operation::activation_license, out.head);
  out.license_activation_code.assign(r.license_activation_code);
  auto refuse = [&](error_id id, const auto&... because) {
    out.license.clear();
    out.tokens.reset();
    out.error = scenario_->errors[id];  // into the last reply's error, if it had one: no allocation
    why(because...);
    return true;
  };
  std::string upper;  // only when the client wrote the code in lower case
  std::string_view code = upper_case(r.license_activation_code, upper);
  error_id refusal{};
  std::optional<licence_record> made;
  const licence_record* found = licence_for_locked(code, r.env, refusal, made, may_change);
  if (!found)
    return refusal == error_id::trial_already_used ? refuse(refusal, "the scenario has no trial (trial.available)")
           : is_license_activation_code(code)      ? refuse(refusal, "FortiCare knows no licence card ", code)
                                                   : refuse(refusal, "\"", code, "\" is not a licence activation code");
  // An unredeemed code past its valid-until date is expired; once redeemed it stays usable.
  if (found->bound_to.empty() && found->valid_until && clock_.now_s() > *found->valid_until)
    return refuse(error_id::license_expired, "licence code ", code, " was never redeemed and expired at ",
                  utc_time{*found->valid_until});
  // A new licence always changes the world: made again, serials and all, under the exclusive lock.
  if (made && !may_change) return false;
  // A re-import by devices the licence is bound to, every token known: nothing changes, and the
  // answer is written from the record as it stands (most imports are these).
  if (!made && all_bound(r.env, found->bound_to) &&
      std::all_of(found->tokens.begin(), found->tokens.end(), [&](auto& t) { return tokens_.contains(t); })) {
    why("re-import: licence ", found->serial, " is bound to ", found->bound_to);
    answer_licence(*found, out);
    why(found->tokens.size(), " tokens");
    return true;
  }
  licence_record l = made ? std::move(*made) : licence_record(*found);  // copied only now that it may change
  auto ids = identity_of(r.env);
  std::string said;
  if (l.bound_to.empty()) {
    if (!ids.empty()) l.registered_to = r.env.serial_number.empty() ? ids.front() : r.env.serial_number;
    said = "first import: licence " + l.serial + " now bound to " + joined(ids);
  } else if (!overlaps(l.bound_to, ids)) {
    return refuse(error_id::registered_to_another_device, "licence ", code, " is bound to ", joined(l.bound_to), "; ",
                  joined(ids), " is not in its cluster");
  } else {
    said = "re-import: licence " + l.serial + " is bound to " + joined(l.bound_to);
  }
  l.bound_to.insert(l.bound_to.end(), ids.begin(), ids.end());
  std::sort(l.bound_to.begin(), l.bound_to.end());
  l.bound_to.erase(std::unique(l.bound_to.begin(), l.bound_to.end()), l.bound_to.end());
  change c;
  if (auto it = licences_.find(l.code); it == licences_.end() || it->second != l) c.licences.push_back(l);
  for (const auto& serial : l.tokens)
    if (!tokens_.contains(serial)) c.tokens.push_back(fresh_token(serial, l.serial));
  if (!c.empty() && !may_change) return false;
  why(said);
  answer_licence(l, out);
  commit_locked(c);  // durable before the reply says so
  why(l.tokens.size(), " tokens");
  return true;
}

}  // namespace fortisim::core
