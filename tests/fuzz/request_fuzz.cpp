// libFuzzer target: any bytes as a request body, on both endpoints, through the whole engine
// (rules, decoding, the model, reply encoding). Must never crash, hang or leak; every reply must
// be well-formed JSON unless a rule said otherwise. A body the engine reads without a JSON tree
// must read exactly as over the tree: the request decoded, and twin engines (one reads plain
// requests directly, the other always over the tree) must answer and journal alike.
#include "protocol/direct_request.hpp"
#include "server/core/engine/engine.hpp"

#include "../support/tree_decode.hpp"

#include <cstdint>
#include <cstdlib>

using namespace fortisim;

namespace {

core::engine make_engine(const std::string& rules, std::size_t journal_size = 64) {
  // A frozen clock: twin engines made a moment apart must see the same time.
  auto r = core::parse_scenario(R"({
      "seed": 5, "clock": {"now": "2026-03-01T09:00:00Z", "rate": 0}, "unknown_codes": {"answer": "accept"}, "unknown_hardware": "accept",
      "hardware_tokens": [{"token": "FTK2000000000001", "lock": "consumed"}],
      "mobile_tokens": [{"token": "FTKMOB0000000001"}], "rules": [)" +
                                    rules + "]}",
                                "fuzz");
  if (!r.value) std::abort();
  return core::engine(std::make_shared<const core::scenario>(std::move(*r.value)),
                      core::engine_options{{}, journal_size});
}

core::engine& the_engine() {
  static core::engine e = make_engine(R"(
      {"when": {"license_activation_code": {"suffix": "-0010"}}, "then": {"action": "error", "code": 10}},
      {"when": {"serial_number": {"regex": "^FG9"}}, "then": {"action": "error", "members": {"FG2": 14}}},
      {"when": {"serial_number": "ECHO"}, "then": {"action": "reply", "body": {"d": {"x": "{{d.tokens}}", "y": "a{{d.__type}}b"}}}})");
  return e;
}

/// Rules that test no field of "d" (so plain requests are read directly), with faults that echo
/// the request; the twin adds a rule that tests a field and never matches (so it reads every
/// request over the tree).
const char* twin_rules = R"(
      {"name": "poll", "when": {"type": "PollingRequest"}, "then": {"action": "reply", "body": {"d": {"x": "{{d.tokens}}", "s": "{{d.serial_number}}"}}}},
      {"name": "some", "probability": 0.2, "then": {"action": "error", "code": 14}},
      {"name": "members", "when": {"request": {"every": 7}}, "then": {"action": "error", "members": {"FG2": 14}}})";

core::engine& direct_engine() {
  static core::engine e = make_engine(twin_rules, 2);
  return e;
}
core::engine& tree_engine() {
  // Last, so that the twins' rules keep their indices (a probability is drawn per rule index).
  static core::engine e =
      make_engine(std::string(twin_rules) +
                      R"(, {"name": "never", "when": {"serial_number": {"regex": "a^"}}, "then": {"action": "close"}})",
                  2);
  return e;
}

/// The newest journal entry without its wall-clock time.
protocol::json last_entry(core::engine& e) {
  auto j = e.journal().select();
  if (j.empty()) std::abort();
  auto last = j.back();
  last.erase("time_ms");
  return last;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto& e = the_engine();
  static protocol::request reused;  // read into over and over, as a worker does: nothing may stay
  for (bool mobile : {false, true}) {
    auto fast = protocol::read_request_direct(body, protocol::default_message_names(), mobile);
    if (fast && fast != test::through_tree(body, mobile)) std::abort();  // the fast path disagrees with the tree
    bool read = protocol::read_request_direct(body, protocol::default_message_names(), mobile, reused);
    if (read != fast.has_value() || (read && reused != *fast)) std::abort();  // reading into an earlier request
  }
  for (auto path : {protocol::process_path, protocol::mobile_path}) {
    core::http_request req{"POST", path, body, "127.0.0.1", "fds1.fortinet.com", 1, {}};
    if (size <= 64 * 1024) {  // the twins check meaning, not size: the megabyte inputs skip them
      auto a = direct_engine().handle(req), b = tree_engine().handle(req);
      if (a.status != b.status || a.body != b.body || a.act.index() != b.act.index()) std::abort();
      if (last_entry(direct_engine()) != last_entry(tree_engine())) std::abort();  // journaled alike
    }
    auto out = e.handle(req);
    if (std::holds_alternative<core::faults::pass>(out.act) && out.status == 200 &&
        out.content_type.starts_with("application/json") &&
        protocol::json::parse(out.body, nullptr, false).is_discarded())
      std::abort();  // a reply we wrote must parse
  }
  return 0;
}
