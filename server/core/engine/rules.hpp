#pragma once
// The rule book of one loaded scenario: which rule matches an exchange, and which of its actions
// plays now. Counters are atomic, so "fail the first two, then succeed" holds exactly under
// concurrency; probabilities are drawn from the scenario seed, the rule's own stream and the count
// of its evaluations, so a replay with the same seed and the same sequence of requests gives the
// same outcomes whatever the threads do. The counters belong to the rule, not to the book: a new
// book over the same rules (the runtime rules after one is added or deleted) carries them over.

#include "server/core/scenario/scenario.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace fortisim::core {

/// What is known of an exchange when a rule is tested. Later stages know more.
struct exchange_facts {
  std::string_view client_address;
  std::uint64_t connection = 0;  ///< 1-based ordinal since the scenario loaded
  std::string_view sni;
  std::string_view target;            ///< the HTTP path
  std::uint64_t request = 0;          ///< 1-based ordinal since the scenario loaded
  const protocol::json* d = nullptr;  ///< the request's "d" object, if the body had one
  /// The request read without a tree (then `d` is null): rules test the fields it holds exactly
  /// (rule_book::needs_tree says when it is enough).
  const protocol::request* direct = nullptr;
  std::string_view type;  ///< d.__type
  std::optional<protocol::operation> operation;
  std::string_view qname;   ///< DNS: the question's name, lower case, no trailing dot
  std::string_view qtype;   ///< DNS: the question's type, "A", "AAAA", "TYPE65280"
  std::uint64_t query = 0;  ///< DNS: 1-based ordinal since the scenario loaded
};

bool matches(const rule_when& w, const exchange_facts& f);

/// What a rule has done: how often it was tested for its probability and how often it fired, and
/// the stream its probability draws come from. Shared by every book that holds the rule.
struct rule_state {
  explicit rule_state(std::uint64_t s) : stream(s) {}
  const std::uint64_t stream;
  std::atomic<std::uint64_t> evaluated{0};
  std::atomic<std::uint64_t> fired{0};
};

class rule_book {
 public:
  /// A book whose rules start from nothing, each drawing from the stream of its index (a
  /// scenario's rules: their place in the file).
  rule_book(std::vector<rule> rules, std::uint64_t seed);
  /// A book over rules that keep `states` (one per rule, in the same order).
  rule_book(std::vector<rule> rules, std::uint64_t seed, std::vector<std::shared_ptr<rule_state>> states);

  /// The rule that fires and the action it plays, with the 1-based count of its firings.
  struct hit {
    const core::rule* rule;      ///< the rule that fired
    const core::action* action;  ///< the action it plays this time
    std::uint64_t nth;
  };
  std::optional<hit> first_match(stage at, const exchange_facts& f);
  bool has(stage at) const { return !by_stage_[static_cast<int>(at)].empty(); }
  /// How long the scenario refuses connections from its start: 0 none, -1 until told otherwise
  /// (the control API's /listener/open, or a reload), else milliseconds.
  std::int64_t refuse_first_ms() const { return refuse_first_ms_; }
  /// True if an HTTP rule tests a field of "d" that a request read without a tree cannot answer
  /// exactly as the tree would (any but the HA members, the tokens, and the fields each operation
  /// requires: the licence code, the phone's mobile_id and activation code). Only then do rules need
  /// the request's JSON tree; the engine otherwise reads plain requests without building one.
  bool needs_tree() const { return needs_tree_; }
  const std::vector<rule>& rules() const { return rules_; }
  /// Each rule's state, in the order of rules().
  const std::vector<std::shared_ptr<rule_state>>& states() const { return states_; }
  /// How often each rule fired, in the order of rules().
  std::vector<std::uint64_t> fired_counts() const;

 private:
  std::vector<rule> rules_;
  std::uint64_t seed_;
  std::vector<std::size_t> by_stage_[stage_count];
  std::vector<std::shared_ptr<rule_state>> states_;
  std::int64_t refuse_first_ms_ = 0;
  bool needs_tree_ = false;
};

/// A uniform draw in [0, 1) from (seed, stream, n): splitmix64, stateless and replayable.
double seeded_draw(std::uint64_t seed, std::uint64_t stream, std::uint64_t n);

}  // namespace fortisim::core
