// The engine's side facing the operator: reloads and resets, rules added at runtime, status and
// metrics, and log events that are not exchanges.
#include "server/core/engine/engine.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace fortisim::core {

using protocol::json;

namespace {

/// The index of the rule named `name` in `rules`, if one has that name.
std::optional<std::size_t> index_of(const std::vector<rule>& rules, std::string_view name) {
  auto it = std::find_if(rules.begin(), rules.end(), [&](const rule& r) { return r.name == name; });
  if (it == rules.end()) return std::nullopt;
  return static_cast<std::size_t>(it - rules.begin());
}

/// A runtime rule's stream of probability draws, from its name (FNV-1a): the same whatever other
/// rules come and go, so its draws replay.
std::uint64_t stream_of(std::string_view name) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

}  // namespace

void engine::notice(std::string_view event, json fields) {
  feed_.publish_notice(event, fields);
  if (!log_) return;
  if (log_format_ == log_format::text) {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    log_->write(text_notice(event, fields, std::chrono::duration_cast<std::chrono::milliseconds>(now).count()));
    return;
  }
  json line{{"event", event}};
  line.update(fields);
  log_->write(line.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::vector<std::string> engine::problem_lines(std::string_view problems) {
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < problems.size();) {
    auto end = std::min(problems.find('\n', at), problems.size());
    if (end > at) lines.emplace_back(problems.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

void engine::record_reload(std::string_view file, std::string_view problems, std::vector<std::string> warnings) {
  auto lines = problem_lines(problems);
  auto now = std::chrono::system_clock::now().time_since_epoch();
  json last{{"time_ms", std::chrono::duration_cast<std::chrono::milliseconds>(now).count()},
            {"ok", lines.empty()},
            {"problems", std::move(lines)},
            {"warnings", std::move(warnings)},
            {"file", file}};
  std::lock_guard lock(reload_mutex_);
  last_reload_ = std::move(last);
}

void engine::reload(std::shared_ptr<const scenario> s, bool from_start) {
  std::lock_guard lock(runtime_mutex_);  // no runtime rule takes a name meanwhile
  auto runtime = runtime_.load();
  for (std::size_t i = 0; runtime && i < s->rules.size(); ++i)
    if (index_of(runtime->book.rules(), s->rules[i].name))
      throw std::invalid_argument("$.rules[" + std::to_string(i) + "].name: \"" + s->rules[i].name +
                                  "\" is the name of a runtime rule: delete it (DELETE /rules/<name>) first");
  model_.adopt(s, from_start);  // throws (and changes nothing) if they clash or cannot be stored
  current_.store_with(std::make_shared<loaded>(s), [this](loaded& next) { count_from_now(next); });
  if (from_start) {           // the rest as a reset starts it, the world being written already (from a trial:
    runtime_.store(nullptr);  // a second write of it could fail and answer 503 for a switch that took)
    start_records_again();
  } else if (runtime) {  // the same rules and counters, drawing from the new seed
    runtime_.store(std::make_shared<runtime_rules>(runtime->book.rules(), s->seed, runtime->book.states()));
  }
}

void engine::reset() {
  model_.reset();
  {
    std::lock_guard lock(runtime_mutex_);
    runtime_.store(nullptr);
  }
  start_records_again();
}

void engine::start_records_again() {
  // Rule counters and ordinals from zero. The request count starts again where the journal does,
  // at one number taken while no entry can be recorded: a request counted before the reset has no
  // entry after it, however long its answer takes, and every request counted after has one.
  auto in_force = current();
  auto next = std::make_shared<loaded>(in_force->scenario);  // its rule book copied before the locks
  journal_.clear([&] {
    current_.store_with(next, [this](loaded& n) { count_from_now(n); });
    return next->requests_before;
  });
  devices_.clear();
}

void engine::clear_journal() {
  journal_.clear([this] { return request_ids_.load(); });
  devices_.clear();
}

std::vector<problem> engine::add_rule(const json& j) {
  auto in_force = current();
  auto parsed = parse_rule(j, *in_force->scenario);
  if (auto* problems = std::get_if<std::vector<problem>>(&parsed)) return *problems;
  auto& r = std::get<rule>(parsed);
  if (!j.is_object() || !j.contains("name")) return {{"$.name", "missing: a rule added at runtime needs a name"}};
  if (auto* f = std::get_if<faults::refuse>(&r.then.front().what); f && (f->first_ms || r.when.empty()))
    return {{"$.then", "a refuse from the start belongs in a scenario; at runtime use POST /listener/refuse"}};
  std::lock_guard lock(runtime_mutex_);
  in_force = current();  // a reload may have come first
  if (auto i = index_of(in_force->scenario->rules, r.name))
    return {{"$.name", "\"" + r.name + "\" is the name of the scenario's rule $.rules[" + std::to_string(*i) +
                           "]: every rule needs a name of its own"}};
  auto old = runtime_.load();
  if (old && old->book.rules().size() >= runtime_rule_limit)
    return {{"$", "there are " + std::to_string(runtime_rule_limit) +
                      " runtime rules, the most there may be: delete one first"}};
  if (old && index_of(old->book.rules(), r.name))
    return {{"$.name", "a runtime rule named \"" + r.name + "\" exists: delete it first"}};
  std::vector<std::shared_ptr<rule_state>> states{std::make_shared<rule_state>(stream_of(r.name))};
  std::vector<rule> list{std::move(r)};  // the newest rule is tried first; the others keep their state
  if (old) {
    list.insert(list.end(), old->book.rules().begin(), old->book.rules().end());
    states.insert(states.end(), old->book.states().begin(), old->book.states().end());
  }
  runtime_.store(std::make_shared<runtime_rules>(std::move(list), in_force->scenario->seed, std::move(states)));
  return {};
}

bool engine::remove_rule(std::string_view name) {
  std::lock_guard lock(runtime_mutex_);
  auto old = runtime_.load();
  auto i = old ? index_of(old->book.rules(), name) : std::nullopt;
  if (!i) return false;
  std::vector<rule> list = old->book.rules();
  auto states = old->book.states();
  list.erase(list.begin() + static_cast<std::ptrdiff_t>(*i));
  states.erase(states.begin() + static_cast<std::ptrdiff_t>(*i));
  runtime_.store(list.empty()
                     ? nullptr
                     : std::make_shared<runtime_rules>(std::move(list), current()->scenario->seed, std::move(states)));
  return true;
}

json engine::rules() const {
  json out = json::array();
  auto add = [&](const rule_book& book, const char* source) {
    auto counts = book.fired_counts();
    for (std::size_t i = 0; i < book.rules().size(); ++i) {
      const auto& r = book.rules()[i];
      out.push_back({{"name", r.name},
                     {"source", source},
                     {"stage", stage_name(r.stage)},
                     {"fired", counts[i]},
                     {"rule", r.source}});
    }
  };
  if (auto runtime = runtime_.load()) add(runtime->book, "runtime");
  add(current()->rules, "scenario");
  return out;
}

json engine::status() const {
  auto in_force = current();
  json rules = json::array();
  for (const auto& r : this->rules())
    rules.push_back({{"name", r["name"]}, {"source", r["source"]}, {"fired", r["fired"]}});
  json log = log_ ? json{{"written", log_->written()}, {"dropped", log_->dropped()}} : json(nullptr);
  json last_reload;
  {
    std::lock_guard lock(reload_mutex_);
    last_reload = last_reload_;
  }
  return {{"scenario", in_force->scenario->name},
          {"file", in_force->scenario->file},
          {"seed", in_force->scenario->seed},
          {"connections", connection_ids_.load() - in_force->connections_before},  // since it loaded
          {"requests", request_ids_.load() - in_force->requests_before},
          {"clock_ms", model_.clock().now_ms()},
          {"log", log},
          {"console", {{"subscribers", feed_.subscribers()}, {"dropped", feed_.dropped()}}},
          {"rules", rules},
          {"last_reload", std::move(last_reload)},
          {"state", model_.state_status()}};
}

std::string engine::metrics_text() const {
  std::string out;
  metrics_.write(out);
  out += "# HELP fortisim_rule_firings_total How often each rule fired.\n# TYPE fortisim_rule_firings_total counter\n";
  for (const auto& r : rules()) {
    std::string name = r["name"];
    std::string escaped;
    for (char c : name)
      escaped += c == '"' || c == '\\' ? std::string("\\") + c : c == '\n' ? "\\n" : std::string(1, c);
    out += "fortisim_rule_firings_total{rule=\"" + escaped + "\",source=\"" + r["source"].get<std::string>() + "\"} " +
           std::to_string(r["fired"].get<std::uint64_t>()) + "\n";
  }
  return out;
}

}  // namespace fortisim::core
