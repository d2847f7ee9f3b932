// The control API's calls on the server itself: health and status, the journal, reloads, the
// listener, rules added at runtime, metrics.
#include "server/core/control/call.hpp"

namespace fortisim::core::control {

namespace {

constexpr std::int64_t day_ms = 24LL * 3600 * 1000;

/// GET /journal's filters, read strictly from the query: the journal's declared filters, then
/// `after` and (with_limit) `limit`.
journal_filter filter_of(const call& c, bool with_limit) {
  std::vector<std::string_view> allowed;
  for_each_journal_filter([&](const auto& declared) { allowed.push_back(declared.name); });
  allowed.push_back("after");
  if (with_limit) allowed.push_back("limit");
  c.only_query(allowed);
  journal_filter f;
  for_each_journal_filter([&](const auto& declared) {
    auto& wanted = f.*declared.wanted;
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(wanted)>, std::optional<std::string>>)
      wanted = c.query_text(declared.name);
    else if (auto v = c.query_integer(declared.name, 0, declared.most))
      wanted = static_cast<int>(*v);
  });
  if (f.operation && !protocol::operation_from_name(*f.operation))
    throw bad_call(
        "operation: expected activation_license, polling, mobile_provision, provision or hardware_activation");
  if (f.stage && *f.stage != "connection" && *f.stage != "tls" && *f.stage != "http" && *f.stage != "dns")
    throw bad_call("stage: expected connection, tls, http or dns");
  f.after = static_cast<std::uint64_t>(c.query_integer("after", 0, INT64_MAX).value_or(0));
  if (auto v = c.query_integer("limit", 1, 1'000'000)) f.limit = static_cast<std::size_t>(*v);
  return f;
}

}  // namespace

control_reply health(call& c) {
  c.only_query({});
  return ok({{"status", "ok"}, {"listening", c.l.listening()}});
}

control_reply status(call& c) {
  c.only_query({});
  auto s = c.e.status();
  s["listening"] = c.l.listening();
  s["workers"] = c.l.worker_counts();
  s["in_flight"] = c.l.in_flight();
  return ok(s);
}

control_reply journal(call& c) { return ok(c.e.log().select(filter_of(c, true))); }

control_reply journal_count(call& c) { return ok({{"count", c.e.log().count(filter_of(c, false))}}); }

control_reply journal_clear(call& c) {
  c.only_query({});
  c.e.log().clear();
  return ok(json::object());
}

control_reply reload(call& c) {
  c.only_query({});
  c.only_keys({});
  std::string problems = c.l.reload();
  if (!problems.empty()) throw bad_call(problems, 422);
  return listeners_follow(ok(c.e.status()));
}

control_reply refuse(call& c) {
  c.only_query({});
  c.only_keys({"for_ms"});
  auto ms = c.integer("for_ms", 0, day_ms).value_or(0);
  c.l.refuse(ms);
  c.e.notice("listener", {{"listening", false}, {"for_ms", ms}});
  return listeners_follow(ok({{"listening", false}, {"for_ms", ms}}));
}

control_reply open(call& c) {
  c.only_query({});
  c.only_keys({});
  c.l.open();
  c.e.notice("listener", {{"listening", true}});
  return listeners_follow(ok({{"listening", true}}));
}

control_reply list_rules(call& c) {
  c.only_query({});
  return ok(c.e.rules());
}

control_reply add_rule(call& c) {
  c.only_query({});
  auto problems = c.e.add_rule(c.body);
  if (problems.empty()) return ok({{"added", c.body["name"]}});
  std::string why;
  for (const auto& p : problems) why += (why.empty() ? "" : "\n") + p.path + ": " + p.reason;
  throw bad_call(why, 422);
}

control_reply delete_rule(call& c) {
  c.only_query({});
  if (!c.e.remove_rule(c.wildcard)) throw bad_call("no runtime rule named " + std::string(c.wildcard), 404);
  return ok({{"deleted", c.wildcard}});
}

control_reply metrics(call& c) {
  c.only_query({});
  control_reply r{200, c.e.metrics_text()};
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

}  // namespace fortisim::core::control
