// The FortiCare model: its world built from a scenario (and the stored state), how a change
// becomes durable and then visible, and the calls that do not belong to one operation (OTPs, the
// clock, the snapshot). The operations have their own files: model_licences.cpp,
// model_tokens.cpp, model_hardware.cpp.
#include "server/core/model/model.hpp"

#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"

#include <algorithm>
#include <chrono>
#include <shared_mutex>
#include <stdexcept>
#include <utility>

namespace fortisim::core {

using namespace protocol;

namespace {

std::int64_t real_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string describe(const std::string& file, const std::vector<problem>& problems) {
  std::string out = file + ": the stored state does not read back exactly; fortisim will not start on it:";
  for (const auto& p : problems) out += "\n" + file + ": " + p.path + ": " + p.reason;
  return out;
}

}  // namespace

model::model(std::shared_ptr<const scenario> s, std::optional<std::string> state_path)
    : scenario_(std::move(s)), clock_(scenario_->clock_start_ms, scenario_->clock_rate) {
  std::lock_guard lock(mutex_);
  if (state_path) {
    store_.emplace(*state_path);
    auto loaded = store_->load();
    if (auto* problems = std::get_if<std::vector<problem>>(&loaded))
      throw std::runtime_error(describe(*state_path, *problems));
    auto& stored = std::get<store::contents>(loaded);
    for (const auto& l : stored.licences) apply_locked(l);
    for (const auto& t : stored.tokens) apply_locked(t);
    for (const auto& h : stored.hardware) hardware_[h.serial] = h;
    if (stored.clock_ms)
      clock_.set(*stored.clock_ms +
                 static_cast<std::int64_t>(static_cast<double>(real_now_ms() - stored.clock_real_ms) * clock_.rate()));
  }
  if (auto clash = clash_locked(*scenario_); !clash.empty())  // the other party is the stored state's
    throw std::runtime_error(scenario_->file + ": " + clash + " [the stored state " + state_path.value_or("") + "]");
  auto start = definitions_locked(*scenario_);
  if (store_) store_->write(start);  // no other thread yet: written at once
  apply_in_memory_locked(start);
  pin_locked(*scenario_);
}

void model::pin_locked(const scenario& s) {
  pinned_.clear();
  pinned_by_code_.clear();
  for (const auto& p : s.pinned_codes) {
    pinned_[p.token] = p.activation_code;
    if (auto bytes = parse_user_activation_code(p.activation_code))
      pinned_by_code_[activation_code_for_phone(*bytes)] = p.token;
  }
}

void model::adopt(std::shared_ptr<const scenario> s, bool from_start) {
  // The new definitions and the switch in one section: a reset cannot come between them.
  std::shared_ptr<const scenario> before;
  try {
    write_durably([&] {
      if (from_start) {
        commit_locked(start_locked(*s));
      } else {
        if (auto clash = clash_locked(*s); !clash.empty()) throw std::invalid_argument(clash);
        commit_locked(definitions_locked(*s));
      }
      before = std::exchange(scenario_, s);
      pin_locked(*scenario_);
    });
  } catch (const storage_error&) {  // the definitions were undone: the scenario goes back too
    std::lock_guard lock(mutex_);
    if (before && scenario_ == s) {
      scenario_ = std::move(before);
      pin_locked(*scenario_);
    }
    throw;
  }
}

void model::apply_locked(const licence_record& l) {
  auto [it, fresh] = licences_.try_emplace(l.code);
  if (!fresh) forget_locked(it->second);
  it->second = l;
  licence_codes_[l.serial] = l.code;
  if (l.bound_to.empty())
    for (const auto& t : l.tokens) unredeemed_tokens_.emplace(t, l.code);
}

void model::forget_locked(const licence_record& l) {
  if (auto it = licence_codes_.find(l.serial); it != licence_codes_.end() && it->second == l.code)
    licence_codes_.erase(it);
  for (const auto& t : l.tokens)
    if (auto it = unredeemed_tokens_.find(t); it != unredeemed_tokens_.end() && it->second == l.code)
      unredeemed_tokens_.erase(it);
}

bool model::serial_in_use_locked(const std::string& serial) const {
  return tokens_.contains(serial) || unredeemed_tokens_.contains(serial) || licence_codes_.contains(serial);
}

std::optional<std::string_view> model::owner_locked(const std::string& serial) const {
  if (auto it = licence_codes_.find(serial); it != licence_codes_.end()) return it->second;
  if (auto it = unredeemed_tokens_.find(serial); it != unredeemed_tokens_.end()) return it->second;
  auto token = tokens_.find(serial);
  if (token == tokens_.end()) return std::nullopt;
  auto code = licence_codes_.find(token->second.license);
  return code != licence_codes_.end() ? std::string_view(code->second) : std::string_view();
}

std::string model::unique_serial(std::string_view prefix, const std::string& key, const serial_taken& taken) {
  std::string serial = derive_serial(prefix, 16, key);
  for (int again = 1; taken(serial); ++again) serial = derive_serial(prefix, 16, key + "#" + std::to_string(again));
  return serial;
}

void model::apply_locked(const token_record& t) {
  // The old code's index entry, taken out whole: a new code of a provisioning reuses its node. Not
  // when another token of the same change took that code already (the entry is that token's now).
  decltype(by_activation_)::node_type entry;
  if (auto old = tokens_.find(t.serial); old != tokens_.end() && !old->second.activation.empty())
    if (auto e = by_activation_.find(old->second.activation); e != by_activation_.end() && e->second == t.serial)
      entry = by_activation_.extract(e);
  if (!t.activation.empty() && entry) {
    entry.key() = t.activation;
    entry.mapped() = t.serial;
    if (auto put = by_activation_.insert(std::move(entry)); !put.inserted) put.position->second = t.serial;
  } else if (!t.activation.empty()) {
    by_activation_[t.activation] = t.serial;
  }
  tokens_[t.serial] = t;
}

licence_record model::new_licence(std::string_view code, const std::string& serial, int count,
                                  std::optional<std::int64_t> valid_until, const serial_taken& taken) {
  licence_record l;
  l.code = code;
  // Serials derive from the code, so the same world gives the same ones (and a re-import the
  // stored ones).
  l.serial = serial.empty() ? unique_serial("EFTM", "license:" + l.code, taken) : serial;
  add_tokens(l, "token:" + l.code, count, taken);
  l.valid_until = valid_until;
  return l;
}

void model::add_tokens(licence_record& l, const std::string& key, int count, const serial_taken& taken) {
  auto listed = [&](const std::string& s) { return std::find(l.tokens.begin(), l.tokens.end(), s) != l.tokens.end(); };
  for (int i = 0; i < count; ++i)
    l.tokens.push_back(unique_serial("FTKMOB", key + "#" + std::to_string(i),
                                     [&](const std::string& s) { return listed(s) || taken(s); }));
}

token_status model::status_now_locked(const token_record& t) const {
  if (t.status == token_status::provisioning && t.expire != 0 && clock_.now_s() > t.expire)
    return token_status::timed_out;
  return t.status;
}

void model::head_locked(const envelope& env, operation op, reply_head& out) const {
  fill_head(env, scenario_->names.response[static_cast<std::size_t>(op)], out);
  // An HA member's entry is the plain message, not an error object [seen: KB 308115; the code 21 is
  // FortiAuthenticator's, KB 197403].
  const auto& unknown = scenario_->clusters.not_registered;
  for (auto& m : out.members)
    if (std::find(unknown.begin(), unknown.end(), m.sn) != unknown.end())
      m.error = scenario_->errors[error_id::product_not_registered].message;
}

void model::answer(const request& r, response& out, std::string* why) {
  std::visit(
      [&](const auto& q) {
        using T = std::decay_t<decltype(q)>;
        if constexpr (std::is_same_v<T, activation_license_request>) {
          auto* reply = std::get_if<activation_license_response>(&out);
          import_license(q, reply ? *reply : out.emplace<activation_license_response>(), why);
        } else if constexpr (std::is_same_v<T, polling_request>) {
          auto* reply = std::get_if<polling_response>(&out);
          poll(q, reply ? *reply : out.emplace<polling_response>(), why);
        } else if constexpr (std::is_same_v<T, mobile_provision_request>) {
          auto* reply = std::get_if<mobile_provision_response>(&out);
          mobile_provision(q, reply ? *reply : out.emplace<mobile_provision_response>(), why);
        } else if constexpr (std::is_same_v<T, provision_request>) {
          auto* reply = std::get_if<provision_response>(&out);
          provision(q, reply ? *reply : out.emplace<provision_response>(), why);
        } else {
          out = activate_hardware(q, why);
        }
      },
      r);
}

std::optional<otp_value> model::otp(std::string_view token) const {
  return read_durably([&] { return otp_locked(token); });
}

otp_value model::otp_at(const std::string& serial, const std::string& secret, const protocol::otp_params& p,
                        std::int64_t now_s) {
  return otp_value{serial, protocol::otp_code(secret, p, now_s), protocol::otp_valid_for_s(p, now_s), p};
}

std::optional<otp_value> model::otp_locked(std::string_view token) const {
  std::int64_t now = clock_.now_s();
  if (auto it = tokens_.find(token); it != tokens_.end() && !it->second.secret.empty())
    return otp_at(it->second.serial, it->second.secret, otp_params_of(it->second), now);
  if (auto it = hardware_.find(token); it != hardware_.end())
    return otp_at(it->second.serial, it->second.secret, hardware_otp_params, now);
  return std::nullopt;
}

std::optional<otp_check> model::verify_otp(std::string_view token, std::string_view code) {
  return write_durably([&] { return verify_otp_locked(token, code); });
}

std::optional<otp_check> model::verify_otp_locked(std::string_view token, std::string_view code) {
  std::int64_t now = clock_.now_s();
  if (auto it = hardware_.find(token); it != hardware_.end()) {
    auto params = hardware_otp_params;
    auto& next = hardware_steps_[it->first];
    params.counter = next;
    auto verdict = protocol::verify_otp(it->second.secret, params, now, code);
    next = params.counter = verdict.counter;
    return otp_check{verdict.valid, params};
  }
  auto it = tokens_.find(token);
  if (it == tokens_.end() || it->second.secret.empty()) return std::nullopt;
  auto params = otp_params_of(it->second);
  auto verdict = protocol::verify_otp(it->second.secret, params, now, code);
  if (verdict.counter != params.counter) {
    change c;
    c.tokens.push_back(it->second);
    c.tokens.back().counter = verdict.counter;
    commit_locked(c);
    params.counter = verdict.counter;
  }
  return otp_check{verdict.valid, params};
}

void model::advance_clock(std::int64_t ms) {
  write_durably([&] {
    change c;
    c.clock_ms = clock_.now_ms() + ms;
    commit_locked(c);
  });
}

}  // namespace fortisim::core
