// The SoftToken requests: names of the operations, the envelope, and the request codecs
// (docs/protocol.md §3, §4).
#include "protocol/messages.hpp"

#include <algorithm>

namespace fortisim::protocol {
namespace {

constexpr std::array<std::string_view, operation_count> operation_names{
    "activation_license", "polling", "mobile_provision", "provision", "hardware_activation"};

/// Reads a string field. `lenient`: integers are accepted as their text (for the version and build
/// echoes, which newer FortiOS might send as numbers [assumed]).
std::optional<field_error> read_string(const json& d, const char* key, std::string& out, bool required,
                                       std::string_view path = "d", bool lenient = false) {
  auto it = d.find(key);
  if (it == d.end() || it->is_null()) {
    if (required) return field_error{std::string(path) + "." + key, "missing"};
    return std::nullopt;
  }
  if (it->is_string()) {
    out = it->get_ref<const std::string&>();
  } else if (lenient && it->is_number_integer()) {
    out = std::to_string(it->get<long long>());
  } else {
    return field_error{std::string(path) + "." + key, std::string("expected a string, got ") + it->type_name()};
  }
  return std::nullopt;
}

std::optional<field_error> read_int(const json& d, const char* key, std::int64_t& out, std::string_view path) {
  auto it = d.find(key);
  if (it == d.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer()) {
    out = it->get<std::int64_t>();
  } else if (it->is_string()) {
    try {
      std::size_t used = 0;
      out = std::stoll(it->get_ref<const std::string&>(), &used);
      if (used != it->get_ref<const std::string&>().size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      return field_error{std::string(path) + "." + key, "expected an integer"};
    }
  } else {
    return field_error{std::string(path) + "." + key, std::string("expected an integer, got ") + it->type_name()};
  }
  return std::nullopt;
}

/// A list of more than max_list_entries entries, refused before any is read.
std::optional<field_error> too_long(const json& list, std::string_view path) {
  if (list.size() <= max_list_entries) return std::nullopt;
  return field_error{std::string(path), "more than " + std::to_string(max_list_entries) + " entries (" +
                                            std::to_string(list.size()) + " given)"};
}

/// Reads `tokens: [{"token": "..."}]` into serials; also accepts plain strings in the list.
std::optional<field_error> read_token_list(const json& d, std::vector<std::string>& out, bool required) {
  auto it = d.find("tokens");
  if (it == d.end() || it->is_null()) {
    if (required) return field_error{"d.tokens", "missing"};
    return std::nullopt;
  }
  if (!it->is_array()) return field_error{"d.tokens", std::string("expected an array, got ") + it->type_name()};
  if (auto e = too_long(*it, "d.tokens")) return e;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& entry = (*it)[i];
    std::string path = "d.tokens[" + std::to_string(i) + "]";
    if (entry.is_string()) {
      out.push_back(entry.get<std::string>());
      continue;
    }
    if (!entry.is_object()) return field_error{path, "expected an object {\"token\": ...}"};
    std::string serial;
    if (auto e = read_string(entry, "token", serial, true, path)) return e;
    out.push_back(std::move(serial));
  }
  return std::nullopt;
}

void put_envelope(json& d, const envelope& env) {
  d["__type"] = env.type;
  d["__version"] = env.version;
}

void put_envelope_tail(json& d, const envelope& env) {
  d["serial_number"] = env.serial_number;
  d["__device_version"] = env.device_version;
  d["__device_build"] = env.device_build;
  json sns = json::array();
  for (const auto& sn : env.clustered_sns) sns.push_back({{"sn", sn}});
  d["__clustered_sns"] = std::move(sns);
}

json wrap(json d) {
  json out;
  out["d"] = std::move(d);
  return out;
}

}  // namespace

const message_names& default_message_names() {
  static const message_names names{
      {"SoftToken.ActivationLicenseRequest", "SoftToken.PollingRequest", "SoftToken.MobileProvisionRequest",
       "SoftToken.ProvisionRequest", "SoftToken.HardwareActivationRequest"},
      {"SoftToken.ActivationLicenseResponse", "SoftToken.PollingResponse", "SoftToken.MobileProvisionResponse",
       "SoftToken.ProvisionResponse", "SoftToken.HardwareActivationResponse"}};
  return names;
}

std::optional<operation> message_names::find(std::string_view request_type) const {
  for (std::size_t i = 0; i < request.size(); ++i)
    if (request[i] == request_type) return static_cast<operation>(i);
  return std::nullopt;
}

std::string_view operation_name(operation op) { return operation_names[static_cast<std::size_t>(op)]; }

std::optional<operation> operation_from_name(std::string_view name) {
  for (std::size_t i = 0; i < operation_names.size(); ++i)
    if (operation_names[i] == name) return static_cast<operation>(i);
  return std::nullopt;
}

std::string response_type_for(std::string_view request_type) {
  std::string out(request_type);
  if (out.ends_with("Request"))
    out.replace(out.size() - 7, 7, "Response");
  else if (out.empty())
    out = "SoftToken.Response";
  return out;
}

std::optional<field_error> decode_envelope(const json& d, envelope& out) {
  if (auto e = read_string(d, "__type", out.type, false)) return e;
  if (auto e = read_string(d, "__version", out.version, false, "d", true)) return e;
  if (auto e = read_string(d, "serial_number", out.serial_number, false)) return e;
  if (auto e = read_string(d, "__device_version", out.device_version, false, "d", true)) return e;
  if (auto e = read_string(d, "__device_build", out.device_build, false, "d", true)) return e;
  auto it = d.find("__clustered_sns");
  if (it == d.end() || it->is_null()) return std::nullopt;
  if (!it->is_array())
    return field_error{"d.__clustered_sns", std::string("expected an array, got ") + it->type_name()};
  if (auto e = too_long(*it, "d.__clustered_sns")) return e;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    std::string path = "d.__clustered_sns[" + std::to_string(i) + "]";
    if (!m.is_object()) return field_error{path, "expected an object {\"sn\": ...}"};
    std::string sn;
    if (auto e = read_string(m, "sn", sn, true, path)) return e;
    out.clustered_sns.push_back(std::move(sn));
  }
  return std::nullopt;
}

namespace {

std::variant<request, field_error> decode_mobile(const json& d) {
  mobile_provision_request r;
  if (auto e = read_string(d, "__type", r.type, false)) return *e;
  if (auto e = read_string(d, "__version", r.version, false, "d", true)) return *e;
  if (auto e = read_string(d, "mobile_id", r.mobile_id, true)) return *e;
  if (auto e = read_string(d, "token_activation_code", r.token_activation_code, true)) return *e;
  // Newer apps' names [seen], then fortisim's earlier assumed ones.
  for (const char* key : {"registration_id", "reg_id"})
    if (r.registration_id.empty())
      if (auto e = read_string(d, key, r.registration_id, false)) return *e;
  for (const char* key : {"__device_version", "os_ver"})
    if (r.device_version.empty())
      if (auto e = read_string(d, key, r.device_version, false, "d", true)) return *e;
  if (auto e = read_string(d, "__device_build", r.device_build, false, "d", true)) return *e;
  return r;
}

/// One token of a ProvisionRequest, as FortiOS 7.4.10 sends it [seen]; unknown fields ignored.
std::variant<provisioned_token, field_error> decode_provisioned(const json& t, const std::string& path) {
  if (!t.is_object()) return field_error{path, "expected an object"};
  provisioned_token p;
  std::int64_t digits = p.digits, period = p.period;
  if (auto e = read_string(t, "token", p.token, true, path)) return *e;
  if (auto e = read_string(t, "seed", p.seed, false, path)) return *e;
  if (auto e = read_int(t, "code_expire", p.code_expire, path)) return *e;
  if (auto e = read_string(t, "type", p.type, false, path)) return *e;
  if (auto e = read_int(t, "period", period, path)) return *e;
  if (auto e = read_int(t, "digits", digits, path)) return *e;
  if (auto e = read_string(t, "activation_code", p.activation_code, false, path)) return *e;
  if (digits < 6 || digits > 8) return field_error{path + ".digits", "expected 6 to 8"};
  if (period < 1 || period > 3600) return field_error{path + ".period", "expected 1 to 3600 seconds"};
  if (p.code_expire < 0 || p.code_expire > 366LL * 24 * 60)
    return field_error{path + ".code_expire", "expected 0 to 527040 minutes"};
  p.digits = static_cast<int>(digits);
  p.period = static_cast<int>(period);
  return p;
}

std::variant<request, field_error> decode_provision(const json& d) {
  provision_request r;
  if (auto e = decode_envelope(d, r.env)) return *e;
  auto it = d.find("tokens");
  if (it == d.end() || !it->is_array()) return field_error{"d.tokens", "expected an array of tokens"};
  if (auto e = too_long(*it, "d.tokens")) return *e;
  for (std::size_t i = 0; i < it->size(); ++i) {
    auto t = decode_provisioned((*it)[i], "d.tokens[" + std::to_string(i) + "]");
    if (auto* e = std::get_if<field_error>(&t)) return *e;
    r.tokens.push_back(std::get<provisioned_token>(std::move(t)));
  }
  return r;
}

}  // namespace

std::variant<request, field_error> decode_request(operation op, const json& d) {
  switch (op) {
    case operation::activation_license: {
      activation_license_request r;
      if (auto e = decode_envelope(d, r.env)) return *e;
      if (auto e = read_string(d, "license_activation_code", r.license_activation_code, true)) return *e;
      return r;
    }
    case operation::polling: {
      polling_request r;
      if (auto e = decode_envelope(d, r.env)) return *e;
      if (auto e = read_token_list(d, r.tokens, false)) return *e;
      return r;
    }
    case operation::mobile_provision: return decode_mobile(d);
    case operation::provision: return decode_provision(d);
    case operation::hardware_activation: {
      hardware_activation_request r;
      if (auto e = decode_envelope(d, r.env)) return *e;
      if (auto e = read_token_list(d, r.tokens, true)) return *e;
      return r;
    }
  }
  return field_error{"d.__type", "unknown operation"};
}

namespace {

json encode_mobile(const mobile_provision_request& m) {
  json d;
  d["mobile_id"] = m.mobile_id;
  d["__type"] = m.type;
  d["token_activation_code"] = m.token_activation_code;
  if (!m.version.empty()) d["__version"] = m.version;
  if (!m.registration_id.empty()) d["registration_id"] = m.registration_id;
  if (!m.device_version.empty()) d["__device_version"] = m.device_version;
  if (!m.device_build.empty()) d["__device_build"] = m.device_build;
  return d;
}

/// In the order FortiOS 7.4.10 sends it [seen].
json encode_provision(const provision_request& m) {
  json d;
  d["__type"] = m.env.type;
  d["__version"] = m.env.version;
  d["__device_version"] = m.env.device_version;
  d["__device_build"] = m.env.device_build;
  d["serial_number"] = m.env.serial_number;
  json sns = json::array();
  for (const auto& sn : m.env.clustered_sns) sns.push_back({{"sn", sn}});
  d["__clustered_sns"] = std::move(sns);
  json list = json::array();
  for (const auto& t : m.tokens) {
    json e;
    e["token"] = t.token;
    e["seed"] = t.seed;
    e["code_expire"] = t.code_expire;
    e["type"] = t.type;
    e["period"] = t.period;
    e["digits"] = t.digits;
    if (!t.activation_code.empty()) e["activation_code"] = t.activation_code;
    list.push_back(std::move(e));
  }
  d["tokens"] = std::move(list);
  return d;
}

}  // namespace

json encode(const request& r) {
  return std::visit(
      [](const auto& m) -> json {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, mobile_provision_request>) {
          return wrap(encode_mobile(m));
        } else if constexpr (std::is_same_v<T, provision_request>) {
          return wrap(encode_provision(m));
        } else {
          json d;
          put_envelope(d, m.env);
          if constexpr (std::is_same_v<T, activation_license_request>) {
            d["license_activation_code"] = m.license_activation_code;  // before the serial [seen]
            put_envelope_tail(d, m.env);
          } else {
            put_envelope_tail(d, m.env);
            json list = json::array();  // after the envelope [seen: KB 241195's poll]
            for (const auto& t : m.tokens) list.push_back({{"token", t}});
            d["tokens"] = std::move(list);
          }
          return wrap(std::move(d));
        }
      },
      r);
}

}  // namespace fortisim::protocol
