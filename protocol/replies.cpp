// The SoftToken replies: written straight into a string in the captured field order, and read
// back (for tests and tools) (docs/protocol.md §3, §4).
#include "protocol/json_writer.hpp"
#include "protocol/messages.hpp"

#include <algorithm>

namespace fortisim::protocol {
namespace {

// ---- writing ----

void write_head(json_writer& w, const reply_head& h) {
  w.str("__type", h.type).str("__version", h.version).str("serial_number", h.serial_number);
  w.str("__device_version", h.device_version).str("__device_build", h.device_build);
  w.open_array("__clustered_sns");
  for (const auto& m : h.members) w.element().str("sn", m.sn).str_or_null("error", m.error).close();
  w.close_array();
}

/// `result` is 0 even on error [seen, KB 241195].
void write_tail(json_writer& w, const std::optional<error_value>& e, int result = 0) {
  w.num("result", result).error("error", e);
}

void write(json_writer& w, const activation_license_response& m) {
  write_head(w, m.head);
  w.str("license_activation_code", m.license_activation_code).str("license", m.license);
  if (m.tokens) {
    w.open_array("tokens");
    for (const auto& t : *m.tokens) w.element().str("token", t.token).str("license", t.license).close();
    w.close_array();
  } else {
    w.null("tokens");
  }
  write_tail(w, m.error);
}

void write(json_writer& w, const polling_response& m) {
  write_head(w, m.head);
  w.open_array("tokens");
  for (const auto& t : m.tokens) {
    w.element().str("token", t.token).str("license", t.license).str("status", t.status);
    w.str("os_ver", t.os_ver).str("reg_id", t.reg_id).num("activation_expire", t.activation_expire).close();
  }
  w.close_array();
  write_tail(w, m.error);
}

void write(json_writer& w, const mobile_provision_response& m) {
  w.str("__type", m.type).str("__version", m.version).str("__device_version", m.device_version);
  w.str("__device_build", m.device_build).str("mobile_id_hash", m.mobile_id_hash).str("seed", m.seed);
  w.str("token", m.token).str("image_file", m.image_file).str("pin_required", m.pin_required);
  w.str("pin_require_type", m.pin_require_type).num("pin_length", m.pin_length).num("counter", m.counter);
  w.str("encryption_key", m.encryption_key).str("issuer", m.issuer);
  write_tail(w, m.error);
}

void write(json_writer& w, const provision_response& m) {
  write_head(w, m.head);
  w.open_array("tokens");
  for (const auto& t : m.tokens) {
    w.element().str("token", t.token).str_or_null("license", t.license);
    w.str_or_null("token_activation_code", t.token_activation_code).str_or_null("qr_code", t.qr_code);
    w.num_or_null("code_expire", t.code_expire).error("error", t.error).close();
  }
  w.close_array();
  write_tail(w, m.error, m.result);
}

void write(json_writer& w, const hardware_activation_response& m) {
  write_head(w, m.head);
  w.open_array("tokens");
  for (const auto& t : m.tokens) w.element().str("token", t.token).str("seed", t.seed).error("error", t.error).close();
  w.close_array();
  write_tail(w, m.error);
}

void write(json_writer& w, const error_response& m) {
  write_head(w, m.head);
  write_tail(w, m.error);
}

// ---- reading ----

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::string> text_or_null(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

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
      if (m.is_object()) h.members.push_back({text(m, "sn"), text_or_null(m, "error")});
  return h;
}

std::vector<token_result> read_token_results(const json& d) {
  std::vector<token_result> out;
  if (auto it = d.find("tokens"); it != d.end() && it->is_array())
    for (const auto& t : *it) out.push_back({text(t, "token"), text(t, "seed"), error_from(t.value("error", json()))});
  return out;
}

provision_response read_provision(const json& d) {
  provision_response r{read_head(d), {}, d.value("result", 0), error_from(d.value("error", json()))};
  if (auto it = d.find("tokens"); it != d.end() && it->is_array())
    for (const auto& t : *it) {
      std::optional<std::int64_t> expire;
      if (auto e = t.find("code_expire"); e != t.end() && e->is_number_integer()) expire = e->get<std::int64_t>();
      r.tokens.push_back({text(t, "token"), text_or_null(t, "license"), text_or_null(t, "token_activation_code"),
                          text_or_null(t, "qr_code"), expire, error_from(t.value("error", json()))});
    }
  return r;
}

mobile_provision_response read_mobile(const json& d, std::optional<error_value> err) {
  mobile_provision_response r;
  r.type = text(d, "__type");
  r.version = text(d, "__version");
  r.device_version = text(d, "__device_version");
  r.device_build = text(d, "__device_build");
  r.mobile_id_hash = text(d, "mobile_id_hash");
  r.seed = text(d, "seed");
  r.token = text(d, "token");
  r.image_file = text(d, "image_file");
  r.pin_required = text(d, "pin_required");
  r.pin_require_type = text(d, "pin_require_type");
  r.pin_length = d.value("pin_length", 0);
  r.counter = d.value("counter", 0);
  r.encryption_key = text(d, "encryption_key");
  r.issuer = text(d, "issuer");
  r.error = std::move(err);
  return r;
}

}  // namespace

reply_head head_for(const envelope& env, std::string response_type) {
  reply_head h;
  fill_head(env, response_type, h);
  return h;
}

void fill_head(const envelope& env, std::string_view response_type, reply_head& out) {
  out.type.assign(response_type);
  out.version.assign(env.version);
  out.serial_number.assign(env.serial_number);
  out.device_version.assign(env.device_version);
  out.device_build.assign(env.device_build);
  out.members.resize(env.clustered_sns.size());
  for (std::size_t i = 0; i < env.clustered_sns.size(); ++i) {
    out.members[i].sn.assign(env.clustered_sns[i]);
    out.members[i].error.reset();
  }
  std::sort(out.members.begin(), out.members.end(),
            [](const member_status& a, const member_status& b) { return a.sn < b.sn; });
}

void encode_to(const response& r, std::string& out) {
  json_writer w(out, escaping::asp_net);
  w.open().object("d");
  std::visit([&w](const auto& m) { write(w, m); }, r);
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
      activation_license_response r{read_head(d), text(d, "license_activation_code"), text(d, "license"), std::nullopt,
                                    err};
      if (auto it = d.find("tokens"); it != d.end() && it->is_array()) {
        r.tokens.emplace();
        for (const auto& t : *it) r.tokens->push_back({text(t, "token"), text(t, "license")});
      }
      return r;
    }
    case operation::polling: {
      polling_response r{read_head(d), {}, err};
      if (auto it = d.find("tokens"); it != d.end() && it->is_array())
        for (const auto& t : *it)
          r.tokens.push_back({text(t, "token"), text(t, "license"), text(t, "status"), text(t, "os_ver"),
                              text(t, "reg_id"), t.value("activation_expire", std::int64_t{0})});
      return r;
    }
    case operation::mobile_provision: return read_mobile(d, err);
    case operation::provision: return read_provision(d);
    case operation::hardware_activation: return hardware_activation_response{read_head(d), read_token_results(d), err};
  }
  return field_error{"d.__type", "unknown operation"};
}

}  // namespace fortisim::protocol
