#include "protocol/messages.hpp"

#include <algorithm>

namespace fortisim::protocol {
namespace {

constexpr std::array<std::string_view, operation_count> operation_names{
    "activation_license", "polling", "mobile_provision", "provision", "hardware_activation"};

/// Reads a string field. `lenient`: integers are accepted as their text (for the version and build
/// echoes, which newer FortiOS might send as numbers [assumed]).
std::optional<field_error> read_string(const json& d, const char* key, std::string& out,
                                       bool required, std::string_view path = "d", bool lenient = false) {
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

/// Reads `tokens: [{"token": "..."}]` into serials; also accepts plain strings in the list.
std::optional<field_error> read_token_list(const json& d, std::vector<std::string>& out, bool required) {
  auto it = d.find("tokens");
  if (it == d.end() || it->is_null()) {
    if (required) return field_error{"d.tokens", "missing"};
    return std::nullopt;
  }
  if (!it->is_array()) return field_error{"d.tokens", std::string("expected an array, got ") + it->type_name()};
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

std::optional<error_value> error_from(const json& j) {
  if (!j.is_object()) return std::nullopt;
  return error_value{j.value("error_code", 0), j.value("error_message", std::string())};
}

void put_envelope(ordered_json& d, const envelope& env) {
  d["__type"] = env.type;
  d["__version"] = env.version;
}

void put_envelope_tail(ordered_json& d, const envelope& env) {
  d["serial_number"] = env.serial_number;
  d["__device_version"] = env.device_version;
  d["__device_build"] = env.device_build;
  ordered_json sns = ordered_json::array();
  for (const auto& sn : env.clustered_sns) sns.push_back({{"sn", sn}});
  d["__clustered_sns"] = std::move(sns);
}

ordered_json wrap(ordered_json d) {
  ordered_json out;
  out["d"] = std::move(d);
  return out;
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
      out.push_back({t.value("token", std::string()), t.value("seed", std::string()), error_from(t.value("error", json()))});
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
  if (out.ends_with("Request")) out.replace(out.size() - 7, 7, "Response");
  else if (out.empty()) out = "SoftToken.Response";
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
  if (!it->is_array()) return field_error{"d.__clustered_sns", std::string("expected an array, got ") + it->type_name()};
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
    case operation::mobile_provision: {
      mobile_provision_request r;
      if (auto e = read_string(d, "__type", r.type, false)) return *e;
      if (auto e = read_string(d, "mobile_id", r.mobile_id, true)) return *e;
      if (auto e = read_string(d, "token_activation_code", r.token_activation_code, true)) return *e;
      if (auto e = read_string(d, "os_ver", r.os_ver, false)) return *e;
      if (auto e = read_string(d, "reg_id", r.reg_id, false)) return *e;
      return r;
    }
    case operation::provision: {
      provision_request r;
      if (auto e = decode_envelope(d, r.env)) return *e;
      auto it = d.find("tokens");
      if (it == d.end() || !it->is_array()) return field_error{"d.tokens", "expected an array of tokens"};
      for (std::size_t i = 0; i < it->size(); ++i) {
        const json& t = (*it)[i];
        std::string path = "d.tokens[" + std::to_string(i) + "]";
        if (!t.is_object()) return field_error{path, "expected an object"};
        provisioned_token p;
        std::int64_t digits = p.digits, period = p.period;
        if (auto e = read_string(t, "token", p.token, true, path)) return *e;
        if (auto e = read_string(t, "activation_code", p.activation_code, true, path)) return *e;
        if (auto e = read_string(t, "seed", p.seed, false, path)) return *e;
        if (auto e = read_string(t, "algorithm", p.algorithm, false, path)) return *e;
        if (auto e = read_int(t, "digits", digits, path)) return *e;
        if (auto e = read_int(t, "period", period, path)) return *e;
        if (auto e = read_int(t, "expire", p.expire, path)) return *e;
        if (auto e = read_string(t, "issuer", p.issuer, false, path)) return *e;
        if (digits < 6 || digits > 8) return field_error{path + ".digits", "expected 6 to 8"};
        if (period < 1 || period > 3600) return field_error{path + ".period", "expected 1 to 3600 seconds"};
        p.digits = static_cast<int>(digits);
        p.period = static_cast<int>(period);
        r.tokens.push_back(std::move(p));
      }
      return r;
    }
    case operation::hardware_activation: {
      hardware_activation_request r;
      if (auto e = decode_envelope(d, r.env)) return *e;
      if (auto e = read_token_list(d, r.tokens, true)) return *e;
      return r;
    }
  }
  return field_error{"d.__type", "unknown operation"};
}

ordered_json encode(const request& r) {
  return std::visit(
      [](const auto& m) -> ordered_json {
        using T = std::decay_t<decltype(m)>;
        ordered_json d;
        if constexpr (std::is_same_v<T, mobile_provision_request>) {
          d["mobile_id"] = m.mobile_id;
          d["__type"] = m.type;
          d["token_activation_code"] = m.token_activation_code;
          if (!m.os_ver.empty()) d["os_ver"] = m.os_ver;
          if (!m.reg_id.empty()) d["reg_id"] = m.reg_id;
        } else {
          put_envelope(d, m.env);
          if constexpr (std::is_same_v<T, activation_license_request>) {
            d["license_activation_code"] = m.license_activation_code;
          } else if constexpr (std::is_same_v<T, provision_request>) {
            ordered_json list = ordered_json::array();
            for (const auto& t : m.tokens) {
              ordered_json e;
              e["token"] = t.token;
              e["activation_code"] = t.activation_code;
              e["seed"] = t.seed;
              e["algorithm"] = t.algorithm;
              e["digits"] = t.digits;
              e["period"] = t.period;
              e["expire"] = t.expire;
              e["issuer"] = t.issuer;
              list.push_back(std::move(e));
            }
            d["tokens"] = std::move(list);
          } else {
            ordered_json list = ordered_json::array();
            for (const auto& t : m.tokens) list.push_back({{"token", t}});
            d["tokens"] = std::move(list);
          }
          put_envelope_tail(d, m.env);
        }
        return wrap(std::move(d));
      },
      r);
}

reply_head head_for(const envelope& env, std::string response_type) {
  reply_head h{std::move(response_type), env.version, env.serial_number, env.device_version, env.device_build, {}};
  h.members.reserve(env.clustered_sns.size());
  for (const auto& sn : env.clustered_sns) h.members.push_back({sn, std::nullopt});
  std::sort(h.members.begin(), h.members.end(),
            [](const member_status& a, const member_status& b) { return a.sn < b.sn; });
  return h;
}

namespace {

/// Writes JSON straight into a string: the reply path builds no tree (it is the per-request path
/// measured against nginx). Strings are escaped as RFC 8259 requires; bytes >= 0x80 pass through.
class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) {}
  json_writer& open() { return put('{'); }
  json_writer& close() {
    out_ += '}';
    first_ = false;
    return *this;
  }
  json_writer& open_array(std::string_view k) {
    key(k);
    out_ += '[';
    first_ = true;
    return *this;
  }
  json_writer& close_array() {
    out_ += ']';
    first_ = false;
    return *this;
  }
  json_writer& key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    quoted(k);
    out_ += ':';
    return *this;
  }
  json_writer& str(std::string_view k, std::string_view v) {
    key(k);
    quoted(v);
    return *this;
  }
  json_writer& num(std::string_view k, std::int64_t v) {
    key(k);
    out_ += std::to_string(v);
    return *this;
  }
  json_writer& null(std::string_view k) {
    key(k);
    out_ += "null";
    return *this;
  }
  json_writer& error(std::string_view k, const std::optional<error_value>& e) {
    if (!e) return null(k);
    key(k);
    first_ = true;
    open();
    num("error_code", e->code).str("error_message", e->message);
    return close();
  }
  /// Opens an object as an array element or as the value of `k`.
  json_writer& element() { return put('{'); }
  json_writer& object(std::string_view k) {
    key(k);
    out_ += '{';
    first_ = true;
    return *this;
  }

 private:
  json_writer& put(char c) {
    if (!first_) out_ += ',';
    out_ += c;
    first_ = true;
    return *this;
  }
  void quoted(std::string_view v) {
    out_ += '"';
    std::size_t run = 0;  // start of the pending run of characters that need no escape
    for (std::size_t i = 0; i < v.size(); ++i) {
      auto c = static_cast<unsigned char>(v[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(v, run, i - run);
      run = i + 1;
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default: {
          static constexpr char hex[] = "0123456789abcdef";
          out_ += "\\u00";
          out_ += hex[c >> 4];
          out_ += hex[c & 0xf];
        }
      }
    }
    out_.append(v, run, v.size() - run);
    out_ += '"';
  }
  std::string& out_;
  bool first_ = true;
};

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

ordered_json encode(const response& r) {
  std::string text;
  encode_to(r, text);
  return ordered_json::parse(text);
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
        for (const auto& t : *it) r.tokens->push_back({t.value("token", std::string()), t.value("license", std::string())});
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
      return mobile_provision_response{s("__type"), s("__version"), s("__device_version"), s("__device_build"),
                                       s("mobile_id_hash"), s("seed"), s("token"), s("image_file"),
                                       s("pin_required"), s("pin_require_type"), d.value("pin_length", 0),
                                       d.value("counter", 0), s("encryption_key"), s("issuer"), err};
    }
    case operation::provision:
      return provision_response{read_head(d), read_token_results(d), err};
    case operation::hardware_activation:
      return hardware_activation_response{read_head(d), read_token_results(d), err};
  }
  return field_error{"d.__type", "unknown operation"};
}

}  // namespace fortisim::protocol
