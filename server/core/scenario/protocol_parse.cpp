// The scenario's protocol table ("protocol": {"types": …, "errors": …}): where a lab that captured
// the real thing corrects fortisim's assumptions without a rebuild; and error references.
#include "server/core/scenario/parse.hpp"

#include <algorithm>

namespace fortisim::core::parse {

namespace {

constexpr std::string_view operation_list =
    "activation_license, polling, mobile_provision, provision or hardware_activation";

void types(checker& c, const json& t, const std::string& path, scenario& s) {
  for (auto it = t.begin(); it != t.end(); ++it) {
    std::string kp = path + protocol::json_path_key(it.key());
    auto op = protocol::operation_from_name(it.key());
    if (!op) {
      c.fail(kp, "unknown operation (expected " + std::string(operation_list) + ")");
      continue;
    }
    if (!c.is_object(it.value(), kp)) continue;
    c.only_keys(it.value(), kp, {"request", "response"});
    auto i = static_cast<std::size_t>(*op);
    if (auto v = c.string_at(it.value(), "request", kp)) s.names.request[i] = *v;
    if (auto v = c.string_at(it.value(), "response", kp)) s.names.response[i] = *v;
  }
}

void errors(checker& c, const json& e, const std::string& path, scenario& s) {
  for (auto it = e.begin(); it != e.end(); ++it) {
    std::string kp = path + protocol::json_path_key(it.key());
    const auto* entry = protocol::find_error(it.key());
    if (!entry) {
      c.fail(kp, "unknown error name (see the catalogue in scenarios/README.md)");
      continue;
    }
    if (!c.is_object(it.value(), kp)) continue;
    c.only_keys(it.value(), kp, {"code", "message"});
    auto v = s.errors[entry->id];
    if (auto code = c.int_at(it.value(), "code", kp, 0, 99999)) v.code = static_cast<int>(*code);
    if (auto m = c.string_at(it.value(), "message", kp)) v.message = *m;
    s.errors.set(entry->id, v);
  }
}

void status_words(checker& c, const json& w, const std::string& path, scenario& s) {
  c.only_keys(w, path, {"new", "provisioning", "provisioned", "provision_timeout", "unknown"});
  auto& words = s.status_words;
  for (auto [key, word] : {std::pair{"new", &words.fresh}, std::pair{"provisioning", &words.provisioning},
                           std::pair{"provisioned", &words.provisioned},
                           std::pair{"provision_timeout", &words.timed_out}, std::pair{"unknown", &words.unknown}})
    if (auto v = c.string_at(w, key, path)) {
      bool printable = !v->empty() && v->size() <= 64 &&
                       std::none_of(v->begin(), v->end(), [](unsigned char b) { return b < 0x20 || b == 0x7F; });
      if (printable)
        *word = *v;
      else
        c.fail(path + "." + key, "expected a word: 1 to 64 bytes, no control characters");
    }
}

}  // namespace

void protocol_table(checker& c, const json& j, const std::string& path, scenario& s) {
  if (!c.is_object(j, path)) return;
  c.only_keys(j, path, {"types", "errors", "status_words"});
  if (auto t = j.find("types"); t != j.end() && c.is_object(*t, path + ".types")) types(c, *t, path + ".types", s);
  if (auto e = j.find("errors"); e != j.end() && c.is_object(*e, path + ".errors")) errors(c, *e, path + ".errors", s);
  if (auto w = j.find("status_words"); w != j.end() && c.is_object(*w, path + ".status_words"))
    status_words(c, *w, path + ".status_words", s);
}

std::optional<protocol::error_value> error_ref(checker& c, const json& j, const std::string& path,
                                               const protocol::error_table& table) {
  if (j.is_number_integer()) {
    auto code = j.is_number_unsigned() && j.get<std::uint64_t>() > 99999 ? -1 : j.get<std::int64_t>();
    auto v = code >= 0 && code <= 99999 ? table.for_code(static_cast<int>(code)) : protocol::error_value{};
    if (v.message.empty()) {
      c.fail(path, "code " + j.dump() + " is not in the catalogue: give {\"code\": N, \"message\": \"...\"}");
      return std::nullopt;
    }
    return v;
  }
  if (j.is_string()) {
    const auto* e = protocol::find_error(j.get<std::string>());
    if (!e) {
      c.fail(path, "unknown error name \"" + j.get<std::string>() + "\" (see the catalogue in scenarios/README.md)");
      return std::nullopt;
    }
    return table[e->id];
  }
  if (j.is_object()) {
    c.only_keys(j, path, {"code", "message"});
    auto code = c.int_at(j, "code", path, 0, 99999, true);
    auto message = c.string_at(j, "message", path);
    if (!code) return std::nullopt;
    return table.for_code(static_cast<int>(*code), message.value_or(""));
  }
  c.fail(path, "expected an error code, an error name, or {\"code\": N, \"message\": \"...\"}");
  return std::nullopt;
}

}  // namespace fortisim::core::parse
