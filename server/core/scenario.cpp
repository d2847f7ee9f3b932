#include "server/core/scenario.hpp"

#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>

namespace fortisim::core {

using protocol::json;

namespace {

constexpr std::array<std::pair<action_kind, std::string_view>, 18> action_names{{
    {action_kind::pass, "pass"},           {action_kind::delay, "delay"},
    {action_kind::refuse, "refuse"},       {action_kind::reset, "reset"},
    {action_kind::hang, "hang"},           {action_kind::tls_alert, "tls_alert"},
    {action_kind::tls_stall, "tls_stall"}, {action_kind::tls_cert, "tls_cert"},
    {action_kind::tls_version, "tls_version"}, {action_kind::status, "status"},
    {action_kind::close, "close"},         {action_kind::truncate, "truncate"},
    {action_kind::garbage, "garbage"},     {action_kind::dribble, "dribble"},
    {action_kind::lie_length, "lie_length"}, {action_kind::malformed_json, "malformed_json"},
    {action_kind::error, "error"},         {action_kind::reply, "reply"},
}};

/// TLS alert names a scenario may use (RFC 8446 §6).
const std::set<std::string, std::less<>> tls_alert_names{
    "handshake_failure", "protocol_version", "internal_error", "unrecognized_name",
    "access_denied", "insufficient_security", "decode_error", "illegal_parameter"};

/// Walks one document, collecting every problem with its JSON path.
class checker {
 public:
  std::vector<problem> problems;

  void fail(const std::string& path, std::string reason) { problems.push_back({path, std::move(reason)}); }

  /// Reports keys of `j` not in `allowed` (typos are the commonest scenario bug).
  void only_keys(const json& j, const std::string& path, std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : j.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(path + "." + key, "unknown key (expected one of: " + list + ")");
      }
    }
  }

  bool is_object(const json& j, const std::string& path) {
    if (j.is_object()) return true;
    fail(path, std::string("expected an object, got ") + j.type_name());
    return false;
  }

  std::optional<std::string> string_at(const json& j, const char* key, const std::string& path, bool required = false) {
    auto it = j.find(key);
    if (it == j.end()) {
      if (required) fail(path + "." + key, "missing (expected a string)");
      return std::nullopt;
    }
    if (!it->is_string()) {
      fail(path + "." + key, std::string("expected a string, got ") + it->type_name());
      return std::nullopt;
    }
    return it->get<std::string>();
  }

  std::optional<std::int64_t> int_at(const json& j, const char* key, const std::string& path, std::int64_t min,
                                     std::int64_t max, bool required = false) {
    auto it = j.find(key);
    if (it == j.end()) {
      if (required) fail(path + "." + key, "missing (expected an integer)");
      return std::nullopt;
    }
    if (!it->is_number_integer()) {
      fail(path + "." + key, std::string("expected an integer, got ") + it->type_name());
      return std::nullopt;
    }
    auto v = it->get<std::int64_t>();
    if (v < min || v > max) {
      fail(path + "." + key, "expected " + std::to_string(min) + " to " + std::to_string(max) + ", got " + std::to_string(v));
      return std::nullopt;
    }
    return v;
  }

  std::optional<bool> bool_at(const json& j, const char* key, const std::string& path) {
    auto it = j.find(key);
    if (it == j.end()) return std::nullopt;
    if (!it->is_boolean()) {
      fail(path + "." + key, std::string("expected true or false, got ") + it->type_name());
      return std::nullopt;
    }
    return it->get<bool>();
  }

  std::optional<std::int64_t> time_at(const json& j, const char* key, const std::string& path) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    auto t = parse_time(*it);
    if (!t) fail(path + "." + key, "expected a date \"YYYY-MM-DD\", a time \"YYYY-MM-DDThh:mm:ssZ\" or unix seconds");
    return t;
  }

  /// A 20-byte secret given as 40 hex digits.
  std::string secret_at(const json& j, const char* key, const std::string& path) {
    auto s = string_at(j, key, path);
    if (!s) return {};
    auto raw = protocol::hex_decode(*s);
    if (!raw || raw->size() != 20) {
      fail(path + "." + key, "expected 40 hex digits (a 20-byte secret)");
      return {};
    }
    return *raw;
  }

  std::optional<matcher> parse_matcher(const json& j, const std::string& path) {
    matcher m;
    if (j.is_string()) {
      m.value = j.get<std::string>();
      return m;
    }
    if (j.is_number_integer()) {
      m.value = std::to_string(j.get<long long>());
      return m;
    }
    if (!j.is_object() || j.size() != 1) {
      fail(path, "expected a string, or one of {\"prefix\"|\"suffix\"|\"contains\"|\"regex\"|\"any_of\": ...}");
      return std::nullopt;
    }
    auto only = j.begin();  // iterators, not items(): its proxy must not outlive this statement
    const std::string& key = only.key();
    const json& value = only.value();
    if (key == "any_of") {
      if (!value.is_array() || value.empty() ||
          !std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_string(); })) {
        fail(path + ".any_of", "expected a non-empty array of strings");
        return std::nullopt;
      }
      m.how = matcher::kind::any_of;
      m.values = value.get<std::vector<std::string>>();
      return m;
    }
    if (!value.is_string()) {
      fail(path + "." + key, "expected a string");
      return std::nullopt;
    }
    m.value = value.get<std::string>();
    if (key == "equals") m.how = matcher::kind::equals;
    else if (key == "prefix") m.how = matcher::kind::prefix;
    else if (key == "suffix") m.how = matcher::kind::suffix;
    else if (key == "contains") m.how = matcher::kind::contains;
    else if (key == "regex") {
      m.how = matcher::kind::regex;
      try {
        m.re = std::make_shared<const std::regex>(m.value, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        fail(path + ".regex", std::string("not a valid regular expression: ") + e.what());
        return std::nullopt;
      }
    } else {
      fail(path + "." + key, "unknown matcher (expected equals, prefix, suffix, contains, regex or any_of)");
      return std::nullopt;
    }
    return m;
  }

  std::optional<ordinal_range> parse_range(const json& j, const std::string& path) {
    ordinal_range r;
    if (j.is_number_unsigned() && j.get<std::uint64_t>() >= 1) {
      r.min = r.max = j.get<std::uint64_t>();
      return r;
    }
    if (!j.is_object()) {
      fail(path, "expected an ordinal >= 1 or {\"min\": N, \"max\": N, \"every\": N}");
      return std::nullopt;
    }
    only_keys(j, path, {"min", "max", "every"});
    if (auto v = int_at(j, "min", path, 1, INT64_MAX)) r.min = static_cast<std::uint64_t>(*v);
    if (auto v = int_at(j, "max", path, 1, INT64_MAX)) r.max = static_cast<std::uint64_t>(*v);
    if (auto v = int_at(j, "every", path, 1, INT64_MAX)) r.every = static_cast<std::uint64_t>(*v);
    if (r.min > r.max) fail(path, "min is greater than max");
    return r;
  }

  std::optional<protocol::error_value> parse_error_ref(const json& j, const std::string& path,
                                                       const protocol::error_table& table) {
    if (j.is_number_integer()) {
      int code = j.get<int>();
      auto v = table.for_code(code);
      if (v.message.empty()) {
        fail(path, "code " + std::to_string(code) + " is not in the catalogue: give {\"code\": N, \"message\": \"...\"}");
        return std::nullopt;
      }
      return v;
    }
    if (j.is_string()) {
      const auto* e = protocol::find_error(j.get<std::string>());
      if (!e) {
        fail(path, "unknown error name \"" + j.get<std::string>() + "\" (see the catalogue in scenarios/README.md)");
        return std::nullopt;
      }
      return table[e->id];
    }
    if (j.is_object()) {
      only_keys(j, path, {"code", "message"});
      auto code = int_at(j, "code", path, 0, 99999, true);
      auto message = string_at(j, "message", path);
      if (!code) return std::nullopt;
      return table.for_code(static_cast<int>(*code), message.value_or(""));
    }
    fail(path, "expected an error code, an error name, or {\"code\": N, \"message\": \"...\"}");
    return std::nullopt;
  }

  std::optional<action> parse_action(const json& j, const std::string& path, const protocol::error_table& table) {
    if (!is_object(j, path)) return std::nullopt;
    auto name = string_at(j, "action", path, true);
    if (!name) return std::nullopt;
    auto found = std::find_if(action_names.begin(), action_names.end(), [&](const auto& p) { return p.second == *name; });
    if (found == action_names.end()) {
      fail(path + ".action", "unknown action \"" + *name + "\"");
      return std::nullopt;
    }
    action a;
    a.kind = found->first;
    constexpr std::int64_t day_ms = 24LL * 3600 * 1000;
    auto http_keys = [&](std::initializer_list<std::string_view> extra) {
      std::vector<std::string_view> keys{"action", "delay_ms"};
      keys.insert(keys.end(), extra);
      for (const auto& [key, value] : j.items())
        if (std::find(keys.begin(), keys.end(), key) == keys.end())
          fail(path + "." + key, "unknown key for action \"" + *name + "\"");
      if (auto v = int_at(j, "delay_ms", path, 0, day_ms)) a.delay_ms = *v;
    };
    switch (a.kind) {
      case action_kind::pass: http_keys({}); break;
      case action_kind::delay:
        http_keys({"ms"});
        if (auto v = int_at(j, "ms", path, 0, day_ms, true)) a.delay_ms += *v;
        break;
      case action_kind::refuse:
        only_keys(j, path, {"action", "for_ms", "first_ms"});
        if (auto v = int_at(j, "for_ms", path, 1, day_ms)) a.for_ms = *v;
        if (auto v = int_at(j, "first_ms", path, 1, day_ms)) a.first_ms = *v;
        if (a.for_ms && a.first_ms) fail(path, "give for_ms or first_ms, not both");
        break;
      case action_kind::reset: only_keys(j, path, {"action"}); break;
      case action_kind::hang:
      case action_kind::tls_stall:
        only_keys(j, path, {"action", "for_ms"});
        if (auto v = int_at(j, "for_ms", path, 1, day_ms)) a.for_ms = *v;
        break;
      case action_kind::tls_alert:
        only_keys(j, path, {"action", "alert"});
        if (auto v = string_at(j, "alert", path)) {
          if (!tls_alert_names.contains(*v)) fail(path + ".alert", "unknown TLS alert \"" + *v + "\"");
          a.alert = *v;
        }
        break;
      case action_kind::tls_cert:
        only_keys(j, path, {"action", "cert"});
        if (auto v = string_at(j, "cert", path, true)) {
          if (*v != "wrong_name" && *v != "expired" && *v != "unknown_ca")
            fail(path + ".cert", "expected \"wrong_name\", \"expired\" or \"unknown_ca\"");
          a.cert = *v;
        }
        break;
      case action_kind::tls_version: {
        only_keys(j, path, {"action", "versions"});
        auto it = j.find("versions");
        if (it == j.end() || !it->is_array() || it->empty()) {
          fail(path + ".versions", "expected a non-empty array such as [\"1.2\"]");
          break;
        }
        for (std::size_t i = 0; i < it->size(); ++i) {
          const auto& v = (*it)[i];
          if (!v.is_string() || (v != "1.0" && v != "1.1" && v != "1.2" && v != "1.3"))
            fail(path + ".versions[" + std::to_string(i) + "]", "expected \"1.0\", \"1.1\", \"1.2\" or \"1.3\"");
          else a.versions.push_back(v.get<std::string>());
        }
        break;
      }
      case action_kind::status:
        http_keys({"status", "body", "content_type"});
        if (auto v = int_at(j, "status", path, 100, 599, true)) a.status = static_cast<int>(*v);
        if (auto v = string_at(j, "body", path)) a.body = *v;
        if (auto v = string_at(j, "content_type", path)) a.content_type = *v;
        break;
      case action_kind::close:
      case action_kind::malformed_json: http_keys({}); break;
      case action_kind::truncate:
        http_keys({"bytes"});
        a.bytes = 10;
        if (auto v = int_at(j, "bytes", path, 0, 1 << 20)) a.bytes = static_cast<std::uint64_t>(*v);
        break;
      case action_kind::garbage:
        http_keys({"bytes"});
        a.bytes = 64;
        if (auto v = int_at(j, "bytes", path, 1, 1 << 20)) a.bytes = static_cast<std::uint64_t>(*v);
        break;
      case action_kind::dribble:
        http_keys({"bytes_per_second"});
        if (auto v = int_at(j, "bytes_per_second", path, 1, 1 << 30, true)) a.bytes = static_cast<std::uint64_t>(*v);
        break;
      case action_kind::lie_length:
        http_keys({"content_length"});
        if (auto v = int_at(j, "content_length", path, 0, 1 << 30, true)) a.content_length = static_cast<std::uint64_t>(*v);
        break;
      case action_kind::error: {
        http_keys({"code", "message", "members"});
        if (auto it = j.find("code"); it != j.end()) {
          json ref = *it;
          if (auto m = j.find("message"); m != j.end()) {
            if (!it->is_number_integer()) fail(path + ".message", "a custom message goes with a numeric code");
            else ref = json{{"code", *it}, {"message", *m}};
          }
          a.error = parse_error_ref(ref, path + ".code", table);
        }
        if (auto it = j.find("members"); it != j.end()) {
          if (!it->is_object()) fail(path + ".members", "expected an object {\"<serial>\": <error>}");
          else
            for (const auto& [sn, ref] : it->items())
              if (auto e = parse_error_ref(ref, path + ".members." + sn, table)) a.members.push_back({sn, *e});
        }
        if (!j.contains("code") && !j.contains("members")) fail(path, "an error action needs \"code\" or \"members\"");
        break;
      }
      case action_kind::reply: {
        http_keys({"body"});
        auto it = j.find("body");
        if (it == j.end() || !it->is_object()) fail(path + ".body", "expected the reply as a JSON object");
        else a.reply = protocol::ordered_json::parse(it->dump());
        break;
      }
    }
    return a;
  }

  void parse_rule(const json& j, const std::string& path, scenario& s) {
    if (!is_object(j, path)) return;
    only_keys(j, path, {"name", "when", "then", "times", "probability", "cycle", "comment"});
    rule r;
    r.name = string_at(j, "name", path).value_or("rule " + path.substr(path.find('[')));
    if (auto v = int_at(j, "times", path, 1, INT64_MAX)) r.times = static_cast<std::uint64_t>(*v);
    if (auto v = bool_at(j, "cycle", path)) r.cycle = *v;
    if (auto it = j.find("probability"); it != j.end()) {
      if (!it->is_number() || it->get<double>() < 0.0 || it->get<double>() > 1.0)
        fail(path + ".probability", "expected a number from 0 to 1");
      else r.probability = it->get<double>();
    }
    auto then = j.find("then");
    if (then == j.end()) {
      fail(path + ".then", "missing (expected an action or a list of actions)");
      return;
    }
    if (then->is_array()) {
      if (then->empty()) fail(path + ".then", "expected at least one action");
      for (std::size_t i = 0; i < then->size(); ++i)
        if (auto a = parse_action((*then)[i], path + ".then[" + std::to_string(i) + "]", s.errors)) r.then.push_back(*a);
    } else if (auto a = parse_action(*then, path + ".then", s.errors)) {
      r.then.push_back(*a);
    }
    // What the `when` needs to know decides the earliest stage it can be tested at.
    stage needed = stage::connection;
    std::vector<std::pair<std::string, stage>> keys_needing;
    if (auto w = j.find("when"); w != j.end() && is_object(*w, path + ".when")) {
      std::string wp = path + ".when";
      for (const auto& [key, value] : w->items()) {
        std::string kp = wp + "." + key;
        stage key_stage = stage::http;
        if (key == "connection") {
          key_stage = stage::connection;
          r.when.connection = parse_range(value, kp);
        } else if (key == "client_address") {
          key_stage = stage::connection;
          r.when.client_address = parse_matcher(value, kp);
        } else if (key == "sni") {
          key_stage = stage::tls;
          r.when.sni = parse_matcher(value, kp);
        } else if (key == "request") {
          r.when.request = parse_range(value, kp);
        } else if (key == "endpoint") {
          if (value == "process") r.when.endpoint = matcher{matcher::kind::equals, "/SoftToken/Provisioning.asmx/Process", {}, {}};
          else if (value == "mobile") r.when.endpoint = matcher{matcher::kind::equals, "/SoftToken/Provisioning.asmx/Mobile", {}, {}};
          else r.when.endpoint = parse_matcher(value, kp);
        } else if (key == "type") {
          if (auto m = parse_matcher(value, kp)) {
            if (m->how == matcher::kind::equals && m->value.find('.') == std::string::npos) m->value = "SoftToken." + m->value;
            r.when.type = *m;
          }
        } else if (key == "operation") {
          auto op = value.is_string() ? protocol::operation_from_name(value.get<std::string>()) : std::nullopt;
          if (!op) fail(kp, "expected activation_license, polling, mobile_provision, provision or hardware_activation");
          r.when.operation = op;
        } else if (key == "cluster_member") {
          r.when.cluster_member = parse_matcher(value, kp);
        } else if (key == "token") {
          r.when.token = parse_matcher(value, kp);
        } else if (auto m = parse_matcher(value, kp)) {
          r.when.fields.emplace_back(key, *m);
        }
        keys_needing.emplace_back(kp, key_stage);
        needed = std::max(needed, key_stage);
      }
    }
    // The stage is that of the actions. `pass` and `delay` are HTTP-stage; `reset` and `hang`
    // act at whatever stage the `when` needs (on accept, after the ClientHello, or after reading
    // the request).
    std::set<stage> stages;
    for (const auto& a : r.then) {
      if (a.kind == action_kind::reset || a.kind == action_kind::hang) stages.insert(needed);
      else if (a.kind != action_kind::pass) stages.insert(stage_of(a.kind));
    }
    if (stages.size() > 1) fail(path + ".then", "mixes actions of different stages (connection, TLS, HTTP): split it into rules");
    if (!stages.empty()) r.stage = *stages.begin();
    for (const auto& [kp, key_stage] : keys_needing)
      if (key_stage > r.stage)
        fail(kp, "is not known yet at the " + std::string(r.stage == stage::connection ? "connection" : "TLS") +
                     " stage of this rule's action");
    for (const auto& a : r.then)
      if (a.kind == action_kind::refuse && a.first_ms && j.contains("when"))
        fail(path + ".when", "a refuse with first_ms applies from the start and takes no \"when\"");
    s.rules.push_back(std::move(r));
  }

  void parse_protocol(const json& j, const std::string& path, scenario& s) {
    if (!is_object(j, path)) return;
    only_keys(j, path, {"types", "errors"});
    if (auto t = j.find("types"); t != j.end() && is_object(*t, path + ".types")) {
      for (const auto& [key, value] : t->items()) {
        std::string kp = path + ".types." + key;
        auto op = protocol::operation_from_name(key);
        if (!op) {
          fail(kp, "unknown operation (expected activation_license, polling, mobile_provision, provision or hardware_activation)");
          continue;
        }
        if (!is_object(value, kp)) continue;
        only_keys(value, kp, {"request", "response"});
        auto i = static_cast<std::size_t>(*op);
        if (auto v = string_at(value, "request", kp)) s.names.request[i] = *v;
        if (auto v = string_at(value, "response", kp)) s.names.response[i] = *v;
      }
    }
    if (auto e = j.find("errors"); e != j.end() && is_object(*e, path + ".errors")) {
      for (const auto& [key, value] : e->items()) {
        std::string kp = path + ".errors." + key;
        const auto* entry = protocol::find_error(key);
        if (!entry) {
          fail(kp, "unknown error name (see the catalogue in scenarios/README.md)");
          continue;
        }
        if (!is_object(value, kp)) continue;
        only_keys(value, kp, {"code", "message"});
        auto v = s.errors[entry->id];
        if (auto c = int_at(value, "code", kp, 0, 99999)) v.code = static_cast<int>(*c);
        if (auto m = string_at(value, "message", kp)) v.message = *m;
        s.errors.set(entry->id, v);
      }
    }
  }

  template <class F>
  void each(const json& root, const char* key, F&& f) {
    auto it = root.find(key);
    if (it == root.end()) return;
    std::string path = std::string("$.") + key;
    if (!it->is_array()) {
      fail(path, std::string("expected an array, got ") + it->type_name());
      return;
    }
    for (std::size_t i = 0; i < it->size(); ++i) f((*it)[i], path + "[" + std::to_string(i) + "]");
  }

  scenario parse(const json& root) {
    scenario s;
    if (!is_object(root, "$")) return s;
    only_keys(root, "$", {"$schema", "name", "description", "seed", "clock", "licenses", "unknown_codes", "trial",
                          "activation_expiry_hours", "mobile_tokens", "hardware_tokens", "unknown_hardware", "rules",
                          "protocol"});
    s.name = string_at(root, "name", "$").value_or("");
    s.description = string_at(root, "description", "$").value_or("");
    if (auto it = root.find("seed"); it != root.end()) {
      if (!it->is_number_unsigned()) fail("$.seed", "expected a non-negative integer");
      else s.seed = it->get<std::uint64_t>();
    }
    // protocol first: error codes elsewhere resolve against its overrides.
    if (auto p = root.find("protocol"); p != root.end()) parse_protocol(*p, "$.protocol", s);
    if (auto c = root.find("clock"); c != root.end() && is_object(*c, "$.clock")) {
      only_keys(*c, "$.clock", {"now", "rate"});
      if (auto t = time_at(*c, "now", "$.clock")) s.clock_start_ms = *t * 1000;
      if (auto r = c->find("rate"); r != c->end()) {
        if (!r->is_number() || r->get<double>() < 0.0 || r->get<double>() > 1e6)
          fail("$.clock.rate", "expected a number from 0 (frozen) to 1000000");
        else s.clock_rate = r->get<double>();
      }
    }
    if (auto v = int_at(root, "activation_expiry_hours", "$", 1, 168)) s.activation_expiry_s = *v * 3600;
    if (auto u = root.find("unknown_codes"); u != root.end() && is_object(*u, "$.unknown_codes")) {
      only_keys(*u, "$.unknown_codes", {"answer", "token_count", "valid_until"});
      s.unknown_codes.valid_until = time_at(*u, "valid_until", "$.unknown_codes");
      if (auto a = string_at(*u, "answer", "$.unknown_codes")) {
        if (*a == "accept") s.unknown_codes.accept = true;
        else if (*a == "card_not_found") s.unknown_codes.accept = false;
        else fail("$.unknown_codes.answer", "expected \"accept\" or \"card_not_found\"");
      }
      if (auto n = int_at(*u, "token_count", "$.unknown_codes", 1, 1000)) s.unknown_codes.token_count = static_cast<int>(*n);
    }
    if (auto t = root.find("trial"); t != root.end() && is_object(*t, "$.trial")) {
      only_keys(*t, "$.trial", {"available", "token_count"});
      if (auto a = bool_at(*t, "available", "$.trial")) s.trial_available = *a;
      if (auto n = int_at(*t, "token_count", "$.trial", 1, 100)) s.trial_token_count = static_cast<int>(*n);
    }
    if (auto h = root.find("unknown_hardware"); h != root.end()) {
      if (*h == "accept") s.accept_unknown_hardware = true;
      else if (*h == "not_found") s.accept_unknown_hardware = false;
      else fail("$.unknown_hardware", "expected \"accept\" or \"not_found\"");
    }
    std::set<std::string> codes;
    each(root, "licenses", [&](const json& j, const std::string& path) {
      if (!is_object(j, path)) return;
      only_keys(j, path, {"activation_code", "license", "tokens", "token_count", "valid_until", "bound_to", "comment"});
      license_spec l;
      if (auto c = string_at(j, "activation_code", path, true)) {
        if (!protocol::is_license_activation_code(*c))
          fail(path + ".activation_code", "expected 20 hex digits in 5 dashed groups, e.g. \"DA8C-0508-1F31-4CF7-C990\"");
        else if (!codes.insert(*c).second)
          fail(path + ".activation_code", "declared twice");
        l.activation_code = *c;
      }
      if (auto v = string_at(j, "license", path)) {
        if (v->empty() || v->size() > 31) fail(path + ".license", "expected 1 to 31 characters, e.g. \"EFTM000000000001\"");
        l.license = *v;
      }
      if (auto it = j.find("tokens"); it != j.end()) {
        if (!it->is_array()) fail(path + ".tokens", "expected an array of \"FTKMOB…\" serials");
        else
          for (std::size_t i = 0; i < it->size(); ++i) {
            const auto& t = (*it)[i];
            if (!t.is_string() || !protocol::is_mobile_token_serial(t.get<std::string>()))
              fail(path + ".tokens[" + std::to_string(i) + "]", "expected \"FTKMOB\" + 10 letters or digits");
            else l.tokens.push_back(t.get<std::string>());
          }
      }
      if (auto n = int_at(j, "token_count", path, 1, 1000)) l.token_count = static_cast<int>(*n);
      l.valid_until = time_at(j, "valid_until", path);
      if (auto it = j.find("bound_to"); it != j.end()) {
        if (!it->is_array() || !std::all_of(it->begin(), it->end(), [](const json& v) { return v.is_string(); }))
          fail(path + ".bound_to", "expected an array of device serials");
        else l.bound_to = it->get<std::vector<std::string>>();
      }
      s.licenses.push_back(std::move(l));
    });
    each(root, "mobile_tokens", [&](const json& j, const std::string& path) {
      if (!is_object(j, path)) return;
      only_keys(j, path, {"token", "license", "activation_code", "secret", "digits", "period", "expire", "issuer", "mobile_id", "comment"});
      mobile_token_spec t;
      if (auto v = string_at(j, "token", path, true)) {
        if (!protocol::is_mobile_token_serial(*v)) fail(path + ".token", "expected \"FTKMOB\" + 10 letters or digits");
        t.token = *v;
      }
      t.license = string_at(j, "license", path).value_or("");
      if (auto v = string_at(j, "activation_code", path)) {
        if (!protocol::parse_user_activation_code(*v))
          fail(path + ".activation_code", "expected 16 base32 characters starting with \"EE\" (bytes 0x21, 0x10|0x00, then 8)");
        t.activation_code = *v;
      }
      t.secret = secret_at(j, "secret", path);
      if (auto v = int_at(j, "digits", path, 6, 8)) t.digits = static_cast<int>(*v);
      if (auto v = int_at(j, "period", path, 1, 3600)) t.period = static_cast<int>(*v);
      t.expire = time_at(j, "expire", path);
      t.issuer = string_at(j, "issuer", path).value_or("");
      if (auto v = string_at(j, "mobile_id", path)) {
        if (v->size() != 16) fail(path + ".mobile_id", "expected 16 characters");
        t.mobile_id = *v;
      }
      s.mobile_tokens.push_back(std::move(t));
    });
    each(root, "hardware_tokens", [&](const json& j, const std::string& path) {
      if (!is_object(j, path)) return;
      only_keys(j, path, {"token", "secret", "lock", "activated_by", "comment"});
      hardware_token_spec h;
      if (auto v = string_at(j, "token", path, true)) {
        if (!protocol::is_hardware_token_serial(*v)) fail(path + ".token", "expected \"FTK200\" or \"FTK220\" + 10 letters or digits");
        h.token = *v;
      }
      h.secret = secret_at(j, "secret", path);
      if (auto v = string_at(j, "lock", path)) {
        if (*v != "available" && *v != "consumed") fail(path + ".lock", "expected \"available\" or \"consumed\"");
        h.lock_consumed = *v == "consumed";
      }
      h.activated_by = string_at(j, "activated_by", path).value_or("");
      s.hardware_tokens.push_back(std::move(h));
    });
    each(root, "rules", [&](const json& j, const std::string& path) { parse_rule(j, path, s); });
    return s;
  }
};

}  // namespace

std::string_view action_name(action_kind k) {
  for (const auto& [kind, name] : action_names)
    if (kind == k) return name;
  return "?";
}

stage stage_of(action_kind k) {
  switch (k) {
    case action_kind::refuse:
    case action_kind::reset:
    case action_kind::hang: return stage::connection;
    case action_kind::tls_alert:
    case action_kind::tls_stall:
    case action_kind::tls_cert:
    case action_kind::tls_version: return stage::tls;
    default: return stage::http;
  }
}

std::optional<std::int64_t> parse_time(const json& j) {
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (!j.is_string()) return std::nullopt;
  const std::string& s = j.get_ref<const std::string&>();
  std::tm tm{};
  std::istringstream in(s);
  if (s.size() == 10) in >> std::get_time(&tm, "%Y-%m-%d");
  else if (s.size() == 20 && s.back() == 'Z') in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  else return std::nullopt;
  if (in.fail()) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string load_result::describe() const {
  std::string out;
  for (const auto& p : problems) out += file + ": " + p.path + ": " + p.reason + "\n";
  return out;
}

load_result parse_scenario(std::string_view text, std::string file_label) {
  load_result result;
  result.file = std::move(file_label);
  json root = json::parse(text, nullptr, false, /*ignore_comments=*/true);
  if (root.is_discarded()) {
    // Parse again with exceptions for the position and reason.
    try {
      json again = json::parse(text, nullptr, true, true);
      (void)again;
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
      result.problems.push_back({"$", std::string("not valid JSON: ") + e.what()});
    }
    return result;
  }
  checker c;
  scenario s = c.parse(root);
  if (!c.problems.empty()) {
    result.problems = std::move(c.problems);
    return result;
  }
  s.file = result.file;
  if (s.name.empty()) {
    auto slash = result.file.find_last_of('/');
    s.name = result.file.substr(slash == std::string::npos ? 0 : slash + 1);
    if (s.name.ends_with(".json")) s.name.resize(s.name.size() - 5);
  }
  result.value = std::move(s);
  return result;
}

load_result load_scenario_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    load_result r;
    r.file = path;
    r.problems.push_back({"$", "cannot read the file (does it exist, and may fortisim read it?)"});
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), path);
}

bool matcher::matches(std::string_view s) const {
  switch (how) {
    case kind::equals: return s == value;
    case kind::prefix: return s.starts_with(value);
    case kind::suffix: return s.ends_with(value);
    case kind::contains: return s.find(value) != std::string_view::npos;
    case kind::regex: return std::regex_search(s.begin(), s.end(), *re);
    case kind::any_of: return std::find(values.begin(), values.end(), s) != values.end();
  }
  return false;
}

bool ordinal_range::contains(std::uint64_t n) const {
  if (n < min || n > max) return false;
  return every == 0 || n % every == 0;
}

}  // namespace fortisim::core
