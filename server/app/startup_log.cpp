#include "server/app/startup_log.hpp"

#include <chrono>
#include <cmath>
#include <iostream>

namespace fortisim::app {

using protocol::json;

namespace {

constexpr const char* ocsp_names[] = {"good", "revoked", "unknown", "none"};

std::string ocsp_name(core::ocsp_status s) { return ocsp_names[static_cast<int>(s)]; }

std::string quoted(const std::string& s) { return json(s).dump(); }

void print_scenario(const core::scenario& s) {
  std::cerr << "fortisim: scenario " << quoted(s.name) << " from " << s.file << ", seed " << s.seed << ", "
            << s.licenses.size()
            << " licence(s), unknown codes: " << (s.unknown_codes.accept ? "accepted" : "card not found") << ", "
            << s.hardware_tokens.size() << " hardware token(s), " << s.rules.size() << " rule(s)\n";
  for (const auto& r : s.rules) {
    std::cerr << "fortisim:   rule " << quoted(r.name) << ":";
    for (const auto& a : r.then) std::cerr << " " << core::fault_name(a.what);
    if (r.times) std::cerr << " (" << *r.times << " times)";
    if (r.probability < 1.0) std::cerr << " (probability " << r.probability << ")";
    std::cerr << "\n";
  }
  std::cerr << "fortisim:   tls: OCSP staple " << ocsp_name(s.tls.ocsp);
  for (const auto& [host, status] : s.tls.hosts) std::cerr << ", " << host << " " << ocsp_name(status);
  std::cerr << "\n" << std::flush;
}

json scenario_event(const core::scenario& s) {
  json rules = json::array();
  for (const auto& r : s.rules) {
    json then = json::array();
    for (const auto& a : r.then) then.push_back(core::fault_name(a.what));
    rules.push_back({{"name", r.name},
                     {"then", then},
                     {"times", r.times ? json(*r.times) : json(nullptr)},
                     {"probability", r.probability}});
  }
  json hosts = json::object();
  for (const auto& [host, status] : s.tls.hosts) hosts[host] = ocsp_name(status);
  return {{"name", s.name},
          {"file", s.file},
          {"seed", s.seed},
          {"licences", s.licenses.size()},
          {"unknown_codes", s.unknown_codes.accept ? "accepted" : "card not found"},
          {"hardware_tokens", s.hardware_tokens.size()},
          {"rules", rules},
          {"ocsp", ocsp_name(s.tls.ocsp)},
          {"ocsp_hosts", hosts}};
}

}  // namespace

void log_scenario(const core::scenario& s, core::engine& engine, bool json) {
  auto warnings = engine.world().held_pins();  // a stored state's token holding a code pinned since
  if (json) {
    auto event = scenario_event(s);
    if (!warnings.empty()) event["warnings"] = warnings;
    engine.notice("scenario", event);
  } else {
    print_scenario(s);
    for (const auto& w : warnings) std::cerr << "fortisim: warning: " << w << "\n" << std::flush;
  }
}

json resumed_state(const core::model& world, const std::string& file, bool existed) {
  auto w = world.snapshot();
  std::size_t bindings = 0, provisioned = 0, consumed = 0;
  for (const auto& l : w["licenses"]) bindings += !l["bound_to"].empty();
  for (const auto& t : w["tokens"]) provisioned += t["provisions"].get<std::uint64_t>() > 0;
  for (const auto& h : w["hardware_tokens"]) consumed += h["lock"] == "consumed";
  auto clock_ms = w["clock_ms"].get<std::int64_t>();
  auto real_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return {{"file", file},
          {"resumed", existed},
          {"licences", w["licenses"].size()},
          {"bindings", bindings},
          {"tokens", w["tokens"].size()},
          {"provisioned_tokens", provisioned},
          {"hardware_tokens", w["hardware_tokens"].size()},
          {"consumed_locks", consumed},
          {"clock_ms", clock_ms},
          {"clock_offset_s", std::llround(static_cast<double>(clock_ms - real_ms) / 1000.0)}};
}

int fail(const std::string& line, bool json) {
  // One write of the whole line: the engine's log thread may still be writing beside it.
  std::string out = json ? protocol::json{{"event", "failed"}, {"error", line}}.dump(
                               -1, ' ', false, protocol::json::error_handler_t::replace)
                         : "fortisim: " + line;
  out += '\n';
  std::cerr.write(out.data(), static_cast<std::streamsize>(out.size()));
  std::cerr.flush();
  return 2;
}

}  // namespace fortisim::app
