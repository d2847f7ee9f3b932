// The FortiCare model: hardware tokens and their one-time activation locks (docs/protocol.md §1
// flow 5, §4.5).
#include "server/core/model.hpp"

#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"

namespace fortisim::core {

using namespace protocol;

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

bool model::release_lock(std::string_view token) {
  std::lock_guard lock(mutex_);
  auto it = hardware_.find(token);
  if (it == hardware_.end()) return false;
  it->second.consumed = false;
  it->second.activated_by.clear();
  persist_locked();
  return true;
}

}  // namespace fortisim::core
