// libFuzzer target: any bytes as a request body, on both endpoints, through the whole engine
// (rules, decoding, the model, reply encoding). Must never crash, hang or leak; every reply must
// be well-formed JSON unless a rule said otherwise. A body the engine reads without a JSON tree
// must read exactly as over the tree.
#include "protocol/direct_request.hpp"
#include "server/core/engine.hpp"

#include "../support/tree_decode.hpp"

#include <cstdint>
#include <cstdlib>

using namespace fortisim;

namespace {

core::engine& the_engine() {
  static core::engine e = [] {
    auto r = core::parse_scenario(R"({
      "seed": 5, "unknown_codes": {"answer": "accept"}, "unknown_hardware": "accept",
      "hardware_tokens": [{"token": "FTK2000000000001", "lock": "consumed"}],
      "mobile_tokens": [{"token": "FTKMOB0000000001"}],
      "rules": [
        {"when": {"license_activation_code": {"suffix": "-0010"}}, "then": {"action": "error", "code": 10}},
        {"when": {"serial_number": {"regex": "^FG9"}}, "then": {"action": "error", "members": {"FG2": 14}}},
        {"when": {"serial_number": "ECHO"}, "then": {"action": "reply", "body": {"d": {"x": "{{d.tokens}}", "y": "a{{d.__type}}b"}}}}
      ]})",
                                  "fuzz");
    if (!r.value) std::abort();
    return core::engine(std::make_shared<const core::scenario>(std::move(*r.value)), core::engine_options{{}, 64});
  }();
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto& e = the_engine();
  for (bool mobile : {false, true})
    if (auto fast = protocol::read_request_direct(body, protocol::default_message_names(), mobile))
      if (fast != test::through_tree(body, mobile)) std::abort();  // the fast path disagrees with the tree
  for (auto path : {protocol::process_path, protocol::mobile_path}) {
    auto out = e.handle({"POST", path, body, "127.0.0.1", "fds1.fortinet.com", 1, {}});
    if (std::holds_alternative<core::faults::pass>(out.act) && out.status == 200 &&
        out.content_type.starts_with("application/json") &&
        protocol::json::parse(out.body, nullptr, false).is_discarded())
      std::abort();  // a reply we wrote must parse
  }
  return 0;
}
