// The FortiCare model: FTM tokens, provisioned by a FortiGate (or a test), fetched by the phone,
// and polled (docs/protocol.md §1 flows 2-4, §4.2-4.4).
#include "server/core/model.hpp"

#include "protocol/formats.hpp"
#include "protocol/qr_code.hpp"
#include "protocol/seed_crypto.hpp"

#include <algorithm>

namespace fortisim::core {

using namespace protocol;

namespace {

/// The device identity of a request: its HA members and the device itself.
bool in_identity(const envelope& env, const std::vector<std::string>& bound) {
  auto has = [&](const std::string& sn) { return std::binary_search(bound.begin(), bound.end(), sn); };
  return has(env.serial_number) || std::any_of(env.clustered_sns.begin(), env.clustered_sns.end(), has);
}

provisioned_result failed(const std::string& token, error_value e) {
  return {token, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::move(e)};
}

}  // namespace

bool model::owns_locked(const mobile_token& t, const envelope& env) const {
  auto code = licence_codes_.find(t.license);
  if (code == licence_codes_.end()) return false;
  const auto& lic = licences_.at(code->second);
  if (lic.bound_to.empty()) return false;
  // FortiOS 7.4.9 (KB 424201): only the serial the licence is registered to.
  if (scenario_->clusters.registered_serial_only) return lic.registered_to == env.serial_number;
  return in_identity(env, lic.bound_to);
}

std::optional<activation_bytes> model::next_code_locked(const mobile_token& t, const std::string& client_code) const {
  if (auto pin = pinned_.find(t.serial); pin != pinned_.end()) return parse_user_activation_code(pin->second);
  if (!client_code.empty()) return parse_phone_activation_code(client_code);
  activation_bytes bytes{};
  for (std::uint64_t n = t.provisions;; ++n) {
    auto raw = derive_bytes(scenario_->seed, "activation:" + t.serial + "#" + std::to_string(n), 8);
    std::copy(raw.begin(), raw.end(), bytes.begin());
    auto in_use = by_activation_.find(activation_code_for_phone(bytes));
    if (in_use == by_activation_.end() || in_use->second == t.serial) return bytes;
  }
}

provisioned_result model::provision_one_locked(const provisioned_token& p, const envelope& env, bool& changed) {
  const auto& s = *scenario_;
  auto it = tokens_.find(p.token);
  // Unknown to FortiCare, or another's: 31 [seen for another's token, KB 308115].
  if (it == tokens_.end() || !owns_locked(it->second, env)) return failed(p.token, s.errors[error_id::token_not_owned]);
  auto& t = it->second;
  auto secret = p.seed.empty() ? std::optional<std::string>(derive_secret(s.seed, p.token)) : hex_decode(p.seed);
  auto invalid = [&](const char* what) {
    auto e = s.errors[error_id::invalid_field];
    e.message += std::string(": ") + what;
    return failed(p.token, std::move(e));
  };
  if (!secret || secret->size() != 20) return invalid("seed (40 hex digits)");
  auto code = next_code_locked(t, p.activation_code);
  if (!code) return invalid("activation_code (16 lowercase hex digits)");
  std::int64_t minutes = p.code_expire > 0 ? p.code_expire : s.activation_expiry_s / 60;
  if (!t.activation.empty()) by_activation_.erase(t.activation);
  t.activation = activation_code_for_phone(*code);
  t.secret = *secret;
  t.digits = p.digits;
  t.period = p.period;
  t.expire = clock_.now_s() + minutes * 60;
  t.mobile_id.clear();
  t.os_ver.clear();
  t.reg_id.clear();
  t.status = token_status::pending;
  ++t.provisions;
  by_activation_[t.activation] = t.serial;
  changed = true;
  std::string user_code = activation_code_for_user(*code);
  return {t.serial, t.license, user_code, base64_encode(qr_png(user_code)), minutes, std::nullopt};
}

provision_response model::provision(const provision_request& r) {
  std::lock_guard lock(mutex_);
  provision_response out{head_locked(r.env, operation::provision), {}, 0, std::nullopt};
  bool changed = false;
  for (const auto& p : r.tokens) out.tokens.push_back(provision_one_locked(p, r.env, changed));
  bool any = std::any_of(out.tokens.begin(), out.tokens.end(), [](const auto& t) { return !t.error; });
  // 2 on success [seen]; when no token succeeds, 0 and 17 [seen]. Some of each: 2 [assumed].
  out.result = any ? 2 : 0;
  if (!any) out.error = scenario_->errors[error_id::no_valid_token];
  if (changed) persist_locked();
  return out;
}

mobile_provision_response model::mobile_provision(const mobile_provision_request& r) {
  std::lock_guard lock(mutex_);
  const auto& s = *scenario_;
  mobile_provision_response out;
  out.type = s.names.response[static_cast<std::size_t>(operation::mobile_provision)];
  out.version = r.version;  // the app's own version and build, echoed [assumed]
  out.device_version = r.device_version;
  out.device_build = r.device_build;
  auto refuse = [&] {
    out.error = s.errors[error_id::activation_code_invalid];
    return out;
  };
  // The phone's key: its mobile_id, or the first 16 bytes of a longer one (an iOS UUID) [assumed].
  if (r.mobile_id.size() < 16 || (r.mobile_id.size() > 16 && !s.long_mobile_id_first_16)) return refuse();
  std::string phone = r.mobile_id.substr(0, 16);
  // Unknown, expired, or bound to another phone: all one error 40 [seen].
  auto code = by_activation_.find(r.token_activation_code);
  if (code == by_activation_.end()) return refuse();
  auto& t = tokens_.at(code->second);
  refresh_status_locked(t);
  if (t.status == token_status::timed_out) return refuse();
  if (!t.mobile_id.empty() && t.mobile_id != phone) return refuse();
  auto seed = encrypt_seed_for_phone(t.secret, phone);
  if (!seed) return refuse();
  bool changed = t.mobile_id != phone || t.status != token_status::provisioned;
  t.mobile_id = phone;
  t.status = token_status::provisioned;
  for (auto [field, value] : {std::pair{&t.os_ver, &r.device_version}, std::pair{&t.reg_id, &r.registration_id}}) {
    if (value->empty() || *value == *field) continue;
    *field = *value;
    changed = true;
  }
  out.mobile_id_hash = sha1_hex(r.mobile_id);
  out.seed = *seed;
  out.token = t.serial;
  out.pin_required = "0";
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

std::variant<provisioned_for_test, std::string> model::provision_for_test(std::string token) {
  std::lock_guard lock(mutex_);
  const auto& s = *scenario_;
  if (token.empty()) {
    do
      token =
          derive_serial("FTKMOB", 16, "test-token:" + std::to_string(s.seed) + "#" + std::to_string(test_tokens_++));
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

}  // namespace fortisim::core
