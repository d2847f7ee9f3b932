// The control API's calls on the server itself: health and status, the journal, reloads, the
// listener, rules added at runtime, metrics.
#include "server/core/control/call.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace fortisim::core::control {

namespace {

constexpr std::int64_t day_ms = 24LL * 3600 * 1000;

/// GET /journal's filters, read strictly from the query: the journal's declared filters, then
/// `after` and (with_limit) `limit`.
journal_filter filter_of(const call& request, bool with_limit) {
  std::vector<std::string_view> allowed;
  for_each_journal_filter([&](const auto& declared) { allowed.push_back(declared.name); });
  allowed.insert(allowed.end(), {"after", "at_least", "wait_ms"});
  if (with_limit) allowed.push_back("limit");
  request.only_query(allowed);
  journal_filter f;
  for_each_journal_filter([&](const auto& declared) {
    auto& wanted = f.*declared.wanted;
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(wanted)>, std::optional<std::string>>) {
      wanted = request.query_text(declared.name);
      // A word of a space-separated list: a value with a space in it could never match.
      if (wanted && declared.match == filter_match::word &&
          (wanted->empty() || wanted->find_first_of(" \t\r\n") != std::string::npos))
        throw bad_call(std::string(declared.name) + ": one " + std::string(declared.name) +
                       ", without spaces (an entry lists its " + std::string(declared.name) + "s space-separated)");
    } else if (auto v = request.query_integer(declared.name, 0, declared.most))
      wanted = static_cast<int>(*v);
  });
  if (f.operation && !protocol::operation_from_name(*f.operation))
    throw bad_call(
        "operation: expected activation_license, polling, mobile_provision, provision or hardware_activation");
  if (f.stage && *f.stage != "connection" && *f.stage != "tls" && *f.stage != "http" && *f.stage != "dns")
    throw bad_call("stage: expected connection, tls, http or dns");
  static constexpr std::string_view outcomes[] = {"sent",    "client_gone", "not_sent",
                                                  "timeout", "handshake",   "client_refused"};
  if (f.outcome && std::find(std::begin(outcomes), std::end(outcomes), *f.outcome) == std::end(outcomes))
    throw bad_call("outcome: expected sent, client_gone, not_sent, timeout, handshake or client_refused");
  f.after = static_cast<std::uint64_t>(request.query_integer("after", 0, INT64_MAX).value_or(0));
  if (auto v = request.query_integer("limit", 1, 1'000'000)) f.limit = static_cast<std::size_t>(*v);
  return f;
}

/// A journal call's wait: `at_least` entries (default `fallback`) within `wait_ms` (0: none).
struct journal_wait {
  std::size_t at_least;
  std::int64_t wait_ms;
};

/// The longest a call may wait (wait_ms).
constexpr std::int64_t most_wait_ms = 10 * 60 * 1000;

journal_wait wait_of(const call& request, std::size_t fallback) {
  auto wait_ms = request.query_integer("wait_ms", 0, most_wait_ms).value_or(0);
  auto at_least = request.query_integer("at_least", 0, 1'000'000);
  if (at_least && !request.query.contains("wait_ms")) throw bad_call("at_least: needs wait_ms (how long to wait)");
  return {static_cast<std::size_t>(at_least.value_or(static_cast<std::int64_t>(fallback))), wait_ms};
}

/// The reply, or "not yet" while fewer than `w.at_least` entries are found and the call may wait.
control_reply answer_or_wait(const call& request, const journal_wait& w, std::size_t found, const json& reply) {
  if (found >= w.at_least || w.wait_ms == 0 || !request.may_wait) return ok(reply);
  control_reply not_yet;
  not_yet.wait_ms = w.wait_ms;
  return not_yet;
}

}  // namespace

control_reply health(call& request) {
  request.only_query({});
  return ok({{"status", "ok"}, {"listening", request.server.listening()}});
}

control_reply status(call& request) {
  request.only_query({"in_flight", "open", "listening", "wait_ms"});
  // ?in_flight=N, ?open=N, ?listening=true|false with wait_ms=MS: answered once each given holds
  // (or when the time is up), so a test waits for the server's state without polling.
  auto wait_ms = request.query_integer("wait_ms", 0, most_wait_ms);  // checked whether or not it must wait
  auto in_flight_wanted = request.query_integer("in_flight", 0, 1'000'000);
  auto open_wanted = request.query_integer("open", 0, 1'000'000);
  std::optional<bool> listening_wanted;
  if (auto it = request.query.find("listening"); it != request.query.end()) {
    if (it->second != "true" && it->second != "false") throw bad_call("listening: expected true or false");
    listening_wanted = it->second == "true";
  }
  bool waits_for = in_flight_wanted || open_wanted || listening_wanted;
  if (waits_for && !wait_ms) throw bad_call("in_flight, open and listening: need wait_ms (how long to wait)");
  if (!waits_for && wait_ms) throw bad_call("wait_ms: needs in_flight, open or listening (what to wait for)");
  auto in_flight = request.server.in_flight();
  auto open = request.engine.counters().open_connections();
  bool listening = request.server.listening();
  bool reached = (!in_flight_wanted || in_flight == *in_flight_wanted) && (!open_wanted || open == *open_wanted) &&
                 (!listening_wanted || (listening == *listening_wanted && request.server.listener_settled()));
  if (!reached && request.may_wait) {
    control_reply not_yet;
    not_yet.wait_ms = *wait_ms;
    if (not_yet.wait_ms > 0) return not_yet;
  }
  auto s = request.engine.status();
  s["listening"] = listening;
  s["workers"] = request.server.worker_counts();
  s["in_flight"] = in_flight;
  s["open"] = open;
  s["addresses"] = request.server.addresses();
  auto ca = request.server.ca_sha256();
  s["ca"] = {{"sha256", ca.empty() ? json(nullptr) : json(ca)}};  // null: a certificate given with --cert
  return ok(s);
}

control_reply journal(call& request) {
  auto f = filter_of(request, true);
  auto w = wait_of(request, 1);  // with wait_ms alone: the first entry that matches
  if (f.limit && w.at_least > *f.limit) throw bad_call("at_least: more than limit, so it could never be reached");
  auto found = request.engine.journal().select(f, request.engine.shows_secrets());
  return answer_or_wait(request, w, found.size(), found);
}

control_reply journal_count(call& request) {
  auto f = filter_of(request, false);
  auto w = wait_of(request, 0);
  auto n = request.engine.journal().count(f);
  return answer_or_wait(request, w, n, {{"count", n}});
}

control_reply journal_clear(call& request) {
  request.only_query({});
  request.engine.clear_journal();
  request.announce("clear journal");
  return ok(json::object());
}

/// A scenario a reload or a switch refused: 422, a problem a line, and what stays (from a new
/// user's trial: the text ended in a line break, and said nothing of the scenario in force).
[[noreturn]] void refused_scenario(std::string problems) {
  while (!problems.empty() && problems.back() == '\n') problems.pop_back();
  throw bad_call(problems + "\nrefused: the last good scenario stays live", 422);
}

control_reply reload(call& request) {
  request.only_query({});
  request.only_keys({});
  request.announce("reload");  // what came of it is the "reload" event every reload logs
  std::string problems = request.server.reload();
  if (!problems.empty()) refused_scenario(problems);
  return listeners_follow(status(request));  // answered as GET /status
}

namespace {

/// The shipped scenarios' files, in name order (the schema is not one).
std::vector<std::filesystem::path> shipped_files(const std::string& folder) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  if (folder.empty()) return out;
  for (const auto& e : std::filesystem::directory_iterator(folder, ec))
    if (e.path().extension() == ".json" && e.path().filename() != "schema.json" && e.is_regular_file(ec))
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

/// The file a POST /scenario names: a shipped scenario's name ("expired-license", as GET
/// /scenarios lists it), or a path (relative ones from fortisim's working directory).
std::string scenario_file(const call& request, const std::string& given) {
  if (given.empty() || given.size() > 4096 || given.find('\0') != std::string::npos)
    throw bad_call("scenario: expected a shipped scenario's name (GET /scenarios) or a file's path");
  bool name = !given.empty() &&
              std::all_of(given.begin(), given.end(),
                          [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; }) &&
              !given.ends_with(".json") && given.find("..") == std::string::npos;
  if (!name) return given;
  auto folder = request.server.shipped_scenarios();
  if (folder.empty()) throw bad_call("no shipped scenarios were found beside the binary: give the file's path", 404);
  auto path = (std::filesystem::path(folder) / (given + ".json")).string();
  std::error_code ec;
  if (given == "schema" || !std::filesystem::is_regular_file(path, ec))
    throw bad_call("no shipped scenario \"" + given + "\" (GET /scenarios lists them)", 404);
  return path;
}

}  // namespace

control_reply devices(call& request) {
  request.only_query({});
  return ok(request.engine.devices().snapshot());
}

control_reply scenarios(call& request) {
  request.only_query({});
  auto folder = request.server.shipped_scenarios();
  json shipped = json::array();
  for (const auto& file : shipped_files(folder)) {
    auto loaded = load_scenario_file(file.string());
    json entry{{"name", file.stem().string()}, {"file", file.string()}};
    if (loaded.value)
      entry["description"] = loaded.value->description;
    else
      entry["problems"] = loaded.describe();
    shipped.push_back(std::move(entry));
  }
  auto current = request.engine.current_scenario();
  return ok({{"current", {{"name", current->name}, {"file", current->file}}},
             {"folder", folder},
             {"shipped", std::move(shipped)}});
}

control_reply switch_scenario(call& request) {
  request.only_query({});
  request.only_keys({"scenario", "reset"});
  auto given = request.text("scenario");
  if (!given) throw bad_call("scenario: expected a shipped scenario's name (GET /scenarios) or a file's path");
  bool reset = false;
  if (auto it = request.body.find("reset"); it != request.body.end()) {
    if (!it->is_boolean()) throw bad_call("reset: expected true (back to the new scenario's start) or false");
    reset = it->get<bool>();
  }
  auto path = scenario_file(request, *given);
  request.announce("switch scenario", {{"file", path}, {"reset", reset}});
  // With reset, the switch is the reset too, in one change: a write that fails leaves both undone.
  if (auto problems = request.server.switch_scenario(path, reset); !problems.empty()) refused_scenario(problems);
  return listeners_follow(status(request));  // answered as GET /status
}

control_reply refuse(call& request) {
  request.only_query({});
  request.only_keys({"for_ms"});
  auto ms = request.integer("for_ms", 0, day_ms).value_or(0);
  request.server.refuse(ms);
  request.announce("refuse", {{"for_ms", ms}});
  return listeners_follow(ok({{"listening", false}, {"for_ms", ms}}));
}

control_reply open(call& request) {
  request.only_query({});
  request.only_keys({});
  request.server.open();
  request.announce("open");
  return listeners_follow(ok({{"listening", request.server.listening()}}));  // false once a drain closed it
}

control_reply list_rules(call& request) {
  request.only_query({});
  return ok(request.engine.rules());
}

control_reply add_rule(call& request) {
  request.only_query({});
  auto problems = request.engine.add_rule(request.body);
  if (problems.empty()) {
    request.announce("add rule", {{"name", request.body["name"]}});
    return ok({{"added", request.body["name"]}});
  }
  std::string why;
  for (const auto& p : problems) why += (why.empty() ? "" : "\n") + p.path + ": " + p.reason;
  throw bad_call(why, 422);
}

control_reply delete_rule(call& request) {
  request.only_query({});
  if (!request.engine.remove_rule(request.wildcard))
    throw bad_call("no runtime rule named " + std::string(request.wildcard), 404);
  request.announce("delete rule", {{"name", request.wildcard}});
  return ok({{"deleted", request.wildcard}});
}

control_reply metrics(call& request) {
  request.only_query({});
  control_reply r{200, request.engine.metrics_text()};
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

}  // namespace fortisim::core::control
