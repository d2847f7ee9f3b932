// The SoftToken replies: written straight into a string in the captured field order, and read
// back (for tests and tools) (docs/protocol.md §3, §4).
#include "protocol/json_writer.hpp"
#include "protocol/messages.hpp"

#include <algorithm>

namespace fortisim::protocol {
namespace {

std::optional<error_value> error_from(const json& j) {
  if (!j.is_object()) return std::nullopt;
  return error_value{j.value("error_code", 0), j.value("error_message", std::string())};
}

reply_head read_head(const json& d) {
  reply_head h;
  envelope env;
  decode_envelope(d, env);
  h.type = env.type;
  h.version = env.version;
  h.serial_number = env.serial_number;
  h.device_version = env.device_version;
  h.device_build = env.device_build;
  if (auto it = d.find("__clustered_sns"); it != d.end() && it->is_array())
    for (const auto& m : *it)
      if (m.is_object()) h.members.push_back({m.value("sn", std::string()), error_from(m.value("error", json()))});
  return h;
}

std::vector<token_result> read_token_results(const json& d) {
  std::vector<token_result> out;
  if (auto it = d.find("tokens"); it != d.end() && it->is_array())
    for (const auto& t : *it)
      out.push_back(
          {t.value("token", std::string()), t.value("seed", std::string()), error_from(t.value("error", json()))});
  return out;
}

void write_head(json_writer& w, const reply_head& h) {
  w.str("__type", h.type).str("__version", h.version).str("serial_number", h.serial_number);
  w.str("__device_version", h.device_version).str("__device_build", h.device_build);
  w.open_array("__clustered_sns");
  for (const auto& m : h.members) w.element().str("sn", m.sn).error("error", m.error).close();
  w.close_array();
}

void write_tail(json_writer& w, const std::optional<error_value>& e) {
  w.num("result", 0).error("error", e);  // result 0 even on error [seen]
}

}  // namespace

reply_head head_for(const envelope& env, std::string response_type) {
  reply_head h{std::move(response_type), env.version, env.serial_number, env.device_version, env.device_build, {}};
  h.members.reserve(env.clustered_sns.size());
  for (const auto& sn : env.clustered_sns) h.members.push_back({sn, std::nullopt});
  std::sort(h.members.begin(), h.members.end(),
            [](const member_status& a, const member_status& b) { return a.sn < b.sn; });
  return h;
}

void encode_to(const response& r, std::string& out) {
  json_writer w(out);
  w.open().object("d");
  std::visit(
      [&w](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, mobile_provision_response>) {
          w.str("__type", m.type).str("__version", m.version).str("__device_version", m.device_version);
          w.str("__device_build", m.device_build).str("mobile_id_hash", m.mobile_id_hash).str("seed", m.seed);
          w.str("token", m.token).str("image_file", m.image_file).str("pin_required", m.pin_required);
          w.str("pin_require_type", m.pin_require_type).num("pin_length", m.pin_length).num("counter", m.counter);
          w.str("encryption_key", m.encryption_key).str("issuer", m.issuer);
          write_tail(w, m.error);
        } else if constexpr (std::is_same_v<T, error_response>) {
          write_head(w, m.head);
          write_tail(w, m.error);
        } else {
          write_head(w, m.head);
          if constexpr (std::is_same_v<T, activation_license_response>) {
            w.str("license_activation_code", m.license_activation_code).str("license", m.license);
            if (m.tokens) {
              w.open_array("tokens");
              for (const auto& t : *m.tokens) w.element().str("token", t.token).str("license", t.license).close();
              w.close_array();
            } else {
              w.null("tokens");
            }
          } else if constexpr (std::is_same_v<T, polling_response>) {
            w.open_array("tokens");
            for (const auto& t : m.tokens) {
              w.element().str("token", t.token).str("license", t.license).str("status", t.status);
              w.str("os_ver", t.os_ver).str("reg_id", t.reg_id).num("activation_expire", t.activation_expire).close();
            }
            w.close_array();
          } else {
            constexpr bool with_seed = std::is_same_v<T, hardware_activation_response>;
            w.open_array("tokens");
            for (const auto& t : m.tokens) {
              w.element().str("token", t.token);
              if (with_seed) w.str("seed", t.seed);
              w.error("error", t.error).close();
            }
            w.close_array();
          }
          write_tail(w, m.error);
        }
      },
      r);
  w.close().close();
}

json encode(const response& r) {
  std::string text;
  encode_to(r, text);
  return json::parse(text);
}

std::variant<response, field_error> decode_response(operation op, const json& d) {
  if (!d.is_object()) return field_error{"d", "expected an object"};
  auto err = error_from(d.value("error", json()));
  switch (op) {
    case operation::activation_license: {
      activation_license_response r{read_head(d), d.value("license_activation_code", std::string()),
                                    d.value("license", std::string()), std::nullopt, err};
      if (auto it = d.find("tokens"); it != d.end() && it->is_array()) {
        r.tokens.emplace();
        for (const auto& t : *it)
          r.tokens->push_back({t.value("token", std::string()), t.value("license", std::string())});
      }
      return r;
    }
    case operation::polling: {
      polling_response r{read_head(d), {}, err};
      if (auto it = d.find("tokens"); it != d.end() && it->is_array())
        for (const auto& t : *it)
          r.tokens.push_back({t.value("token", std::string()), t.value("license", std::string()),
                              t.value("status", std::string()), t.value("os_ver", std::string()),
                              t.value("reg_id", std::string()), t.value("activation_expire", std::int64_t{0})});
      return r;
    }
    case operation::mobile_provision: {
      auto s = [&](const char* k) { return d.value(k, std::string()); };
      return mobile_provision_response{s("__type"),
                                       s("__version"),
                                       s("__device_version"),
                                       s("__device_build"),
                                       s("mobile_id_hash"),
                                       s("seed"),
                                       s("token"),
                                       s("image_file"),
                                       s("pin_required"),
                                       s("pin_require_type"),
                                       d.value("pin_length", 0),
                                       d.value("counter", 0),
                                       s("encryption_key"),
                                       s("issuer"),
                                       err};
    }
    case operation::provision: return provision_response{read_head(d), read_token_results(d), err};
    case operation::hardware_activation: return hardware_activation_response{read_head(d), read_token_results(d), err};
  }
  return field_error{"d.__type", "unknown operation"};
}

}  // namespace fortisim::protocol
