// The FortiCare model as JSON: the persisted form (--state FILE) and what the control API shows.
#include "server/core/model.hpp"

#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"
#include "server/core/state_file.hpp"

#include <stdexcept>

namespace fortisim::core {

using namespace protocol;

namespace {

constexpr std::array<std::string_view, 4> status_names{"new", "pending", "provisioned", "provision timeout"};

}  // namespace

std::string_view status_text(token_status s) { return status_names[static_cast<std::size_t>(s)]; }

json model::snapshot_locked() const {
  json j;
  j["format"] = 1;
  j["clock_ms"] = clock_.now_ms();
  j["licenses"] = json::array();
  for (const auto& [code, l] : licences_) {
    json e{{"activation_code", l.code},
           {"license", l.serial},
           {"tokens", l.tokens},
           {"bound_to", l.bound_to},
           {"registered_to", l.registered_to}};
    e["valid_until"] = l.valid_until ? json(*l.valid_until) : json(nullptr);
    j["licenses"].push_back(std::move(e));
  }
  j["tokens"] = json::array();
  for (const auto& [serial, t] : tokens_) {
    j["tokens"].push_back({{"token", t.serial},
                           {"license", t.license},
                           {"status", status_text(t.status)},
                           {"activation", t.activation},
                           {"secret", hex_encode(t.secret)},
                           {"digits", t.digits},
                           {"period", t.period},
                           {"expire", t.expire},
                           {"issuer", t.issuer},
                           {"mobile_id", t.mobile_id},
                           {"os_ver", t.os_ver},
                           {"reg_id", t.reg_id},
                           {"provisions", t.provisions}});
  }
  j["hardware_tokens"] = json::array();
  for (const auto& [serial, h] : hardware_) {
    j["hardware_tokens"].push_back({{"token", h.serial},
                                    {"secret", hex_encode(h.secret)},
                                    {"lock", h.consumed ? "consumed" : "available"},
                                    {"activated_by", h.activated_by}});
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
    l.registered_to = e.value("registered_to", "");
    if (e.contains("valid_until") && e["valid_until"].is_number_integer())
      l.valid_until = e["valid_until"].get<std::int64_t>();
    licence_codes_[l.serial] = l.code;
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
    t.provisions = e.value("provisions", std::uint64_t{0});
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
