// The FortiCare model: FTM tokens, provisioned by a FortiGate (or a test), fetched by the phone,
// and polled (docs/protocol.md §1 flows 2-4, §4.2-4.4).
#include "server/core/model/model.hpp"

#include "protocol/formats.hpp"
#include "protocol/qr_code.hpp"
#include "protocol/seed_crypto.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <shared_mutex>

namespace fortisim::core {

using namespace protocol;

namespace {

/// What a poll reply says for `s` in the scenario's words.
const std::string& status_word(const status_words& words, token_status s) {
  switch (s) {
    case token_status::fresh: return words.fresh;
    case token_status::provisioning: return words.provisioning;
    case token_status::provisioned: return words.provisioned;
    case token_status::timed_out: return words.timed_out;
  }
  return words.unknown;
}

/// Whether the request lists a serial that `has`: its own, or one in `__clustered_sns`.
template <typename Test>
bool lists(const envelope& env, Test has) {
  return has(env.serial_number) || std::any_of(env.clustered_sns.begin(), env.clustered_sns.end(), has);
}

/// Whether the requester or any member of its cluster is among `bound` (sorted).
bool in_identity(const envelope& env, const std::vector<std::string>& bound) {
  return lists(env, [&](const std::string& sn) { return std::binary_search(bound.begin(), bound.end(), sn); });
}

/// `out` says `token` was refused with `e`.
void failed(provisioned_result& out, const std::string& token, error_value e) {
  out.token.assign(token);
  out.license.reset(), out.token_activation_code.reset(), out.qr_code.reset(), out.code_expire.reset();
  out.error = std::move(e);
}

/// `field`'s string, made if absent and kept if present (with its storage).
std::string& kept(std::optional<std::string>& field) { return field ? *field : field.emplace(); }

/// Each provisioned token's QR code, drawn from its activation code alone: outside the model's lock,
/// as it is most of a provisioning's cost (two workers draw side by side, and a request of many
/// tokens does not hold every other request back while it draws).
void draw_qr_codes(provision_response& out) {
  thread_local std::string png;  // each worker's own, kept between requests
  for (auto& t : out.tokens) {
    if (t.error || !t.token_activation_code) continue;
    qr_png(*t.token_activation_code, png);
    base64_encode(png, kept(t.qr_code));
  }
}

/// A token that starts afresh for a new phone.
void reissue(token_record& t, const activation_bytes& code, std::int64_t expire) {
  activation_code_for_phone(code, t.activation);
  t.expire = std::min(expire, last_time_s);  // a clock set near the end of time: held there, as stored
  t.mobile_id.clear();
  t.os_ver.clear();
  t.reg_id.clear();
  t.status = token_status::provisioning;
}

}  // namespace

std::string model::ownership_locked(const token_record& t, const envelope& env) const {
  auto code = licence_codes_.find(t.license);
  if (code == licence_codes_.end()) return "it belongs to no licence FortiCare knows";
  const auto& lic = licences_.at(code->second);
  if (lic.bound_to.empty()) return "its licence " + lic.serial + " was never imported";
  if (scenario_->clusters.use == licence_use::registered_serial)
    return "its licence " + lic.serial + " is registered to " + lic.registered_to +
           " and clusters.licence_use is registered_serial";
  if (scenario_->clusters.use == licence_use::registered_listed && in_identity(env, lic.bound_to))
    return "its licence " + lic.serial + " is registered to " + lic.registered_to +
           ", a serial this request does not list";
  std::string bound;
  for (const auto& sn : lic.bound_to) bound += (bound.empty() ? "" : ", ") + sn;
  return "its licence " + lic.serial + " is bound to " + bound + ", not to this device or cluster";
}

bool model::owns_locked(const token_record& t, const envelope& env) const {
  auto code = licence_codes_.find(t.license);
  if (code == licence_codes_.end()) return false;
  const auto& lic = licences_.at(code->second);
  if (lic.bound_to.empty()) return false;
  switch (scenario_->clusters.use) {
    case licence_use::registered_listed:  // KB 424201: 7.4.9 lists one serial, and fails
      return lists(env, [&](const std::string& sn) { return sn == lic.registered_to; });
    case licence_use::registered_serial: return lic.registered_to == env.serial_number;
    case licence_use::any_member: break;
  }
  return in_identity(env, lic.bound_to);
}

void model::mark_unregistered_members_locked(const token_record& t, reply_head& head) const {
  auto code = licence_codes_.find(t.license);
  if (code == licence_codes_.end() || scenario_->clusters.use != licence_use::registered_listed) return;
  const auto& lic = licences_.at(code->second);
  const auto& words = scenario_->errors[error_id::product_not_registered].message;
  for (auto& m : head.members)
    if (m.sn != lic.registered_to && std::binary_search(lic.bound_to.begin(), lic.bound_to.end(), m.sn))
      m.error = words;
}

model::code_holder model::code_holder_locked(const activation_bytes& code, const token_record& t, const change& c,
                                             const change_index& index) const {
  // In use by another token: as the change leaves it (a code this request moved a token off is
  // free); or pinned to another, which holds it for that token alone (from a trial: a FortiGate's
  // code could take a pinned code first, and a phone then got the other token).
  thread_local std::string hex;  // a worker's: its storage kept from one provisioning to the next
  activation_code_for_phone(code, hex);
  if (auto pin = pinned_by_code_.find(hex); pin != pinned_by_code_.end() && pin->second != t.serial)
    return {pin->second, true};
  if (auto in_change = index.of_code(c, hex); in_change != change_index::none)
    return {c.tokens[in_change].serial != t.serial ? std::string_view(c.tokens[in_change].serial) : "", false};
  auto in_use = by_activation_.find(hex);
  if (in_use == by_activation_.end() || in_use->second == t.serial) return {};
  if (index.of_serial(c, in_use->second) != change_index::none) return {};  // the change moved it off
  return {in_use->second, false};
}

std::optional<activation_bytes> model::next_code_locked(const token_record& t, const std::string& client_code,
                                                        const change& c, const change_index& index) const {
  auto taken = [&](const activation_bytes& code) { return !code_holder_locked(code, t, c, index).token.empty(); };
  if (auto pin = pinned_.find(t.serial); pin != pinned_.end()) {  // another token may hold it (pinned since)
    auto pinned = parse_user_activation_code(pin->second);
    if (pinned && taken(*pinned)) return std::nullopt;
    return pinned;
  }
  if (!client_code.empty()) {  // the FortiGate's own code: refused when malformed or another token's
    auto given = parse_phone_activation_code(client_code);
    if (given && taken(*given)) return std::nullopt;
    return given;
  }
  activation_bytes bytes{};
  thread_local std::string key;  // likewise
  for (std::uint64_t n = t.provisions;; ++n) {
    char count[24];
    key.assign("activation:").append(t.serial).append("#").append(count, std::to_chars(count, count + 24, n).ptr);
    auto raw = derive_bytes(scenario_->seed, key, 8);
    std::copy(raw.begin(), raw.end(), bytes.begin());
    if (!taken(bytes)) return bytes;
  }
}

change& model::provisioning_change_locked() {
  auto& c = provisioning_.c;
  auto& spare = provisioning_.spare;
  for (auto& t : c.tokens)
    if (spare.size() < provisioning_scratch::kept_tokens) spare.push_back(std::move(t));
  if (c.tokens.capacity() > provisioning_scratch::kept_tokens) c.tokens = {};  // a request of many tokens
  c.tokens.clear();
  provisioning_.index.clear();
  c.wipe = false;  // a provisioning changes tokens only, but the change is emptied whole
  for (auto* v : {&c.dropped_licences, &c.dropped_tokens, &c.dropped_hardware}) v->clear();
  c.licences.clear(), c.hardware.clear(), c.clock_ms.reset();
  return c;
}

token_record& model::copy_into_locked(change& c, const token_record& from) {
  auto& spare = provisioning_.spare;
  if (spare.empty()) return c.tokens.emplace_back(from);
  token_record& t = c.tokens.emplace_back(std::move(spare.back()));
  spare.pop_back();
  t = from;
  return t;
}

void model::provision_one_locked(const provisioned_token& p, const envelope& env, reply_head& head, change& c,
                                 reason& why, provisioned_result& out) {
  const auto& s = *scenario_;
  auto it = tokens_.find(p.token);
  // Unknown to FortiCare, or another's: 31 [seen for another's token, KB 308115].
  if (it == tokens_.end()) {
    why(p.token, ": unknown to FortiCare");
    return failed(out, p.token, s.errors[error_id::token_not_owned]);
  }
  if (!owns_locked(it->second, env)) {
    why(p.token, ": ", ownership_locked(it->second, env));
    mark_unregistered_members_locked(it->second, head);
    return failed(out, p.token, s.errors[error_id::token_not_owned]);
  }
  auto invalid = [&](const char* what) {
    auto e = s.errors[error_id::invalid_field];
    e.message += std::string(": ") + what;
    why(p.token, ": not ", what);
    failed(out, p.token, std::move(e));
  };
  std::string& seed = provisioning_.seed;  // the FortiGate's, else derived
  if (p.seed.empty())
    seed = derive_secret(s.seed, p.token);
  else if (!hex_decode(p.seed, seed) || seed.size() != 20)
    return invalid("seed (40 hex digits)");
  auto type = p.type.empty() ? protocol::otp_type::totp : protocol::otp_type_from_text(p.type);
  if (!type) return invalid("type (\"totp\" or \"hotp\")");
  // A token an earlier entry of this request provisioned is provisioned again from there, as by a
  // second request: the last entry's code is the token's, and each one counts [assumed: no capture
  // lists a token twice].
  auto& index = provisioning_.index;
  std::size_t earlier = index.of_serial(c, p.token);
  auto code =
      next_code_locked(earlier != change_index::none ? c.tokens[earlier] : it->second, p.activation_code, c, index);
  if (!code) {
    // The activation code the FortiGate gave is invalid: 40, as the FortiOS GUI reports it from a
    // /Process reply [seen: KB 241195; assumed: that this request and case carry it].
    const token_record& from = earlier != change_index::none ? c.tokens[earlier] : it->second;
    if (auto pin = pinned_.find(p.token); pin != pinned_.end()) {
      auto held = code_holder_locked(*parse_user_activation_code(pin->second), from, c, index);
      why(p.token, ": its pinned activation code ", pin->second, " is token ", held.token, "'s now");
    } else if (auto given = parse_phone_activation_code(p.activation_code); !given) {
      why(p.token, ": activation_code \"", p.activation_code, "\" is not 16 lowercase hex digits");
    } else {
      auto held = code_holder_locked(*given, from, c, index);
      why(p.token, ": activation_code \"", p.activation_code, held.pinned ? "\" is pinned to token " : "\" is token ",
          held.token, held.pinned ? " by the scenario" : "'s");
    }
    return failed(out, p.token, s.errors[error_id::activation_code_invalid]);
  }
  std::int64_t minutes = p.code_expire > 0 ? p.code_expire : s.activation_expiry_s / 60;
  // The change, made in place: one copy.
  std::size_t at = earlier != change_index::none ? earlier : (copy_into_locked(c, it->second), c.tokens.size() - 1);
  token_record& t = c.tokens[at];
  index.recoding(c, at);
  reissue(t, *code, clock_.now_s() + minutes * 60);
  index.noted(c, at);
  t.secret.assign(seed);
  t.digits = p.digits;
  t.period = p.period;
  t.type = *type;
  t.counter = 0;  // a new seed starts its count again
  ++t.provisions;
  out.token.assign(t.serial);
  kept(out.license).assign(t.license);
  std::string& user_code = kept(out.token_activation_code);
  activation_code_for_user(*code, t.period, user_code);
  why(t.serial, ": provisioned with the FortiGate's seed, activation code ", user_code);
  kept(out.qr_code).clear();  // drawn once the lock is released (draw_qr_codes)
  out.code_expire = minutes;
  out.error.reset();
}

provision_response model::provision(const provision_request& r, std::string* why) {
  provision_response out;
  provision(r, out, why);
  return out;
}

void model::provision(const provision_request& r, provision_response& out, std::string* why_out) {
  // Every field of `out` is written: it may hold the last reply, whose strings keep their storage.
  write_durably([&] {
    reason why(why_out);
    head_locked(r.env, operation::provision, out.head);
    change& c = provisioning_change_locked();
    out.tokens.resize(r.tokens.size());
    for (std::size_t i = 0; i < r.tokens.size(); ++i)
      provision_one_locked(r.tokens[i], r.env, out.head, c, why, out.tokens[i]);
    bool any = std::any_of(out.tokens.begin(), out.tokens.end(), [](const auto& t) { return !t.error; });
    // 2 on success [seen]; when no token succeeds, 0 and 17 [seen]. Some of each: 2 [assumed].
    out.result = any ? 2 : 0;
    out.error.reset();
    if (!any) out.error = scenario_->errors[error_id::no_valid_token];
    commit_locked(c);
  });
  draw_qr_codes(out);
}

mobile_provision_response model::mobile_provision(const mobile_provision_request& r, std::string* why) {
  mobile_provision_response out;
  mobile_provision(r, out, why);
  return out;
}

void model::mobile_provision(const mobile_provision_request& r, mobile_provision_response& out, std::string* why_out) {
  // Every field of `out` is written: it may hold the last reply, whose strings keep their storage.
  write_durably([&] {
    reason why(why_out);
    const auto& s = *scenario_;
    out.type.assign(s.names.response[static_cast<std::size_t>(operation::mobile_provision)]);
    out.version.assign(r.version);  // the app's own version and build, echoed [assumed]
    out.device_version.assign(r.device_version);
    out.device_build.assign(r.device_build);
    for (auto* field : {&out.mobile_id_hash, &out.seed, &out.token, &out.image_file, &out.pin_required,
                        &out.pin_require_type, &out.encryption_key, &out.issuer})
      field->clear();
    out.pin_length = out.counter = 0;
    out.error.reset();
    auto refuse = [&](const auto&... because) {
      out.error = s.errors[error_id::activation_code_invalid];
      why(because...);
    };
    // The phone's key: its mobile_id, or the first 16 bytes of a longer one (an iOS UUID) [assumed].
    if (r.mobile_id.size() < 16) return refuse("mobile_id is shorter than 16 bytes");
    if (r.mobile_id.size() > 16 && !s.long_mobile_id_first_16)
      return refuse("mobile_id is longer than 16 bytes and phone.long_mobile_id is reject");
    auto phone = std::string_view(r.mobile_id).substr(0, 16);
    // Unknown, expired, or bound to another phone: all one error 40 [seen].
    auto code = by_activation_.find(r.token_activation_code);
    if (code == by_activation_.end()) {
      if (!is_lower_hex(r.token_activation_code, 16))  // the app sends the code's last 8 bytes so
        return refuse("token_activation_code \"", r.token_activation_code, "\" is not 16 lowercase hex digits");
      return refuse("no token has activation code ", r.token_activation_code);
    }
    const token_record& stored = tokens_.at(code->second);
    if (status_now_locked(stored) == token_status::timed_out)
      return refuse(stored.serial, ": its activation code expired at ", utc_time{stored.expire});
    if (!stored.mobile_id.empty() && stored.mobile_id != phone)
      return refuse(stored.serial, ": bound to another phone");
    if (!encrypt_seed_for_phone(stored.secret, phone, out.seed)) return refuse(stored.serial, ": has no seed to send");
    // Bound to this phone on disk before the seed leaves; a phone asking again changes nothing.
    bool os_ver = !r.device_version.empty() && stored.os_ver != r.device_version;
    bool reg_id = !r.registration_id.empty() && stored.reg_id != r.registration_id;
    if (stored.mobile_id != phone || stored.status != token_status::provisioned || os_ver || reg_id) {
      change c;
      token_record& t = c.tokens.emplace_back(stored);
      t.mobile_id = phone;
      t.status = token_status::provisioned;
      if (os_ver) t.os_ver = r.device_version;
      if (reg_id) t.reg_id = r.registration_id;
      commit_locked(c);  // `stored` is the record as it now is
    }
    why(stored.serial, ": seed sent to phone ", phone);
    sha1_hex(r.mobile_id, out.mobile_id_hash);
    out.token.assign(stored.serial);
    out.pin_required.assign("0");
    out.issuer.assign(stored.issuer);
    // An HOTP token's counter, in the reply's `counter` field (0 in every reply seen) [inferred: its name].
    if (stored.type == otp_type::hotp) out.counter = static_cast<int>(std::min<std::uint64_t>(stored.counter, INT_MAX));
  });
}

polling_response model::poll(const polling_request& r, std::string* why) {
  polling_response out;
  poll(r, out, why);
  return out;
}

void model::poll(const polling_request& r, polling_response& out, std::string* why_out) {
  // Every field of `out` is written: it may hold the last poll's reply, whose strings keep their storage.
  read_durably([&] {
    reason why(why_out);
    head_locked(r.env, operation::polling, out.head);
    out.error.reset();
    const auto& words = scenario_->status_words;
    out.tokens.resize(r.tokens.size());
    for (std::size_t i = 0; i < r.tokens.size(); ++i) {
      const auto& serial = r.tokens[i];
      auto& polled = out.tokens[i];
      polled.token.assign(serial);
      auto it = tokens_.find(serial);
      if (it == tokens_.end()) {
        polled.license.clear(), polled.status.assign(words.unknown), polled.os_ver.clear(), polled.reg_id.clear();
        polled.activation_expire = 0;
        why(serial, " not found");
        continue;
      }
      const auto& t = it->second;
      auto status = status_now_locked(t);
      why(t.serial, " ", status_text(status));
      polled.license.assign(t.license);
      polled.status.assign(status_word(words, status));
      polled.os_ver.assign(t.os_ver);
      polled.reg_id.assign(t.reg_id);
      polled.activation_expire = status == token_status::provisioning ? t.expire : 0;
    }
  });
}

std::variant<provisioned_for_test, std::string> model::provision_for_test(std::string token) {
  return write_durably([&]() -> std::variant<provisioned_for_test, std::string> {
    const auto& s = *scenario_;
    if (token.empty()) {
      do
        token =
            derive_serial("FTKMOB", 16, "test-token:" + std::to_string(s.seed) + "#" + std::to_string(test_tokens_++));
      while (serial_in_use_locked(token));
    } else if (!is_mobile_token_serial(token)) {
      return std::string("token: expected \"FTKMOB\" + 10 letters or digits");
    } else if (auto owner = tokens_.contains(token) ? std::nullopt : owner_locked(token)) {
      // A serial a licence has that no import has made a token yet: made here, it would be a token
      // of no licence, which the licence's import and the state then disagree with.
      return "token: " + token + " is licence " + std::string(*owner) +
             "'s, which no device has imported yet: its import makes the token";
    }
    change c;
    token_record& t = c.tokens.emplace_back(tokens_.contains(token) ? tokens_.at(token) : fresh_token(token, ""));
    // A code as a FortiGate's provisioning gets one: the scenario's pin, or the next of the
    // token's count (an attacker's trial found this call handing out the codes that count gives
    // next, without counting).
    auto code = next_code_locked(t, "", c, change_index{});
    if (!code) {  // its pinned code, held by another token
      const std::string& pin = pinned_.at(token);
      auto held = code_holder_locked(*parse_user_activation_code(pin), t, c, change_index{});
      return "token: " + token + "'s pinned activation code " + pin + " is token " + std::string(held.token) + "'s now";
    }
    activation_bytes bytes = *code;
    reissue(t, bytes, clock_.now_s() + s.activation_expiry_s);
    if (t.secret.empty()) t.secret = derive_secret(s.seed, token);
    ++t.provisions;
    provisioned_for_test made{t.serial, activation_code_for_user(bytes, t.period), t.activation, t.expire};
    commit_locked(c);
    return made;
  });
}

std::string user_activation_code(const token_record& t) {
  auto bytes = parse_phone_activation_code(t.activation);
  return bytes ? activation_code_for_user(*bytes, t.period) : "";
}

std::optional<std::string> model::pending_activation_code(std::string_view token) const {
  return read_durably([&]() -> std::optional<std::string> {
    auto it = tokens_.find(token);
    if (it == tokens_.end() || status_now_locked(it->second) != token_status::provisioning) return std::nullopt;
    auto code = user_activation_code(it->second);
    return code.empty() ? std::nullopt : std::optional(code);
  });
}

}  // namespace fortisim::core
