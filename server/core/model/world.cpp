// The FortiCare model: the world a scenario declares, as a change to what is already there (a
// reload adds definitions and keeps runtime state), and the world as JSON for the control API.
#include "server/core/model/model.hpp"

#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <shared_mutex>

namespace fortisim::core {

using namespace protocol;

namespace {

constexpr std::array<std::string_view, 4> status_names{"new", "provisioning", "provisioned", "provision timeout"};

}  // namespace

std::string_view status_text(token_status s) { return status_names[static_cast<std::size_t>(s)]; }

std::optional<token_status> status_from_text(std::string_view text) {
  for (std::size_t i = 0; i < status_names.size(); ++i)
    if (status_names[i] == text) return static_cast<token_status>(i);
  if (text == "pending") return token_status::provisioning;  // state files written by 0.1
  return std::nullopt;
}

std::string model::clash_locked(const scenario& s) const {
  for (std::size_t i = 0; i < s.licenses.size(); ++i) {
    const auto& spec = s.licenses[i];
    std::string code = upper_case(spec.activation_code);
    auto clash = [&](const std::string& serial, const std::string& path) -> std::string {
      auto owner = owner_locked(serial);
      if (!owner || *owner == code) return "";
      return "$.licenses[" + std::to_string(i) + "]" + path + ": " + serial + " is already " +
             (owner->empty() ? std::string("a token of no licence (made by POST /tokens or a scenario's mobile_tokens)")
                             : "licence " + std::string(*owner) + "'s");
    };
    if (auto why = spec.license.empty() ? "" : clash(spec.license, ".license"); !why.empty()) return why;
    for (std::size_t j = 0; j < spec.tokens.size(); ++j)
      if (auto why = clash(spec.tokens[j], ".tokens[" + std::to_string(j) + "]"); !why.empty()) return why;
  }
  // A mobile token made with a code another token holds, given or derived (a reload or a stored
  // state can add one whose derived code a provisioning gave another): a phone's code names one token.
  for (std::size_t i = 0; i < s.mobile_tokens.size(); ++i) {
    const auto& m = s.mobile_tokens[i];
    if (tokens_.contains(m.token)) continue;
    auto code = start_code(s, m);
    auto held = by_activation_.find(activation_code_for_phone(code));
    if (held == by_activation_.end() || held->second == m.token) continue;
    std::string at = "$.mobile_tokens[" + std::to_string(i) + "]";
    return m.activation_code.empty()
               ? at + ".token: " + m.token + "'s derived activation code " + activation_code_for_user(code, m.period) +
                     " is token " + held->second + "'s already; give it an \"activation_code\" of its own"
               : at + ".activation_code: " + m.activation_code + " is token " + held->second + "'s already";
  }
  return "";
}

std::vector<std::string> model::held_pins() const {
  return read_durably([&] {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < scenario_->licenses.size(); ++i) {
      const auto& tokens = scenario_->licenses[i].tokens;
      for (std::size_t j = 0; j < tokens.size(); ++j) {
        auto pin = pinned_.find(tokens[j]);
        if (pin == pinned_.end()) continue;
        auto held = by_activation_.find(activation_code_for_phone(*parse_user_activation_code(pin->second)));
        if (held == by_activation_.end() || held->second == tokens[j]) continue;
        out.push_back("$.licenses[" + std::to_string(i) + "].tokens[" + std::to_string(j) +
                      "].activation_code: " + pin->second + " is token " + held->second + "'s: " + tokens[j] +
                      " gets 40 until that token gives it up (provisioned with another code, or POST /reset "
                      "{\"token\": \"" +
                      held->second + "\"})");
      }
    }
    return out;
  });
}

change model::definitions_locked(const scenario& s, bool from_scratch, bool clear_of_runtime) const {
  change c;
  auto token_known = [&](const std::string& serial) {
    return (!from_scratch && tokens_.contains(serial)) ||
           std::any_of(c.tokens.begin(), c.tokens.end(), [&](const auto& t) { return t.serial == serial; });
  };
  // The serials the scenario names, and those derived so far: a derived one is none of them.
  std::set<std::string, std::less<>> named;
  for (const auto& spec : s.licenses) {
    named.insert(spec.license);
    named.insert(spec.tokens.begin(), spec.tokens.end());
  }
  std::map<std::string, std::string, std::less<>> owner;  // a mobile token -> the licence listing it
  for (const auto& m : s.mobile_tokens) named.insert(m.token), owner.emplace(m.token, m.license);
  std::set<std::string, std::less<>> declared;  // for a reset beside the runtime's records alone
  if (clear_of_runtime)
    for (const auto& spec : s.licenses) declared.insert(upper_case(spec.activation_code));
  auto taken = [&](const std::string& serial) {
    if (named.contains(serial)) return true;
    if (!from_scratch) return serial_in_use_locked(serial);
    if (!clear_of_runtime) return false;
    auto owner = owner_locked(serial);
    return owner && !declared.contains(*owner);
  };
  for (const auto& spec : s.licenses) {
    std::string code = upper_case(spec.activation_code);
    auto it = from_scratch ? licences_.end() : licences_.find(code);
    licence_record l =
        it != licences_.end() ? it->second : new_licence(code, spec.license, spec.token_count, spec.valid_until, taken);
    if (l.bound_to.empty()) {
      if (!spec.tokens.empty()) l.tokens = spec.tokens;
      l.bound_to = spec.bound_to;
      std::sort(l.bound_to.begin(), l.bound_to.end());
      l.registered_to = spec.registered_to;
    }
    named.insert(l.serial);
    named.insert(l.tokens.begin(), l.tokens.end());
    if (it == licences_.end() || it->second != l) c.licences.push_back(l);
    // A licence the scenario says is redeemed already has its tokens at FortiCare; one declared
    // under mobile_tokens too is made there, with the details it gives.
    if (!l.bound_to.empty()) {
      for (const auto& serial : l.tokens) {
        if (auto m = owner.find(serial); m != owner.end())
          m->second = l.serial;
        else if (!token_known(serial))
          c.tokens.push_back(fresh_token(serial, l.serial));
      }
    }
  }
  std::int64_t now = clock_.now_s();
  for (const auto& m : s.mobile_tokens) {
    if (token_known(m.token)) continue;
    token_record t = fresh_token(m.token, owner.at(m.token));
    t.activation = activation_code_for_phone(start_code(s, m));
    t.secret = m.secret.empty() ? derive_secret(s.seed, m.token) : m.secret;
    t.digits = m.digits;
    t.period = m.period;
    t.type = m.type;
    t.counter = m.counter;
    t.expire = m.expire.value_or(now + s.activation_expiry_s);
    t.issuer = m.issuer;
    t.mobile_id = m.mobile_id;
    t.status = m.mobile_id.empty() ? token_status::provisioning : token_status::provisioned;
    c.tokens.push_back(std::move(t));
  }
  for (const auto& h : s.hardware_tokens)
    if (from_scratch || !hardware_.contains(h.token))
      c.hardware.push_back(
          {h.token, h.secret.empty() ? derive_secret(s.seed, h.token) : h.secret, h.lock_consumed, h.activated_by});
  return c;
}

namespace {

/// The records of `map` on `page`, each handed to `keep`.
template <class Map, class Keep>
void copy_page(const Map& map, world_page page, Keep&& keep) {
  auto it = map.begin();
  std::advance(it, std::min(page.offset, map.size()));  // walked, not copied: microseconds a thousand
  for (std::size_t n = 0; it != map.end() && n < page.limit; ++it, ++n) keep(it->second);
}

}  // namespace

json model::snapshot(bool with_otps, world_page page) const {
  std::vector<licence_record> licences;
  std::vector<std::pair<token_record, token_status>> tokens;
  std::vector<hardware_record> hardware;
  std::int64_t now_ms = 0;
  std::size_t total_licences = 0, total_tokens = 0, total_hardware = 0;
  read_durably([&] {
    now_ms = clock_.now_ms();
    copy_page(licences_, page, [&](const licence_record& l) { licences.push_back(l); });
    copy_page(tokens_, page, [&](const token_record& t) { tokens.emplace_back(t, status_now_locked(t)); });
    copy_page(hardware_, page, [&](const hardware_record& h) { hardware.push_back(h); });
    total_licences = licences_.size(), total_tokens = tokens_.size(), total_hardware = hardware_.size();
  });
  std::int64_t now_s = now_ms / 1000;  // as the clock says it (within 1970 to 9999)
  auto otp_json = [&](const std::string& serial, const std::string& secret, const protocol::otp_params& p) {
    if (secret.empty()) return json(nullptr);
    auto o = otp_at(serial, secret, p, now_s);
    json out{{"code", o.code}, {"valid_for_s", o.valid_for_s}, {"period", p.period}};
    if (p.type == protocol::otp_type::hotp) out["counter"] = p.counter;
    return out;
  };
  json j;
  j["clock_ms"] = now_ms;
  j["licenses"] = json::array();
  for (const auto& l : licences)
    j["licenses"].push_back({{"activation_code", l.code},
                             {"license", l.serial},
                             {"tokens", l.tokens},
                             {"valid_until", l.valid_until ? json(*l.valid_until) : json(nullptr)},
                             {"bound_to", l.bound_to},
                             {"registered_to", l.registered_to}});
  j["tokens"] = json::array();
  for (const auto& [t, status] : tokens) {
    json token{{"token", t.serial},
               {"license", t.license},
               {"status", status_text(status)},
               {"activation", t.activation},
               {"secret", hex_encode(t.secret)},
               {"digits", t.digits},
               {"period", t.period},
               {"type", protocol::otp_type_text(t.type)},
               {"counter", t.counter},
               {"expire", t.expire},
               {"issuer", t.issuer},
               {"mobile_id", t.mobile_id},
               {"os_ver", t.os_ver},
               {"reg_id", t.reg_id},
               {"provisions", t.provisions}};
    if (with_otps) token["otp"] = otp_json(t.serial, t.secret, otp_params_of(t));
    // The console shows a pending token's code as the user gets it (and its QR), not the phone's hex.
    if (with_otps && status == token_status::provisioning) token["activation_code"] = user_activation_code(t);
    j["tokens"].push_back(std::move(token));
  }
  j["hardware_tokens"] = json::array();
  for (const auto& h : hardware) {
    json token{{"token", h.serial},
               {"secret", hex_encode(h.secret)},
               {"lock", h.consumed ? "consumed" : "available"},
               {"activated_by", h.activated_by}};
    if (with_otps) token["otp"] = otp_json(h.serial, h.secret, hardware_otp_params);
    j["hardware_tokens"].push_back(std::move(token));
  }
  if (!page.whole())
    j["page"] = {{"offset", page.offset},
                 {"limit", page.limit},
                 {"licenses", total_licences},
                 {"tokens", total_tokens},
                 {"hardware_tokens", total_hardware}};
  return j;
}

}  // namespace fortisim::core
