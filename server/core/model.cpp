#include "server/core/model.hpp"

#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"
#include "server/core/state_file.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace fortisim::core {

using namespace protocol;

namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

/// The device identity of a request: its HA members, or the device alone (PROTOCOL.md §3).
std::vector<std::string> identity_of(const envelope& env) {
  std::vector<std::string> ids = env.clustered_sns;
  if (!env.serial_number.empty()) ids.push_back(env.serial_number);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

bool overlaps(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& x) { return std::binary_search(b.begin(), b.end(), x); });
}

constexpr std::array<std::string_view, 4> status_names{"new", "pending", "provisioned", "provision timeout"};

}  // namespace

std::string_view status_text(token_status s) { return status_names[static_cast<std::size_t>(s)]; }

model::model(std::shared_ptr<const scenario> s, std::optional<std::string> state_path)
    : scenario_(std::move(s)), clock_(scenario_->clock_start_ms, scenario_->clock_rate), state_path_(std::move(state_path)) {
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
    auto& lic = ensure_licence_locked(upper(l.activation_code), l.license, l.token_count, l.valid_until);
    if (!l.tokens.empty() && lic.bound_to.empty()) lic.tokens = l.tokens;
    if (lic.bound_to.empty() && !l.bound_to.empty()) {
      lic.bound_to = l.bound_to;
      std::sort(lic.bound_to.begin(), lic.bound_to.end());
    }
  }
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
    hardware_[h.token] = {h.token, h.secret.empty() ? derive_secret(s.seed, h.token) : h.secret, h.lock_consumed, h.activated_by};
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
  for (int i = 0; i < count; ++i) l.tokens.push_back(derive_serial("FTKMOB", 16, "token:" + code + "#" + std::to_string(i)));
  l.valid_until = valid_until;
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
  if (t.status == token_status::pending && t.expire != 0 && clock_.now_s() > t.expire) t.status = token_status::timed_out;
}

reply_head model::head_locked(const envelope& env, operation op) const {
  return head_for(env, scenario_->names.response[static_cast<std::size_t>(op)]);
}

activation_license_response model::import_license(const activation_license_request& r) {
  std::lock_guard lock(mutex_);
  const auto& s = *scenario_;
  activation_license_response out{head_locked(r.env, operation::activation_license), r.license_activation_code, "", std::nullopt, std::nullopt};
  auto fail = [&](error_id id) {
    out.error = s.errors[id];
    return out;
  };
  auto ids = identity_of(r.env);
  std::string code = upper(r.license_activation_code);
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

provision_response model::provision(const provision_request& r) {
  std::lock_guard lock(mutex_);
  const auto& s = *scenario_;
  provision_response out{head_locked(r.env, operation::provision), {}, std::nullopt};
  std::int64_t now = clock_.now_s();
  bool changed = false;
  for (const auto& p : r.tokens) {
    token_result res{p.token, "", std::nullopt};
    auto it = tokens_.find(p.token);
    std::optional<std::string> secret = p.seed.empty() ? std::optional<std::string>(derive_secret(s.seed, p.token)) : hex_decode(p.seed);
    if (it == tokens_.end()) {
      res.error = s.errors[error_id::token_not_found];
    } else if (!is_lower_hex(p.activation_code, 16) || !secret || secret->size() != 20) {
      res.error = s.errors[error_id::invalid_field];
      res.error->message += !is_lower_hex(p.activation_code, 16) ? ": activation_code (16 lowercase hex)" : ": seed (40 hex)";
    } else {
      auto& t = it->second;
      if (!t.activation.empty()) by_activation_.erase(t.activation);
      t.activation = p.activation_code;
      t.secret = *secret;
      t.digits = p.digits;
      t.period = p.period;
      t.expire = p.expire != 0 ? p.expire : now + s.activation_expiry_s;
      t.issuer = p.issuer;
      t.mobile_id.clear();
      t.os_ver.clear();
      t.reg_id.clear();
      t.status = token_status::pending;
      by_activation_[t.activation] = t.serial;
      changed = true;
    }
    out.tokens.push_back(std::move(res));
  }
  if (changed) persist_locked();
  return out;
}

mobile_provision_response model::mobile_provision(const mobile_provision_request& r) {
  std::lock_guard lock(mutex_);
  const auto& s = *scenario_;
  mobile_provision_response out;
  out.type = s.names.response[static_cast<std::size_t>(operation::mobile_provision)];
  auto refuse = [&] {
    out.error = s.errors[error_id::activation_code_invalid];
    return out;
  };
  // Unknown, expired, or bound to another phone: all one error 40 [seen].
  auto code = by_activation_.find(r.token_activation_code);
  if (code == by_activation_.end() || r.mobile_id.size() != 16) return refuse();
  auto& t = tokens_.at(code->second);
  refresh_status_locked(t);
  if (t.status == token_status::timed_out) return refuse();
  if (!t.mobile_id.empty() && t.mobile_id != r.mobile_id) return refuse();
  auto seed = encrypt_seed_for_phone(t.secret, r.mobile_id);
  if (!seed) return refuse();
  bool changed = t.mobile_id != r.mobile_id || t.status != token_status::provisioned;
  t.mobile_id = r.mobile_id;
  t.status = token_status::provisioned;
  if (!r.os_ver.empty() && r.os_ver != t.os_ver) {
    t.os_ver = r.os_ver;
    changed = true;
  }
  if (!r.reg_id.empty() && r.reg_id != t.reg_id) {
    t.reg_id = r.reg_id;
    changed = true;
  }
  out.mobile_id_hash = sha1_hex(r.mobile_id);
  out.seed = *seed;
  out.token = t.serial;
  out.pin_required = "0";
  out.pin_length = 0;
  out.counter = 0;
  out.issuer = t.issuer;
  if (changed) persist_locked();
  return out;
}

polling_response model::poll(const polling_request& r) {
  std::lock_guard lock(mutex_);
  polling_response out{head_locked(r.env, operation::polling), {}, std::nullopt};
  for (const auto& serial : r.tokens) {
    auto it = tokens_.find(serial);
    if (it == tokens_.end()) {
      out.tokens.push_back({serial, "", "not found", "", "", 0});
      continue;
    }
    auto& t = it->second;
    refresh_status_locked(t);
    out.tokens.push_back({t.serial, t.license, std::string(status_text(t.status)), t.os_ver, t.reg_id,
                          t.status == token_status::pending ? t.expire : 0});
  }
  return out;
}

hardware_activation_response model::activate_hardware(const hardware_activation_request& r) {
  std::lock_guard lock(mutex_);
  const auto& s = *scenario_;
  hardware_activation_response out{head_locked(r.env, operation::hardware_activation), {}, std::nullopt};
  // `execute fortitoken activate` takes up to 20 serials [doc].
  if (r.tokens.size() > 20) {
    out.error = s.errors[error_id::too_many_tokens];
    return out;
  }
  bool changed = false;
  std::string device = r.env.serial_number;
  for (const auto& serial : r.tokens) {
    token_result res{serial, "", std::nullopt};
    auto it = hardware_.find(serial);
    if (it == hardware_.end() && s.accept_unknown_hardware && is_hardware_token_serial(serial))
      it = hardware_.emplace(serial, hardware_token{serial, derive_secret(s.seed, serial), false, ""}).first;
    if (it == hardware_.end()) {
      res.error = s.errors[error_id::hardware_token_not_found];
    } else if (it->second.consumed) {
      res.error = s.errors[error_id::hardware_lock_consumed];  // and no seed [KB 232153]
    } else {
      it->second.consumed = true;  // the one-time lock, consumed under the model's mutex
      it->second.activated_by = device;
      res.seed = hex_encode(it->second.secret);
      changed = true;
    }
    out.tokens.push_back(std::move(res));
  }
  if (changed) persist_locked();
  return out;
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

bool model::release_lock(std::string_view token) {
  std::lock_guard lock(mutex_);
  auto it = hardware_.find(token);
  if (it == hardware_.end()) return false;
  it->second.consumed = false;
  it->second.activated_by.clear();
  persist_locked();
  return true;
}

std::variant<provisioned_for_test, std::string> model::provision_for_test(std::string token) {
  std::lock_guard lock(mutex_);
  const auto& s = *scenario_;
  if (token.empty()) {
    do token = derive_serial("FTKMOB", 16, "test-token:" + std::to_string(s.seed) + "#" + std::to_string(test_tokens_++));
    while (tokens_.contains(token));
  } else if (!is_mobile_token_serial(token)) {
    return std::string("token: expected \"FTKMOB\" + 10 letters or digits");
  }
  auto& t = ensure_token_locked(token, "");
  activation_bytes bytes{};
  std::string raw;
  do raw = derive_bytes(s.seed, "activation:" + token + "#" + std::to_string(test_tokens_++), 8);
  while (by_activation_.contains(hex_encode(raw)));
  std::copy(raw.begin(), raw.end(), bytes.begin());
  if (!t.activation.empty()) by_activation_.erase(t.activation);
  t.activation = activation_code_for_phone(bytes);
  if (t.secret.empty()) t.secret = derive_secret(s.seed, token);
  t.expire = clock_.now_s() + s.activation_expiry_s;
  t.status = token_status::pending;
  t.mobile_id.clear();
  by_activation_[t.activation] = t.serial;
  persist_locked();
  return provisioned_for_test{t.serial, activation_code_for_user(bytes), t.activation, t.expire};
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

json model::snapshot_locked() const {
  json j;
  j["format"] = 1;
  j["clock_ms"] = clock_.now_ms();
  j["licenses"] = json::array();
  for (const auto& [code, l] : licences_) {
    json e{{"activation_code", l.code}, {"license", l.serial}, {"tokens", l.tokens}, {"bound_to", l.bound_to}};
    e["valid_until"] = l.valid_until ? json(*l.valid_until) : json(nullptr);
    j["licenses"].push_back(std::move(e));
  }
  j["tokens"] = json::array();
  for (const auto& [serial, t] : tokens_) {
    j["tokens"].push_back({{"token", t.serial}, {"license", t.license}, {"status", status_text(t.status)},
                           {"activation", t.activation}, {"secret", hex_encode(t.secret)}, {"digits", t.digits},
                           {"period", t.period}, {"expire", t.expire}, {"issuer", t.issuer},
                           {"mobile_id", t.mobile_id}, {"os_ver", t.os_ver}, {"reg_id", t.reg_id}});
  }
  j["hardware_tokens"] = json::array();
  for (const auto& [serial, h] : hardware_) {
    j["hardware_tokens"].push_back({{"token", h.serial}, {"secret", hex_encode(h.secret)},
                                    {"lock", h.consumed ? "consumed" : "available"}, {"activated_by", h.activated_by}});
  }
  return j;
}

void model::persist_locked() {
  if (!state_path_) return;
  // Under the mutex on purpose: the file always follows the order of changes.
  if (auto error = write_file_atomically(*state_path_, snapshot_locked().dump(1))) throw std::runtime_error(*error);
}

void model::restore_locked(const json& j) {
  if (auto c = j.find("clock_ms"); c != j.end() && c->is_number_integer()) clock_.set(c->get<std::int64_t>());
  for (const auto& e : j.value("licenses", json::array())) {
    licence l;
    l.code = e.value("activation_code", "");
    l.serial = e.value("license", "");
    l.tokens = e.value("tokens", std::vector<std::string>{});
    l.bound_to = e.value("bound_to", std::vector<std::string>{});
    if (e.contains("valid_until") && e["valid_until"].is_number_integer()) l.valid_until = e["valid_until"].get<std::int64_t>();
    licences_[l.code] = std::move(l);
  }
  for (const auto& e : j.value("tokens", json::array())) {
    mobile_token t;
    t.serial = e.value("token", "");
    t.license = e.value("license", "");
    std::string status = e.value("status", "new");
    for (std::size_t i = 0; i < status_names.size(); ++i)
      if (status_names[i] == status) t.status = static_cast<token_status>(i);
    t.activation = e.value("activation", "");
    t.secret = hex_decode(e.value("secret", "")).value_or("");
    t.digits = e.value("digits", 6);
    t.period = e.value("period", 60);
    t.expire = e.value("expire", std::int64_t{0});
    t.issuer = e.value("issuer", "");
    t.mobile_id = e.value("mobile_id", "");
    t.os_ver = e.value("os_ver", "");
    t.reg_id = e.value("reg_id", "");
    if (!t.activation.empty()) by_activation_[t.activation] = t.serial;
    tokens_[t.serial] = std::move(t);
  }
  for (const auto& e : j.value("hardware_tokens", json::array())) {
    hardware_token h{e.value("token", ""), hex_decode(e.value("secret", "")).value_or(""),
                     e.value("lock", "available") == "consumed", e.value("activated_by", "")};
    hardware_[h.serial] = std::move(h);
  }
}

}  // namespace fortisim::core
