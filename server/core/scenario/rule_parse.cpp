// The parsers of a rule: its `when` (matchers and ordinals, and the stage each test needs), its
// `then` (actions, fault_parse.cpp), and the stage the rule acts at.
#include "server/core/scenario/parse.hpp"

#include "protocol/formats.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <variant>

namespace fortisim::core::parse {
namespace {

std::optional<matcher> matcher_at(checker& c, const json& j, const std::string& path) {
  if (j.is_string()) return matcher::equals(j.get<std::string>());
  if (j.is_number_integer()) return matcher::equals(j.dump());
  if (!j.is_object() || j.size() != 1) {
    c.fail(path, "expected a string, or one of {\"prefix\"|\"suffix\"|\"contains\"|\"regex\"|\"any_of\": ...}");
    return std::nullopt;
  }
  auto only = j.begin();  // iterators, not items(): its proxy must not outlive this statement
  const std::string& key = only.key();
  const json& value = only.value();
  if (key == "any_of") {
    if (!value.is_array() || value.empty() ||
        !std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_string(); })) {
      c.fail(path + ".any_of", "expected a non-empty array of strings");
      return std::nullopt;
    }
    return matcher(value.get<std::vector<std::string>>());
  }
  if (!value.is_string()) {
    c.fail(path + protocol::json_path_key(key), "expected a string");
    return std::nullopt;
  }
  std::string text = value.get<std::string>();
  if (key == "equals") return matcher(matcher::kind::equals, text);
  if (key == "prefix") return matcher(matcher::kind::prefix, text);
  if (key == "suffix") return matcher(matcher::kind::suffix, text);
  if (key == "contains") return matcher(matcher::kind::contains, text);
  if (key == "regex") {
    auto m = matcher::pattern(text);
    if (auto* why = std::get_if<std::string>(&m)) {
      c.fail(path + ".regex", *why);
      return std::nullopt;
    }
    return std::get<matcher>(std::move(m));
  }
  c.fail(path + protocol::json_path_key(key),
         "unknown matcher (expected equals, prefix, suffix, contains, regex or any_of)");
  return std::nullopt;
}

std::optional<ordinal_range> range_at(checker& c, const json& j, const std::string& path) {
  ordinal_range r;
  if (j.is_number_unsigned() && j.get<std::uint64_t>() >= 1) {
    r.min = r.max = j.get<std::uint64_t>();
    return r;
  }
  if (!j.is_object()) {
    c.fail(path, "expected an ordinal >= 1 or {\"min\": N, \"max\": N, \"every\": N}");
    return std::nullopt;
  }
  c.only_keys(j, path, {"min", "max", "every"});
  if (auto v = c.int_at(j, "min", path, 1, INT64_MAX)) r.min = static_cast<std::uint64_t>(*v);
  if (auto v = c.int_at(j, "max", path, 1, INT64_MAX)) r.max = static_cast<std::uint64_t>(*v);
  if (auto v = c.int_at(j, "every", path, 1, INT64_MAX)) r.every = static_cast<std::uint64_t>(*v);
  if (r.min > r.max) c.fail(path, "min is greater than max");
  return r;
}

/// The tests a `when` may hold besides the fields of d.
constexpr std::array<std::string_view, 13> when_keys{
    "connection",     "client_address", "sni",    "request", "endpoint", "type", "operation",
    "cluster_member", "token",          "fields", "qname",   "qtype",    "query"};

/// A name (or part of one) as the responder compares it: lower case, without the trailing dot;
/// or why no query's name can be it.
std::variant<std::string, std::string> qname_text(std::string name, bool whole) {
  std::transform(name.begin(), name.end(), name.begin(), protocol::ascii_lower);
  if (whole && name.size() > 1 && name.back() == '.') name.pop_back();
  if (name.find('*') != std::string::npos)
    return std::variant<std::string, std::string>(
        std::in_place_index<1>, "a name has no wildcards: {\"suffix\": \".fortinet.com\"} matches every name under it");
  auto odd = std::find_if(name.begin(), name.end(),
                          [](unsigned char ch) { return !std::isalnum(ch) && ch != '.' && ch != '-' && ch != '_'; });
  if (odd != name.end() || name.empty() || name.size() > 253)
    return std::variant<std::string, std::string>(std::in_place_index<1>,
                                                  "expected a host name: 1 to 253 letters, digits, '-', '_' and '.'");
  return std::variant<std::string, std::string>(std::in_place_index<0>, name);
}

/// The query types a rule may name, and their numbers (a TYPE<n> of one of them is written by its
/// name in queries, as the journal shows it).
constexpr std::pair<std::string_view, int> query_types[] = {
    {"A", 1},      {"NS", 2},     {"CNAME", 5}, {"SOA", 6},     {"PTR", 12},   {"HINFO", 13},
    {"MX", 15},    {"TXT", 16},   {"AAAA", 28}, {"SRV", 33},    {"NAPTR", 35}, {"DS", 43},
    {"SSHFP", 44}, {"RRSIG", 46}, {"NSEC", 47}, {"DNSKEY", 48}, {"NSEC3", 50}, {"TLSA", 52},
    {"SVCB", 64},  {"HTTPS", 65}, {"SPF", 99},  {"ANY", 255},   {"CAA", 257}};

/// A query type as the responder names it ("AAAA", "TYPE65280"), in upper case; or why no query has it.
std::variant<std::string, std::string> qtype_text(std::string type, bool) {
  std::transform(type.begin(), type.end(), type.begin(), protocol::ascii_upper);
  for (const auto& [name, number] : query_types)
    if (type == name) return std::variant<std::string, std::string>(std::in_place_index<0>, type);
  if (type.size() > 4 && type.size() <= 9 && type.starts_with("TYPE") &&
      std::all_of(type.begin() + 4, type.end(), [](unsigned char ch) { return std::isdigit(ch); })) {
    int n = std::stoi(type.substr(4));
    for (const auto& [name, number] : query_types)
      if (n == number)
        return std::variant<std::string, std::string>(
            std::in_place_index<1>,
            "queries of type " + std::to_string(n) + " say " + std::string(name) + ": write that");
    if (n <= 65535) return std::variant<std::string, std::string>(std::in_place_index<0>, type);
  }
  return std::variant<std::string, std::string>(
      std::in_place_index<1>, "expected a query type: A, AAAA, MX, TXT, … or TYPE<number> for another");
}

/// A `qname` or `qtype` test with its text as the responder compares it (`canon`), checked: an
/// exact string, {"prefix"/"suffix"/"contains": …} or {"any_of": […]}; a qname may also be a
/// {"regex": …} (matched against the lower-case name). Nothing (and a problem) when no query can match.
std::optional<json> dns_test(checker& c, const json& value, const std::string& kp,
                             std::variant<std::string, std::string> (*canon)(std::string, bool)) {
  auto one = [&](const json& v, const std::string& at, bool whole) -> std::optional<json> {
    if (!v.is_string()) {
      c.fail(at, "expected a string");
      return std::nullopt;
    }
    auto made = canon(v.get<std::string>(), whole);
    if (made.index() == 1) {
      c.fail(at, std::get<1>(made));
      return std::nullopt;
    }
    return json(std::get<0>(made));
  };
  if (value.is_string()) return one(value, kp, true);
  if (!value.is_object() || value.size() != 1) {
    c.fail(kp, "expected a string, or one of {\"prefix\"|\"suffix\"|\"contains\"|\"any_of\"|\"regex\": …}");
    return std::nullopt;
  }
  const std::string how = value.begin().key();
  const json& v = value.begin().value();
  if (how == "regex" && canon == qname_text) return value;
  if (how == "any_of" && v.is_array()) {
    json out = json::array();
    for (std::size_t i = 0; i < v.size(); ++i)
      if (auto e = one(v[i], kp + ".any_of[" + std::to_string(i) + "]", true)) out.push_back(*e);
    return out.size() == v.size() ? std::optional<json>(json{{"any_of", out}}) : std::nullopt;
  }
  if (how == "equals" || (canon == qname_text && (how == "prefix" || how == "suffix" || how == "contains"))) {
    auto e = one(v, kp + "." + how, how == "equals");
    return e ? std::optional<json>(json{{how, *e}}) : std::nullopt;
  }
  c.fail(kp, canon == qname_text ? "expected a name, or {\"prefix\"|\"suffix\"|\"contains\"|\"any_of\"|\"regex\": …}"
                                 : "expected a query type, or {\"any_of\": […]}");
  return std::nullopt;
}

/// `operation`: a name, or {"any_of": [names]}; a bit per operation named.
static_assert(protocol::operation_count <= 8, "a bit per operation in rule_when::operations");
std::uint8_t operations_at(checker& c, const json& value, const std::string& kp) {
  static constexpr const char* names =
      "activation_license, polling, mobile_provision, provision or hardware_activation";
  auto bit = [&](const json& v, const std::string& at) -> std::uint8_t {
    auto op = v.is_string() ? protocol::operation_from_name(v.get<std::string>()) : std::nullopt;
    if (!op) c.fail(at, std::string("expected ") + names);
    return op ? static_cast<std::uint8_t>(1u << static_cast<int>(*op)) : 0;
  };
  if (!value.is_object()) return bit(value, kp);
  const json* list = value.size() == 1 && value.contains("any_of") ? &value["any_of"] : nullptr;
  if (!list || !list->is_array() || list->empty()) {
    c.fail(kp, std::string("expected one of ") + names + ", or {\"any_of\": [names]}");
    return 0;
  }
  std::uint8_t bits = 0;
  for (std::size_t i = 0; i < list->size(); ++i) bits |= bit((*list)[i], kp + ".any_of[" + std::to_string(i) + "]");
  return bits;
}

/// One `when` test: fills its slot of `w` and returns the earliest stage that knows it.
stage when_key(checker& c, const std::string& key, const json& value, const std::string& kp, rule_when& w) {
  if (key == "connection") {
    w.connection = range_at(c, value, kp);
    return stage::connection;
  }
  if (key == "client_address") {
    w.client_address = matcher_at(c, value, kp);
    return stage::connection;
  }
  if (key == "sni") {
    w.sni = matcher_at(c, value, kp);
    return stage::tls;
  }
  if (key == "qname") {
    if (auto given = dns_test(c, value, kp, qname_text)) w.qname = matcher_at(c, *given, kp);
    return stage::dns;
  }
  if (key == "qtype") {
    if (auto given = dns_test(c, value, kp, qtype_text)) w.qtype = matcher_at(c, *given, kp);
    return stage::dns;
  }
  if (key == "query") {
    w.query = range_at(c, value, kp);
    return stage::dns;
  }
  if (key == "request") {
    w.request = range_at(c, value, kp);
  } else if (key == "endpoint") {
    if (value == "process")
      w.endpoint = matcher::equals(std::string(protocol::process_path));
    else if (value == "mobile")
      w.endpoint = matcher::equals(std::string(protocol::mobile_path));
    else
      w.endpoint = matcher_at(c, value, kp);
  } else if (key == "type") {
    if (auto m = matcher_at(c, value, kp)) {
      if (m->how() == matcher::kind::equals && m->value().find('.') == std::string::npos)
        m->set_value("SoftToken." + m->value());
      w.type = std::move(m);
    }
  } else if (key == "operation") {
    w.operations = operations_at(c, value, kp);
  } else if (key == "cluster_member") {
    w.cluster_member = matcher_at(c, value, kp);
  } else if (key == "token") {
    w.token = matcher_at(c, value, kp);
  } else if (key == "fields") {
    // Any field of d by its exact name, for fields fortisim does not know.
    if (c.is_object(value, kp))
      for (auto it = value.begin(); it != value.end(); ++it)
        if (auto m = matcher_at(c, it.value(), kp + protocol::json_path_key(it.key())))
          w.fields.emplace_back(it.key(), std::move(*m));
  } else if (std::find(protocol::request_field_names.begin(), protocol::request_field_names.end(), key) !=
             protocol::request_field_names.end()) {
    if (auto m = matcher_at(c, value, kp)) w.fields.emplace_back(key, std::move(*m));
  } else {
    std::vector<std::string_view> known(when_keys.begin(), when_keys.end());
    known.insert(known.end(), protocol::request_field_names.begin(), protocol::request_field_names.end());
    auto near = closest(key, known);
    c.fail(kp, "unknown key" + (near ? "; did you mean \"" + std::string(*near) + "\"?" : std::string()) +
                   " (a field of d fortisim does not know goes in \"fields\": {\"" + key + "\": …})");
  }
  return stage::http;
}

/// The stage a rule acts at is that of its actions: `pass` and `delay` are HTTP-stage; `reset`
/// and `hang` act at whatever stage the `when` needs (on accept, after the ClientHello, or after
/// reading the request). Reports a `then` that mixes stages.
stage stage_of_actions(checker& c, const rule& r, stage needed, const std::string& path) {
  std::set<stage> stages;
  for (const auto& a : r.then) {
    switch (where_it_acts(a.what)) {
      case acts_at::any: stages.insert(needed); break;
      case acts_at::connection: stages.insert(stage::connection); break;
      case acts_at::tls: stages.insert(stage::tls); break;
      case acts_at::dns: stages.insert(stage::dns); break;
      case acts_at::http:
        if (!holds<faults::pass>(a)) stages.insert(stage::http);
        break;
    }
  }
  if (stages.size() > 1)
    c.fail(path + ".then", "mixes actions of different stages (connection, TLS, HTTP, DNS): split it into rules");
  if (stages.empty()) return needed == stage::dns ? stage::dns : stage::http;  // pass alone, as its when says
  return *stages.begin();
}

void then_at(checker& c, const json& j, const std::string& path, rule& r, const protocol::error_table& errors) {
  auto then = j.find("then");
  if (then == j.end()) {
    c.fail(path + ".then", "missing (expected an action or a list of actions)");
    return;
  }
  if (!then->is_array()) {
    if (auto a = action_at(c, *then, path + ".then", errors)) r.then.push_back(std::move(*a));
    return;
  }
  if (then->empty()) c.fail(path + ".then", "expected at least one action");
  for (std::size_t i = 0; i < then->size(); ++i)
    if (auto a = action_at(c, (*then)[i], path + ".then[" + std::to_string(i) + "]", errors))
      r.then.push_back(std::move(*a));
}

/// Each `when` test must be known at the stage the rule acts at: a DNS query knows its client,
/// name, type and ordinal; a connection or a request knows nothing of DNS.
void check_when_stages(checker& c, const rule& r, const std::vector<std::pair<std::string, stage>>& known_at,
                       const std::string& path) {
  bool dns = r.stage == stage::dns;
  for (const auto& [kp, at] : known_at) {
    bool client = kp.ends_with(".client_address");
    if (dns && at != stage::dns && !client)
      c.fail(kp, "is not known to a DNS query (it knows client_address, qname, qtype and query)");
    else if (!dns && at == stage::dns)
      c.fail(kp, "tests a DNS query: the rule's actions must be DNS actions (dns_nxdomain, dns_servfail, …)");
    else if (!dns && at > r.stage)
      c.fail(kp, "is not known yet at the " + std::string(r.stage == stage::connection ? "connection" : "TLS") +
                     " stage of this rule's action");
  }
  if (dns)
    for (std::size_t i = 0; i < r.then.size(); ++i)
      if (where_it_acts(r.then[i].what) != acts_at::dns && !holds<faults::pass>(r.then[i]))
        c.fail(path + ".then", "mixes actions of different stages (connection, TLS, HTTP, DNS): split it into rules");
}

/// A rule's own headers, on the replies of the HTTP stage; bounded so that with the scenario's
/// (8 KiB at most) a reply's head stays far below what clients read (16 KiB).
void headers_at(checker& c, const json& j, const std::string& path, rule& r) {
  constexpr std::size_t max_rule_headers = 16, max_rule_header_bytes = 2048;
  r.headers = header_edits_at(c, j, path, max_rule_headers);
  std::size_t bytes = 0;
  for (const auto& e : r.headers) bytes += e.name.size() + (e.value ? e.value->size() + 4 : 0);
  if (bytes > max_rule_header_bytes)
    c.fail(path, "at most " + std::to_string(max_rule_header_bytes) + " bytes of headers in a rule, not " +
                     std::to_string(bytes));
  if (r.stage != stage::http)
    c.fail(path, "only a rule acting at the HTTP stage has a reply to put headers on");
  else if (std::none_of(r.then.begin(), r.then.end(), [](const action& a) { return sends_reply(a.what); }))
    c.fail(path, "none of this rule's actions sends a reply to put headers on");
}

/// The name of a rule without one, from its place: "rule [3]" for $.rules[3].
std::string generated_name(const std::string& path) {
  auto at = path.find('[');
  return "rule " + (at == std::string::npos ? path : path.substr(at));
}

}  // namespace

void rule_at(checker& c, const json& j, const std::string& path, scenario& s) {
  if (!c.is_object(j, path)) return;
  c.only_keys(j, path, {"name", "when", "then", "times", "probability", "cycle", "headers", "comment"});
  rule r;
  r.source = j;
  r.name = c.string_at(j, "name", path).value_or(generated_name(path));
  if (r.name.empty()) c.fail(path + ".name", "is empty (leave it out and the rule is named after its place)");
  if (r.name.size() > 128) c.fail(path + ".name", "is " + std::to_string(r.name.size()) + " bytes; at most 128");
  if (auto v = c.int_at(j, "times", path, 1, INT64_MAX)) r.times = static_cast<std::uint64_t>(*v);
  if (auto v = c.bool_at(j, "cycle", path)) r.cycle = *v;
  if (auto v = c.number_at(j, "probability", path, 0.0, 1.0)) r.probability = *v;
  then_at(c, j, path, r, s.errors);
  // What the `when` needs to know decides the earliest stage it can be tested at.
  stage needed = stage::connection;
  std::vector<std::pair<std::string, stage>> known_at;
  if (auto w = j.find("when"); w != j.end() && c.is_object(*w, path + ".when")) {
    for (auto it = w->begin(); it != w->end(); ++it) {
      std::string kp = path + ".when" + protocol::json_path_key(it.key());
      stage at = when_key(c, it.key(), it.value(), kp, r.when);
      known_at.emplace_back(kp, at);
      needed = std::max(needed, at);
    }
  }
  r.stage = stage_of_actions(c, r, needed, path);
  check_when_stages(c, r, known_at, path);
  if (auto h = j.find("headers"); h != j.end()) headers_at(c, *h, path + ".headers", r);
  for (const auto& a : r.then)
    if (auto* f = std::get_if<faults::refuse>(&a.what); f && f->first_ms && j.contains("when"))
      c.fail(path + ".when", "a refuse with first_ms applies from the start and takes no \"when\"");
  s.rules.push_back(std::move(r));
}

void rules_at(checker& c, const json& root, scenario& s) {
  std::map<std::string, std::string> first;  // each name, and the JSON path of the rule that has it
  c.each(root, "rules", "$", [&](const json& j, const std::string& path) {
    auto before = s.rules.size();
    rule_at(c, j, path, s);
    if (s.rules.size() == before) return;
    auto [it, fresh] = first.emplace(s.rules.back().name, path);
    if (fresh) return;
    bool given = j.contains("name");
    c.fail(given ? path + ".name" : path, std::string(given ? "" : "its generated name ") + "\"" + it->first +
                                              "\" is the name of " + it->second +
                                              " too: every rule needs a name of its own");
  });
}

}  // namespace fortisim::core::parse

namespace fortisim::core {

std::variant<rule, std::vector<problem>> parse_rule(const protocol::json& j, const scenario& s) {
  parse::checker c;
  scenario holder;
  holder.errors = s.errors;
  holder.names = s.names;
  parse::rule_at(c, j, "$", holder);
  if (!c.problems.empty()) return std::move(c.problems);
  return std::move(holder.rules.front());
}

}  // namespace fortisim::core
