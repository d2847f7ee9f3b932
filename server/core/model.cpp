// The FortiCare model: its world built from a scenario, and the calls that do not belong to one
// operation (OTPs, the clock). The operations have their own files: model_licences.cpp,
// model_tokens.cpp, model_hardware.cpp; persistence is model_state.cpp.
#include "server/core/model.hpp"

#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"
#include "server/core/state_file.hpp"

#include <algorithm>
#include <stdexcept>

namespace fortisim::core {

using namespace protocol;

model::model(std::shared_ptr<const scenario> s, std::optional<std::string> state_path)
    : scenario_(std::move(s)),
      clock_(scenario_->clock_start_ms, scenario_->clock_rate),
      state_path_(std::move(state_path)) {
  std::lock_guard lock(mutex_);
  add_definitions_locked(*scenario_);
  if (state_path_) {
    if (auto text = read_whole_file(*state_path_)) {
      json j = json::parse(*text, nullptr, false);
      if (j.is_discarded() || !j.is_object() || j.value("format", 0) != 1)
        throw std::runtime_error(*state_path_ + ": not a fortisim state file (delete it to start clean)");
      restore_locked(j);
    }
    persist_locked();
  }
}

void model::adopt(std::shared_ptr<const scenario> s) {
  std::lock_guard lock(mutex_);
  scenario_ = std::move(s);
  add_definitions_locked(*scenario_);
  persist_locked();
}

void model::add_definitions_locked(const scenario& s) {
  for (const auto& l : s.licenses) {
    auto& lic = ensure_licence_locked(upper_case(l.activation_code), l.license, l.token_count, l.valid_until);
    if (!l.tokens.empty() && lic.bound_to.empty()) lic.tokens = l.tokens;
    if (lic.bound_to.empty() && !l.bound_to.empty()) {
      lic.bound_to = l.bound_to;
      std::sort(lic.bound_to.begin(), lic.bound_to.end());
      lic.registered_to = l.registered_to;
    }
    // A licence the scenario says is redeemed already has its tokens at FortiCare.
    if (!lic.bound_to.empty())
      for (const auto& serial : lic.tokens) ensure_token_locked(serial, lic.serial);
  }
  pinned_.clear();
  for (const auto& p : s.pinned_codes) pinned_[p.token] = p.activation_code;
  std::int64_t now = clock_.now_s();
  for (const auto& m : s.mobile_tokens) {
    if (tokens_.contains(m.token)) continue;
    auto& t = ensure_token_locked(m.token, m.license);
    activation_bytes bytes{};
    if (!m.activation_code.empty()) {
      bytes = *parse_user_activation_code(m.activation_code);
    } else {
      auto raw = derive_bytes(s.seed, "activation:" + m.token, 8);
      std::copy(raw.begin(), raw.end(), bytes.begin());
    }
    t.activation = activation_code_for_phone(bytes);
    t.secret = m.secret.empty() ? derive_secret(s.seed, m.token) : m.secret;
    t.digits = m.digits;
    t.period = m.period;
    t.expire = m.expire.value_or(now + s.activation_expiry_s);
    t.issuer = m.issuer;
    t.mobile_id = m.mobile_id;
    t.status = m.mobile_id.empty() ? token_status::pending : token_status::provisioned;
    by_activation_[t.activation] = t.serial;
  }
  for (const auto& h : s.hardware_tokens) {
    if (hardware_.contains(h.token)) continue;
    hardware_[h.token] = {h.token, h.secret.empty() ? derive_secret(s.seed, h.token) : h.secret, h.lock_consumed,
                          h.activated_by};
  }
}

model::licence& model::ensure_licence_locked(const std::string& code, const std::string& serial, int count,
                                             std::optional<std::int64_t> valid_until) {
  auto it = licences_.find(code);
  if (it != licences_.end()) return it->second;
  licence l;
  l.code = code;
  // Serials derive from the code, so a re-import (even after a restart) gives the same ones.
  l.serial = serial.empty() ? derive_serial("EFTM", 16, "license:" + code) : serial;
  for (int i = 0; i < count; ++i)
    l.tokens.push_back(derive_serial("FTKMOB", 16, "token:" + code + "#" + std::to_string(i)));
  l.valid_until = valid_until;
  licence_codes_[l.serial] = code;
  return licences_.emplace(code, std::move(l)).first->second;
}

model::mobile_token& model::ensure_token_locked(const std::string& serial, const std::string& license) {
  auto [it, inserted] = tokens_.try_emplace(serial);
  if (inserted) {
    it->second.serial = serial;
    it->second.license = license;
  } else if (it->second.license.empty()) {
    it->second.license = license;
  }
  return it->second;
}

void model::refresh_status_locked(mobile_token& t) const {
  if (t.status == token_status::pending && t.expire != 0 && clock_.now_s() > t.expire)
    t.status = token_status::timed_out;
}

reply_head model::head_locked(const envelope& env, operation op) const {
  auto head = head_for(env, scenario_->names.response[static_cast<std::size_t>(op)]);
  const auto& unknown = scenario_->clusters.not_registered;
  for (auto& m : head.members)
    if (std::find(unknown.begin(), unknown.end(), m.sn) != unknown.end()) m.error = std::string(member_not_registered);
  return head;
}

response model::answer(const request& r) {
  return std::visit(
      [this](const auto& q) -> response {
        using T = std::decay_t<decltype(q)>;
        if constexpr (std::is_same_v<T, activation_license_request>)
          return import_license(q);
        else if constexpr (std::is_same_v<T, polling_request>)
          return poll(q);
        else if constexpr (std::is_same_v<T, mobile_provision_request>)
          return mobile_provision(q);
        else if constexpr (std::is_same_v<T, provision_request>)
          return provision(q);
        else
          return activate_hardware(q);
      },
      r);
}

std::optional<otp_value> model::otp(std::string_view token) const {
  std::lock_guard lock(mutex_);
  std::int64_t now = clock_.now_s();
  auto make = [&](const std::string& serial, const std::string& secret, int digits, int period) {
    return otp_value{serial, totp(secret, now, period, digits), period - now % period, digits, period};
  };
  if (auto it = tokens_.find(token); it != tokens_.end() && !it->second.secret.empty())
    return make(it->second.serial, it->second.secret, it->second.digits, it->second.period);
  if (auto it = hardware_.find(token); it != hardware_.end())
    return make(it->second.serial, it->second.secret, 6, 60);  // FortiToken-200: 6 digits, 60 s
  return std::nullopt;
}

void model::advance_clock(std::int64_t ms) {
  std::lock_guard lock(mutex_);
  clock_.advance(ms);
  persist_locked();
}

json model::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_locked();
}

}  // namespace fortisim::core
