#include "server/core/engine/rules.hpp"

#include <algorithm>

namespace fortisim::core {

namespace {

/// A scalar field as text; nothing for arrays and objects, which a matcher never tests (and which
/// are never walked: nothing recurses over client data).
std::optional<std::string> field_text(const protocol::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_structured()) return std::nullopt;
  return v.dump();  // a number, true, false or null: one token
}

/// True if any entry of d[list][].key (or a plain string entry) satisfies m.
bool any_in_list(const protocol::json* d, const char* list, const char* key, const matcher& m) {
  if (!d) return false;
  auto it = d->find(list);
  if (it == d->end() || !it->is_array()) return false;
  for (const auto& e : *it) {
    if (e.is_string() && m.matches(e.get_ref<const std::string&>())) return true;
    if (e.is_object())
      if (auto v = e.find(key); v != e.end() && v->is_string() && m.matches(v->get_ref<const std::string&>()))
        return true;
  }
  return false;
}

/// The fields a request read without a tree holds exactly as its tree would: each is required by
/// the one operation that has it (so it is present whenever that request was read), plain ASCII
/// without escapes. In a request of another kind the field is absent, as in its tree.
constexpr std::string_view direct_keys[] = {"license_activation_code", "mobile_id", "token_activation_code"};

std::optional<std::string_view> direct_field(const protocol::request& r, std::string_view key) {
  if (auto* q = std::get_if<protocol::activation_license_request>(&r); q && key == direct_keys[0])
    return q->license_activation_code;
  if (auto* q = std::get_if<protocol::mobile_provision_request>(&r)) {
    if (key == direct_keys[1]) return q->mobile_id;
    if (key == direct_keys[2]) return q->token_activation_code;
  }
  return std::nullopt;
}

/// The HA members (`list` "__clustered_sns") or tokens ("tokens") of a request read without a
/// tree; an absent list and an empty one match alike.
bool any_in_direct(const protocol::request& r, std::string_view list, const matcher& m) {
  auto any = [&](const std::vector<std::string>& v) {
    return std::any_of(v.begin(), v.end(), [&](const std::string& x) { return m.matches(x); });
  };
  return std::visit(
      [&](const auto& q) {
        using T = std::decay_t<decltype(q)>;
        if constexpr (requires { q.env; })
          if (list == "__clustered_sns") return any(q.env.clustered_sns);
        if constexpr (std::is_same_v<T, protocol::provision_request>) {
          if (list == "tokens")
            return std::any_of(q.tokens.begin(), q.tokens.end(), [&](const auto& t) { return m.matches(t.token); });
        } else if constexpr (requires { q.tokens; }) {
          if (list == "tokens") return any(q.tokens);
        }
        return false;
      },
      r);
}

bool any_listed(const exchange_facts& f, const char* list, const char* key, const matcher& m) {
  return f.direct && !f.d ? any_in_direct(*f.direct, list, m) : any_in_list(f.d, list, key, m);
}

}  // namespace

bool matches(const rule_when& w, const exchange_facts& f) {
  if (w.client_address && !w.client_address->matches(f.client_address)) return false;
  if (w.connection && !w.connection->contains(f.connection)) return false;
  if (w.sni && !w.sni->matches(f.sni)) return false;
  if (w.endpoint && !w.endpoint->matches(f.target)) return false;
  if (w.request && !w.request->contains(f.request)) return false;
  if (w.type && !w.type->matches(f.type)) return false;
  if (w.operations && !(f.operation && (w.operations >> static_cast<int>(*f.operation) & 1))) return false;
  if (w.qname && !w.qname->matches(f.qname)) return false;
  if (w.qtype && !w.qtype->matches(f.qtype)) return false;
  if (w.query && !w.query->contains(f.query)) return false;
  if (w.cluster_member && !any_listed(f, "__clustered_sns", "sn", *w.cluster_member)) return false;
  if (w.token && !any_listed(f, "tokens", "token", *w.token)) return false;
  for (const auto& [key, m] : w.fields) {
    if (f.direct && !f.d) {
      auto text = direct_field(*f.direct, key);
      if (!text || !m.matches(*text)) return false;
      continue;
    }
    if (!f.d) return false;
    auto it = f.d->find(key);
    if (it == f.d->end()) return false;
    auto text = field_text(*it);
    if (!text || !m.matches(*text)) return false;
  }
  return true;
}

double seeded_draw(std::uint64_t seed, std::uint64_t stream, std::uint64_t n) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1) + 0xbf58476d1ce4e5b9ULL * (n + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);
}

namespace {

std::vector<std::shared_ptr<rule_state>> fresh_states(std::size_t n) {
  std::vector<std::shared_ptr<rule_state>> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(std::make_shared<rule_state>(i));
  return out;
}

}  // namespace

rule_book::rule_book(std::vector<rule> rules, std::uint64_t seed)
    : rule_book(rules, seed, fresh_states(rules.size())) {}

rule_book::rule_book(std::vector<rule> rules, std::uint64_t seed, std::vector<std::shared_ptr<rule_state>> states)
    : rules_(std::move(rules)), seed_(seed), states_(std::move(states)) {
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const auto& r = rules_[i];
    // A refuse with first_ms, or with no duration and no `when`, holds from the start.
    const auto* a = r.then.empty() ? nullptr : std::get_if<faults::refuse>(&r.then.front().what);
    bool from_start = a && (a->first_ms > 0 || (a->for_ms == 0 && r.when.empty()));
    if (from_start) {
      if (a->first_ms == 0 || refuse_first_ms_ == -1)
        refuse_first_ms_ = -1;
      else
        refuse_first_ms_ = std::max(refuse_first_ms_, a->first_ms);
      continue;
    }
    by_stage_[static_cast<int>(r.stage)].push_back(i);
    if (r.stage == stage::http)
      for (const auto& [key, _] : r.when.fields)
        if (std::find(std::begin(direct_keys), std::end(direct_keys), key) == std::end(direct_keys)) needs_tree_ = true;
  }
}

std::optional<rule_book::hit> rule_book::first_match(stage at, const exchange_facts& f) {
  for (std::size_t i : by_stage_[static_cast<int>(at)]) {
    const rule& r = rules_[i];
    if (!matches(r.when, f)) continue;
    rule_state& st = *states_[i];
    if (r.probability < 1.0) {
      std::uint64_t n = st.evaluated.fetch_add(1, std::memory_order_relaxed);
      if (seeded_draw(seed_, st.stream, n) >= r.probability) continue;
    }
    // Claim one firing; with `times`, never more than that many, even under concurrency.
    std::uint64_t k = st.fired.load(std::memory_order_relaxed);
    do {
      if (r.times && k >= *r.times) break;
    } while (!st.fired.compare_exchange_weak(k, k + 1, std::memory_order_acq_rel));
    if (r.times && k >= *r.times) continue;
    std::size_t pos = r.cycle ? k % r.then.size() : std::min<std::size_t>(k, r.then.size() - 1);
    return hit{&r, &r.then[pos], k + 1};
  }
  return std::nullopt;
}

std::vector<std::uint64_t> rule_book::fired_counts() const {
  std::vector<std::uint64_t> out;
  for (const auto& st : states_) out.push_back(st->fired.load());
  return out;
}

}  // namespace fortisim::core
