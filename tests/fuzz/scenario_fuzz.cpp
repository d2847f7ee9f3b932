// libFuzzer target: any bytes as a scenario file. Must be refused with problems or accepted,
// never crash; an accepted scenario must build a rule book and a model.
#include "server/core/engine/rules.hpp"
#include "server/core/model/model.hpp"
#include "server/core/scenario/scenario.hpp"

#include <cstdint>
#include <cstdlib>

using namespace fortisim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = core::parse_scenario(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!r.value) {
    if (r.problems.empty()) std::abort();  // refused without a reason
    return 0;
  }
  auto s = std::make_shared<const core::scenario>(std::move(*r.value));
  core::rule_book book(s->rules, s->seed);
  core::model m(s);
  return 0;
}
