// libFuzzer target: any bytes as a server's reply to `fortisim client`, read as the reply to each
// operation. Must be believed or refused with a reason, never crash; a believed reply's errors
// must be readable.
#include "client/distrust.hpp"
#include "client/operations.hpp"

#include <cstdint>
#include <cstdlib>

using namespace fortisim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  static const std::vector<std::string> asked{"FTKMOB0000000001", "FTK2000000000001"};
  for (std::size_t op = 0; op < protocol::operation_count; ++op) {
    auto taken = client::believe(static_cast<protocol::operation>(op), body, asked);
    if (taken.reply.has_value() == !taken.why.empty()) std::abort();  // exactly one: a reply or a reason
    if (taken.reply) (void)client::forticare_errors(*taken.reply);
  }
  return 0;
}
