#include "server/core/engine/reply_faults.hpp"

#include <charconv>
#include <stdexcept>
#include <string>

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

/// What the request's values may add to a rendered reply at most: a template of many placeholders
/// and a request of one large field would otherwise render gigabytes.
constexpr std::size_t render_limit = 1 << 20;

/// The bytes still allowed for request values in one rendering; throws when they run out.
struct render_budget {
  std::size_t left = render_limit;
  void take(std::size_t n) {
    if (n > left)
      throw std::length_error("the reply rule's template renders more than 1 MiB of request values (" +
                              std::to_string(render_limit) + " bytes at most)");
    left -= n;
  }
};

/// Resolves "{{d.a.b}}" against the request: a string that is only a placeholder takes the value
/// (any JSON type); placeholders inside a longer string are replaced by text.
json render(const json& t, const json* d, std::int64_t now_s, render_budget& budget) {
  if (t.is_object()) {
    json out = json::object();
    for (auto it = t.begin(); it != t.end(); ++it) out[it.key()] = render(it.value(), d, now_s, budget);
    return out;
  }
  if (t.is_array()) {
    json out = json::array();
    for (const auto& v : t) out.push_back(render(v, d, now_s, budget));
    return out;
  }
  if (!t.is_string()) return t;
  const std::string& s = t.get_ref<const std::string&>();
  if (s.starts_with("{{") && s.ends_with("}}") && s.find("{{", 2) == std::string::npos) {
    auto v = lookup(std::string_view(s).substr(2, s.size() - 4), d, now_s).value_or(json(nullptr));
    budget.take(v.is_string() ? v.get_ref<const std::string&>().size() : v.dump().size());
    return v;
  }
  std::string out;
  std::size_t pos = 0;
  while (true) {
    auto open = s.find("{{", pos);
    auto close = open == std::string::npos ? std::string::npos : s.find("}}", open);
    if (close == std::string::npos) break;
    out.append(s, pos, open - pos);
    if (auto v = lookup(std::string_view(s).substr(open + 2, close - open - 2), d, now_s)) {
      std::string text = v->is_string() ? v->get<std::string>() : v->dump();
      budget.take(text.size());
      out += text;
    }
    pos = close + 2;
  }
  out.append(s, pos);
  return out;
}

/// The engine's part of a fault whose shapes_reply is true: a specialisation of `shaper`, built
/// on `shaping`, whose defaults leave a phase alone. The visits below reach a shaper only for such
/// a fault, so one without its shaper does not compile; a shaper built on `shaping` for any other
/// fault fails its assertion.
template <class F>
struct shaping {
  static_assert(F::shapes_reply, "only a fault that declares shapes_reply has a shaper");
  static bool answer_alone(const F&, http_outcome&, const json*, std::int64_t) { return false; }
  static std::optional<protocol::error_value> replacement(const F&) { return std::nullopt; }
  static void bend(const F&, protocol::response&) {}
  static void bend_body(const F&, std::string&) {}
};
template <class F>
struct shaper;

template <>
struct shaper<faults::status> : shaping<faults::status> {
  static bool answer_alone(const faults::status& f, http_outcome& out, const json*, std::int64_t) {
    out.status = f.code;
    out.content_type = f.content_type;
    out.body = f.body;
    return true;
  }
};

template <>
struct shaper<faults::reply> : shaping<faults::reply> {
  static bool answer_alone(const faults::reply& f, http_outcome& out, const json* d, std::int64_t now_s) {
    render_budget budget;
    out.body = render(f.body, d, now_s, budget).dump();
    return true;
  }
};

template <>
struct shaper<faults::error> : shaping<faults::error> {
  static std::optional<protocol::error_value> replacement(const faults::error& f) { return f.top; }
  static void bend(const faults::error& f, protocol::response& r) {
    if (f.members.empty()) return;
    std::visit(
        [&](auto& m) {
          if constexpr (requires { m.head.members; })
            for (auto& member : m.head.members)
              for (const auto& me : f.members)
                if (member.sn == me.sn) member.error = me.error;
        },
        r);
  }
};

template <>
struct shaper<faults::malformed_json> : shaping<faults::malformed_json> {
  static void bend_body(const faults::malformed_json&, std::string& body) { body.resize(body.size() / 2); }
};

/// Visits `f`: `shaped(shaper<F>{}, fault)` for a fault that shapes the reply, else `other(fault)`.
template <class Shaped, class Other>
auto visit_shaping(const fault& f, Shaped&& shaped, Other&& other) {
  return std::visit(
      [&](const auto& x) {
        using F = std::decay_t<decltype(x)>;
        if constexpr (F::shapes_reply)
          return shaped(shaper<F>{}, x);
        else
          return other(x);
      },
      f);
}

}  // namespace

bool answers_alone(const fault& f, http_outcome& out, const json* d, std::int64_t now_s) {
  return visit_shaping(
      f, [&](auto s, const auto& x) { return s.answer_alone(x, out, d, now_s); },
      // A fault after which no reply is sent stands alone: there is nothing to ask the model for.
      [](const auto& x) { return !std::decay_t<decltype(x)>::sends_reply; });
}

std::optional<protocol::error_value> replacement_error(const fault& f) {
  return visit_shaping(
      f, [](auto s, const auto& x) { return s.replacement(x); },
      [](const auto&) { return std::optional<protocol::error_value>(); });
}

void bend(const fault& f, protocol::response& r) {
  visit_shaping(
      f, [&](auto s, const auto& x) { s.bend(x, r); }, [](const auto&) {});
}

void bend_body(const fault& f, std::string& body) {
  visit_shaping(
      f, [&](auto s, const auto& x) { s.bend_body(x, body); }, [](const auto&) {});
}

}  // namespace fortisim::core
