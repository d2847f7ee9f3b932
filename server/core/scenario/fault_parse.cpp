// The parsers of rule actions: one function per fault, each naming the keys it takes. An HTTP-stage
// fault also takes "delay_ms" (wait that long first).
#include "server/core/scenario/parse.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <type_traits>

namespace fortisim::core {

std::string_view fault_name(const fault& f) {
  return std::visit([](const auto& x) { return std::decay_t<decltype(x)>::name; }, f);
}

acts_at where_it_acts(const fault& f) {
  return std::visit([](const auto& x) { return std::decay_t<decltype(x)>::at; }, f);
}

std::string_view stage_name(stage s) {
  switch (s) {
    case stage::connection: return "connection";
    case stage::tls: return "tls";
    case stage::http: return "http";
    case stage::dns: return "dns";
  }
  return "?";
}

}  // namespace fortisim::core

namespace fortisim::core::parse {
namespace {

/// One action object being read.
struct input {
  checker& c;
  const json& j;
  const std::string& path;
  const protocol::error_table& errors;
  action& a;

  /// Accepts "action", the fault's own keys, and for HTTP-stage faults "delay_ms".
  template <class F>
  void keys(std::initializer_list<std::string_view> own) {
    std::vector<std::string_view> allowed{"action"};
    if constexpr (F::at == acts_at::http) {
      allowed.push_back("delay_ms");
      if (auto v = c.int_at(j, "delay_ms", path, 0, faults::day_ms)) a.delay_ms = *v;
    }
    allowed.insert(allowed.end(), own);
    c.only_keys(j, path, allowed);
  }
  std::optional<std::int64_t> ms(const char* key, bool required = false) {
    return c.int_at(j, key, path, 1, faults::day_ms, required);
  }
};

template <class F>
using as = std::type_identity<F>;

faults::pass read(as<faults::pass>, input& in) {
  in.keys<faults::pass>({});
  return {};
}

faults::delay read(as<faults::delay>, input& in) {
  in.keys<faults::delay>({"ms"});
  if (auto v = in.c.int_at(in.j, "ms", in.path, 0, faults::day_ms, true)) in.a.delay_ms += *v;
  return {};
}

faults::refuse read(as<faults::refuse>, input& in) {
  in.keys<faults::refuse>({"for_ms", "first_ms"});
  faults::refuse f;
  f.for_ms = in.ms("for_ms").value_or(0);
  f.first_ms = in.ms("first_ms").value_or(0);
  if (f.for_ms && f.first_ms) in.c.fail(in.path, "give for_ms or first_ms, not both");
  return f;
}

faults::reset read(as<faults::reset>, input& in) {
  in.keys<faults::reset>({});
  return {};
}

faults::hang read(as<faults::hang>, input& in) {
  in.keys<faults::hang>({"for_ms"});
  return {in.ms("for_ms").value_or(0)};
}

faults::tls_alert read(as<faults::tls_alert>, input& in) {
  in.keys<faults::tls_alert>({"alert"});
  faults::tls_alert f;
  if (auto v = in.c.string_at(in.j, "alert", in.path)) {
    auto it = std::find_if(tls_alerts.begin(), tls_alerts.end(), [&](const auto& a) { return a.name == *v; });
    if (it == tls_alerts.end())
      in.c.fail(in.path + ".alert", "unknown TLS alert \"" + *v + "\"");
    else
      f.alert = *it;
  }
  return f;
}

faults::tls_stall read(as<faults::tls_stall>, input& in) {
  in.keys<faults::tls_stall>({"for_ms"});
  return {in.ms("for_ms").value_or(0)};
}

faults::tls_cert read(as<faults::tls_cert>, input& in) {
  in.keys<faults::tls_cert>({"cert"});
  faults::tls_cert f;
  if (auto v = in.c.string_at(in.j, "cert", in.path, true)) {
    const auto& kinds = faults::tls_cert::kinds;
    if (std::find(kinds.begin(), kinds.end(), *v) == kinds.end())
      in.c.fail(in.path + ".cert", "expected \"wrong_name\", \"expired\" or \"unknown_ca\"");
    f.cert = *v;
  }
  return f;
}

faults::tls_version read(as<faults::tls_version>, input& in) {
  in.keys<faults::tls_version>({"versions"});
  faults::tls_version f;
  auto it = in.j.find("versions");
  if (it == in.j.end() || !it->is_array() || it->empty()) {
    in.c.fail(in.path + ".versions", "expected a non-empty array such as [\"1.2\"]");
    return f;
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    if (!v.is_string() || (v != "1.0" && v != "1.1" && v != "1.2" && v != "1.3"))
      in.c.fail(in.path + ".versions[" + std::to_string(i) + "]", "expected \"1.0\", \"1.1\", \"1.2\" or \"1.3\"");
    else
      f.versions.push_back(v.get<std::string>());
  }
  return f;
}

faults::status read(as<faults::status>, input& in) {
  in.keys<faults::status>({"status", "body", "content_type"});
  faults::status f;
  if (auto v = in.c.int_at(in.j, "status", in.path, 200, 599, true)) f.code = static_cast<int>(*v);
  if (auto v = in.c.string_at(in.j, "body", in.path)) f.body = *v;
  if (auto v = in.c.string_at(in.j, "content_type", in.path)) {
    if (v->empty() || !field_value(*v))
      in.c.fail(in.path + ".content_type",
                "expected a media type such as \"text/html\" (at most 1024 visible bytes, "
                "no line break)");
    else
      f.content_type = *v;
  }
  return f;
}

faults::close read(as<faults::close>, input& in) {
  in.keys<faults::close>({});
  return {};
}

faults::truncate read(as<faults::truncate>, input& in) {
  in.keys<faults::truncate>({"bytes"});
  faults::truncate f;
  if (auto v = in.c.int_at(in.j, "bytes", in.path, 0, 1 << 20)) f.bytes = static_cast<std::uint64_t>(*v);
  return f;
}

faults::garbage read(as<faults::garbage>, input& in) {
  in.keys<faults::garbage>({"bytes"});
  faults::garbage f;
  if (auto v = in.c.int_at(in.j, "bytes", in.path, 1, 1 << 20)) f.bytes = static_cast<std::uint64_t>(*v);
  return f;
}

faults::dribble read(as<faults::dribble>, input& in) {
  in.keys<faults::dribble>({"bytes_per_second"});
  faults::dribble f;
  if (auto v = in.c.int_at(in.j, "bytes_per_second", in.path, 1, 1 << 30, true))
    f.bytes_per_second = static_cast<std::uint64_t>(*v);
  return f;
}

faults::lie_length read(as<faults::lie_length>, input& in) {
  in.keys<faults::lie_length>({"content_length"});
  faults::lie_length f;
  if (auto v = in.c.int_at(in.j, "content_length", in.path, 0, 1 << 30, true))
    f.content_length = static_cast<std::uint64_t>(*v);
  return f;
}

faults::malformed_json read(as<faults::malformed_json>, input& in) {
  in.keys<faults::malformed_json>({});
  return {};
}

faults::error read(as<faults::error>, input& in) {
  in.keys<faults::error>({"code", "message", "members"});
  faults::error f;
  if (auto it = in.j.find("code"); it != in.j.end()) {
    json ref = *it;
    if (auto m = in.j.find("message"); m != in.j.end()) {
      if (!it->is_number_integer())
        in.c.fail(in.path + ".message", "a custom message goes with a numeric code");
      else
        ref = json{{"code", *it}, {"message", *m}};
    }
    f.top = error_ref(in.c, ref, in.path + ".code", in.errors);
  }
  if (auto it = in.j.find("members"); it != in.j.end()) {
    if (!it->is_object()) {
      in.c.fail(in.path + ".members", "expected an object {\"<serial>\": \"<what the reply says of it>\"}");
    } else {
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (m.value().is_string() && !protocol::find_error(m.value().get<std::string>())) {
          f.members.push_back({m.key(), m.value().get<std::string>()});  // the text itself
        } else if (auto e =
                       error_ref(in.c, m.value(), in.path + ".members" + protocol::json_path_key(m.key()), in.errors)) {
          f.members.push_back({m.key(), e->message});
        }
      }
    }
  }
  if (!in.j.contains("code") && !in.j.contains("members"))
    in.c.fail(in.path, "an error action needs \"code\" or \"members\"");
  return f;
}

faults::reply read(as<faults::reply>, input& in) {
  in.keys<faults::reply>({"body"});
  faults::reply f;
  auto it = in.j.find("body");
  if (it == in.j.end() || !it->is_object())
    in.c.fail(in.path + ".body", "expected the reply as a JSON object");
  else
    f.body = *it;
  return f;
}

template <class F>
requires std::is_base_of_v<faults::dns_fault, F> F read(as<F>, input& in) {
  in.keys<F>({});
  return {};
}

faults::dns_delay read(as<faults::dns_delay>, input& in) {
  in.keys<faults::dns_delay>({"ms"});
  faults::dns_delay f;
  f.ms = in.c.int_at(in.j, "ms", in.path, 1, 60'000, true).value_or(0);
  return f;
}

faults::dns_answer read(as<faults::dns_answer>, input& in) {
  in.keys<faults::dns_answer>({"a", "aaaa"});
  faults::dns_answer f;
  auto address = [&](const char* key, int family, std::string& out) {
    auto v = in.c.string_at(in.j, key, in.path);
    if (!v) return;
    unsigned char bytes[16];
    if (::inet_pton(family, v->c_str(), bytes) != 1)
      in.c.fail(in.path + "." + key, family == AF_INET ? "expected an IPv4 address such as \"192.0.2.99\""
                                                       : "expected an IPv6 address such as \"2001:db8::99\"");
    else
      out = *v;
  };
  address("a", AF_INET, f.a);
  address("aaaa", AF_INET6, f.aaaa);
  if (!in.j.contains("a") && !in.j.contains("aaaa")) in.c.fail(in.path, "a dns_answer needs \"a\" or \"aaaa\"");
  return f;
}

/// Reads the fault named `name`: the variant's alternatives are tried in turn.
template <std::size_t I = 0>
std::optional<fault> read_named(std::string_view name, input& in) {
  if constexpr (I == std::variant_size_v<fault>) {
    return std::nullopt;
  } else {
    using F = std::variant_alternative_t<I, fault>;
    if (F::name == name) return fault(read(as<F>{}, in));
    return read_named<I + 1>(name, in);
  }
}

template <std::size_t... I>
std::vector<std::string_view> all_names(std::index_sequence<I...>) {
  return {std::variant_alternative_t<I, fault>::name...};
}

}  // namespace

std::optional<action> action_at(checker& c, const json& j, const std::string& path,
                                const protocol::error_table& errors) {
  if (!c.is_object(j, path)) return std::nullopt;
  auto name = c.string_at(j, "action", path, true);
  if (!name) return std::nullopt;
  action a;
  input in{c, j, path, errors, a};
  auto f = read_named(*name, in);
  if (!f) {
    auto near = closest(*name, all_names(std::make_index_sequence<std::variant_size_v<fault>>{}));
    c.fail(path + ".action", "unknown action \"" + *name + "\"" +
                                 (near ? "; did you mean \"" + std::string(*near) + "\"?" : std::string()));
    return std::nullopt;
  }
  a.what = std::move(*f);
  return a;
}

}  // namespace fortisim::core::parse
