#include "client/distrust.hpp"

#include "protocol/bounded_json.hpp"
#include "protocol/formats.hpp"

#include <algorithm>
#include <map>

namespace fortisim::client {

namespace {

using protocol::json;

enum class kind { string, integer, array_of_objects, object };
struct expected {
  kind is;
};

/// The type of every field the client reads from a reply (protocol/replies.cpp).
const std::map<std::string, expected, std::less<>>& field_types() {
  static const std::map<std::string, expected, std::less<>> types{
      {"__type", {kind::string}},
      {"__version", {kind::string}},
      {"__device_version", {kind::string}},
      {"__device_build", {kind::string}},
      {"__serial_number", {kind::string}},
      {"__clustered_sns", {kind::array_of_objects}},
      {"sn", {kind::string}},
      {"license_activation_code", {kind::string}},
      {"license", {kind::string}},
      {"token", {kind::string}},
      {"seed", {kind::string}},
      {"status", {kind::string}},
      {"os_ver", {kind::string}},
      {"reg_id", {kind::string}},
      {"token_activation_code", {kind::string}},
      {"qr_code", {kind::string}},
      {"mobile_id_hash", {kind::string}},
      {"image_file", {kind::string}},
      {"pin_required", {kind::string}},
      {"pin_require_type", {kind::string}},
      {"encryption_key", {kind::string}},
      {"issuer", {kind::string}},
      {"error_message", {kind::string}},
      {"result", {kind::integer}},
      {"activation_expire", {kind::integer}},
      {"code_expire", {kind::integer}},
      {"pin_length", {kind::integer}},
      {"counter", {kind::integer}},
      {"error_code", {kind::integer}},
      {"tokens", {kind::array_of_objects}},
      {"error", {kind::object}},
  };
  return types;
}

const char* name_of(kind k) {
  switch (k) {
    case kind::string: return "a string";
    case kind::integer: return "an integer";
    case kind::array_of_objects: return "an array of objects";
    case kind::object: return "an object";
  }
  return "?";
}

bool fits(const json& v, expected e) {
  if (v.is_null()) return true;  // as good as absent: the reply's readers take it so
  switch (e.is) {
    case kind::string: return v.is_string();
    case kind::integer: return v.is_number_integer();
    case kind::object: return v.is_object();
    case kind::array_of_objects:
      return v.is_array() && std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_object(); });
  }
  return false;
}

/// The type `key` must have: an HA member's `error` is its message (a string), every other
/// `error` an object.
std::optional<expected> type_of(std::string_view key, bool in_member) {
  if (in_member && key == "error") return expected{kind::string};
  auto t = field_types().find(key);
  if (t == field_types().end()) return std::nullopt;
  return t->second;
}

std::optional<std::string> check(const json& j, const std::string& path, bool in_member = false) {
  if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i)
      if (auto why = check(j[i], path + "[" + std::to_string(i) + "]", in_member)) return why;
    return std::nullopt;
  }
  if (!j.is_object()) return std::nullopt;
  for (const auto& [key, value] : j.items()) {
    auto where = path + "." + key;
    if (auto t = type_of(key, in_member); t && !fits(value, *t))
      return where + ": expected " + name_of(t->is) + " or null, got " +
             value.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 60);
    if (auto why = check(value, where, key == "__clustered_sns")) return why;
  }
  return std::nullopt;
}

bool asked_about(const std::vector<std::string>& asked, const std::string& token) {
  return std::find(asked.begin(), asked.end(), token) != asked.end();
}

std::optional<std::string> stranger(const std::vector<std::string>& asked, const std::string& token) {
  if (asked_about(asked, token)) return std::nullopt;
  return "the reply names token \"" + token.substr(0, 40) + "\", which the request did not ask about";
}

}  // namespace

std::optional<std::string> wrong_shape(const json& d) { return check(d, "d"); }

std::optional<std::string> unbelievable(const protocol::response& r, const std::vector<std::string>& asked) {
  // Each token it names was asked about, once; and unless the whole request was refused (a
  // top-level error), each token asked about is answered.
  auto tokens_of = [&](const auto& reply) -> std::optional<std::string> {
    std::vector<std::string> named;
    for (const auto& t : reply.tokens) {
      if (auto why = stranger(asked, t.token)) return why;
      if (asked_about(named, t.token)) return "the reply names token " + t.token + " twice";
      named.push_back(t.token);
    }
    if (!reply.error)
      for (const auto& t : asked)
        if (!asked_about(named, t)) return "the reply leaves out token " + t + ", which the request asked about";
    return std::nullopt;
  };
  if (auto* p = std::get_if<protocol::polling_response>(&r)) return tokens_of(*p);
  if (auto* p = std::get_if<protocol::provision_response>(&r)) return tokens_of(*p);
  if (auto* h = std::get_if<protocol::hardware_activation_response>(&r)) {
    if (auto why = tokens_of(*h)) return why;
    for (const auto& t : h->tokens)
      if (auto bytes = protocol::hex_decode(t.seed); !t.error && (t.seed.size() != 40 || !bytes))
        return "the seed of " + t.token + " is not 40 hex digits: \"" + t.seed.substr(0, 60) + "\"";
  }
  return std::nullopt;
}

believed believe(protocol::operation op, std::string_view body, const std::vector<std::string>& asked) {
  auto parsed = protocol::parse_bounded(body);  // as deep as the server reads, no deeper
  auto* j = std::get_if<json>(&parsed);
  if (!j || !j->is_object() || !j->contains("d")) {
    std::string why = "the reply is not the protocol's JSON ({\"d\": {…}})";
    if (auto* refusal = std::get_if<protocol::json_refusal>(&parsed)) why += ": " + refusal->reason;
    return {std::nullopt, why};
  }
  if (auto why = wrong_shape((*j)["d"])) return {std::nullopt, *why};
  try {
    auto r = protocol::decode_response(op, (*j)["d"]);
    if (auto* e = std::get_if<protocol::field_error>(&r)) return {std::nullopt, e->path + ": " + e->reason};
    if (auto why = unbelievable(std::get<protocol::response>(r), asked)) return {std::nullopt, *why};
    return {std::get<protocol::response>(std::move(r)), ""};
  } catch (const json::exception& e) {  // a field of an unexpected type that wrong_shape let by
    return {std::nullopt, e.what()};
  }
}

}  // namespace fortisim::client
