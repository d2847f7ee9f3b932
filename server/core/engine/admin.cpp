// The engine's side facing the operator: reloads and resets, rules added at runtime, status and
// metrics, and log events that are not exchanges.
#include "server/core/engine/engine.hpp"

#include <algorithm>
#include <chrono>

namespace fortisim::core {

using protocol::json;

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

void engine::reload(std::shared_ptr<const scenario> next) {
  model_.adopt(next);  // throws (and changes nothing) if the new definitions cannot be stored
  current_.store(std::make_shared<loaded>(std::move(next)), std::memory_order_release);
}

void engine::reset() {
  model_.reset();
  auto in_force = current();
  current_.store(std::make_shared<loaded>(in_force->scenario), std::memory_order_release);  // rule counters from zero
  {
    std::lock_guard lock(runtime_mutex_);
    runtime_.store(nullptr, std::memory_order_release);
  }
  journal_.clear();
  notice("reset", {{"scenario", in_force->scenario->name}});
}

std::vector<problem> engine::add_rule(const json& rule_json) {
  auto parsed = parse_rule(rule_json, *current()->scenario);
  if (auto* problems = std::get_if<std::vector<problem>>(&parsed)) return *problems;
  auto& r = std::get<rule>(parsed);
  if (!rule_json.is_object() || !rule_json.contains("name"))
    return {{"$.name", "missing: a rule added at runtime needs a name"}};
  std::lock_guard lock(runtime_mutex_);
  auto old = runtime_.load(std::memory_order_acquire);
  std::vector<rule> list = old ? old->list : std::vector<rule>{};
  if (std::any_of(list.begin(), list.end(), [&](const rule& x) { return x.name == r.name; }))
    return {{"$.name", "a runtime rule named \"" + r.name + "\" exists: delete it first"}};
  if (auto* f = std::get_if<faults::refuse>(&r.then.front().what); f && (f->first_ms || r.when.empty()))
    return {{"$.then", "a refuse from the start belongs in a scenario; at runtime use POST /listener/refuse"}};
  list.insert(list.begin(), std::move(r));  // the newest rule is tried first
  runtime_.store(std::make_shared<runtime_rules>(std::move(list), current()->scenario->seed),
                 std::memory_order_release);
  notice("rule added", {{"name", rule_json["name"]}});
  return {};
}

bool engine::remove_rule(std::string_view name) {
  std::lock_guard lock(runtime_mutex_);
  auto old = runtime_.load(std::memory_order_acquire);
  if (!old) return false;
  std::vector<rule> list = old->list;
  auto it = std::find_if(list.begin(), list.end(), [&](const rule& r) { return r.name == name; });
  if (it == list.end()) return false;
  list.erase(it);
  runtime_.store(list.empty() ? nullptr : std::make_shared<runtime_rules>(std::move(list), current()->scenario->seed),
                 std::memory_order_release);
  notice("rule deleted", {{"name", name}});
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
  if (auto runtime = runtime_.load(std::memory_order_acquire)) add(runtime->book, "runtime");
  add(current()->rules, "scenario");
  return out;
}

json engine::status() const {
  auto in_force = current();
  json rules = json::array();
  for (const auto& r : this->rules())
    rules.push_back({{"name", r["name"]}, {"source", r["source"]}, {"fired", r["fired"]}});
  json log = log_ ? json{{"written", log_->written()}, {"dropped", log_->dropped()}} : json(nullptr);
  return {{"scenario", in_force->scenario->name},
          {"file", in_force->scenario->file},
          {"seed", in_force->scenario->seed},
          {"connections", in_force->connections.load()},
          {"requests", in_force->requests.load()},
          {"clock_ms", model_.clock().now_ms()},
          {"log", log},
          {"console", {{"subscribers", feed_.subscribers()}, {"dropped", feed_.dropped()}}},
          {"rules", rules}};
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
