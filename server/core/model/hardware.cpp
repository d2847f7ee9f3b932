// The FortiCare model: hardware tokens and their one-time activation locks (docs/protocol.md §1
// flow 5, §4.5).
#include "server/core/model/model.hpp"

#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"

namespace fortisim::core {

using namespace protocol;

hardware_activation_response model::activate_hardware(const hardware_activation_request& r, std::string* why_out) {
  return write_durably([&]() -> hardware_activation_response {
    reason why(why_out);
    const auto& s = *scenario_;
    hardware_activation_response out;
    head_locked(r.env, operation::hardware_activation, out.head);
    // `execute fortitoken activate` takes up to 20 serials [doc].
    if (r.tokens.size() > 20) {
      out.error = s.errors[error_id::too_many_tokens];
      why(r.tokens.size(), " serials in one request; FortiOS sends 20 at most");
      return out;
    }
    change c;
    for (const auto& serial : r.tokens) {
      token_result res{serial, "", std::nullopt};
      std::optional<hardware_record> h;
      if (auto it = hardware_.find(serial); it != hardware_.end())
        h = it->second;
      else if (s.accept_unknown_hardware && is_hardware_token_serial(serial))
        h = hardware_record{serial, derive_secret(s.seed, serial), false, ""};
      bool listed_twice =
          std::any_of(c.hardware.begin(), c.hardware.end(), [&](auto& x) { return x.serial == serial; });
      if (!h) {
        res.error = s.errors[error_id::hardware_token_not_found];
        why(serial, ": unknown to FortiGuard");
      } else if (h->consumed || listed_twice) {
        res.error = s.errors[error_id::hardware_lock_consumed];  // and no seed [KB 232153]
        const std::string& by = listed_twice ? r.env.serial_number : h->activated_by;
        if (by.empty())
          why(serial, ": its lock was already consumed");  // the scenario says so, not by whom
        else
          why(serial, ": its lock was consumed by ", by);
      } else {
        h->consumed = true;  // the one-time lock, consumed under the model's mutex
        h->activated_by = r.env.serial_number;
        res.seed = hex_encode(h->secret);
        c.hardware.push_back(*h);
        why(serial, ": seed delivered, lock consumed by ", r.env.serial_number);
      }
      out.tokens.push_back(std::move(res));
    }
    commit_locked(c);  // the seed leaves only once the lock's consumption is on disk
    return out;
  });
}

bool model::release_lock(std::string_view token) {
  return write_durably([&]() -> bool {
    auto it = hardware_.find(token);
    if (it == hardware_.end()) return false;
    change c;
    c.hardware.push_back(it->second);
    c.hardware.back().consumed = false;
    c.hardware.back().activated_by.clear();
    commit_locked(c);
    return true;
  });
}

}  // namespace fortisim::core
