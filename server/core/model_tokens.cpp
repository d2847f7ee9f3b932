// The FortiCare model: FTM tokens, provisioned by a FortiGate (or a test), fetched by the phone,
// and polled (docs/protocol.md §1 flows 2-4, §4.2-4.4).
#include "server/core/model.hpp"

#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"

namespace fortisim::core {

using namespace protocol;

provision_response model::provision(const provision_request& r) {
  std::lock_guard lock(mutex_);
  const auto& s = *scenario_;
  provision_response out{head_locked(r.env, operation::provision), {}, std::nullopt};
  std::int64_t now = clock_.now_s();
  bool changed = false;
  for (const auto& p : r.tokens) {
    token_result res{p.token, "", std::nullopt};
    auto it = tokens_.find(p.token);
    std::optional<std::string> secret =
        p.seed.empty() ? std::optional<std::string>(derive_secret(s.seed, p.token)) : hex_decode(p.seed);
    if (it == tokens_.end()) {
      res.error = s.errors[error_id::token_not_found];
    } else if (!is_lower_hex(p.activation_code, 16) || !secret || secret->size() != 20) {
      res.error = s.errors[error_id::invalid_field];
      res.error->message +=
          !is_lower_hex(p.activation_code, 16) ? ": activation_code (16 lowercase hex)" : ": seed (40 hex)";
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
