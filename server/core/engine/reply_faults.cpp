#include "server/core/engine/reply_faults.hpp"

#include <charconv>

namespace fortisim::core {

using protocol::json;

namespace {

/// The value at "d.a.b" or "d.list.0" in the request; "now" is the virtual time.
std::optional<json> lookup(std::string_view path, const json* d, std::int64_t now_s) {
  if (path == "now") return json(now_s);
  if (!path.starts_with("d") || !d) return std::nullopt;
  const json* cur = d;
  path.remove_prefix(1);
  while (!path.empty()) {
    if (path.front() != '.') return std::nullopt;
    path.remove_prefix(1);
    auto dot = path.find('.');
    std::string key(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot);
    if (cur->is_object() && cur->contains(key)) {
      cur = &(*cur)[key];
    } else if (cur->is_array()) {
      std::size_t i = 0;
      auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), i);
      if (ec != std::errc() || p != key.data() + key.size() || i >= cur->size()) return std::nullopt;
      cur = &(*cur)[i];
    } else {
      return std::nullopt;
    }
  }
  return *cur;
}

/// Resolves "{{d.a.b}}" against the request: a string that is only a placeholder takes the value
/// (any JSON type); placeholders inside a longer string are replaced by text.
json render(const json& t, const json* d, std::int64_t now_s) {
  if (t.is_object()) {
    json out = json::object();
    for (auto it = t.begin(); it != t.end(); ++it) out[it.key()] = render(it.value(), d, now_s);
    return out;
  }
  if (t.is_array()) {
    json out = json::array();
    for (const auto& v : t) out.push_back(render(v, d, now_s));
    return out;
  }
  if (!t.is_string()) return t;
  const std::string& s = t.get_ref<const std::string&>();
  if (s.starts_with("{{") && s.ends_with("}}") && s.find("{{", 2) == std::string::npos)
    return lookup(std::string_view(s).substr(2, s.size() - 4), d, now_s).value_or(json(nullptr));
  std::string out;
  std::size_t pos = 0;
  while (true) {
    auto open = s.find("{{", pos);
    auto close = open == std::string::npos ? std::string::npos : s.find("}}", open);
    if (close == std::string::npos) break;
    out.append(s, pos, open - pos);
    if (auto v = lookup(std::string_view(s).substr(open + 2, close - open - 2), d, now_s))
      out += v->is_string() ? v->get<std::string>() : v->dump();
    pos = close + 2;
  }
  out.append(s, pos);
  return out;
}

struct alone {
  http_outcome& out;
  const json* d;
  std::int64_t now_s;
  bool operator()(const faults::status& f) const {
    out.status = f.code;
    out.content_type = f.content_type;
    out.body = f.body;
    return true;
  }
  bool operator()(const faults::reply& f) const {
    out.body = render(f.body, d, now_s).dump();
    return true;
  }
  bool operator()(const faults::close&) const { return true; }
  bool operator()(const faults::reset&) const { return true; }
  bool operator()(const faults::hang&) const { return true; }
  bool operator()(const faults::garbage&) const { return true; }
  template <class F>
  bool operator()(const F&) const {
    return false;
  }
};

}  // namespace

bool answers_alone(const fault& f, http_outcome& out, const json* d, std::int64_t now_s) {
  return std::visit(alone{out, d, now_s}, f);
}

std::optional<protocol::error_value> replacement_error(const fault& f) {
  if (const auto* e = std::get_if<faults::error>(&f)) return e->top;
  return std::nullopt;
}

void bend(const fault& f, protocol::response& r) {
  const auto* e = std::get_if<faults::error>(&f);
  if (!e || e->members.empty()) return;
  std::visit(
      [&](auto& m) {
        if constexpr (requires { m.head.members; })
          for (auto& member : m.head.members)
            for (const auto& me : e->members)
              if (member.sn == me.sn) member.error = me.error;
      },
      r);
}

void bend_body(const fault& f, std::string& body) {
  if (std::holds_alternative<faults::malformed_json>(f)) body.resize(body.size() / 2);
}

}  // namespace fortisim::core
