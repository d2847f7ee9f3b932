// A scenario's DNS faults on the wire: what a DNS-stage rule's action (scenario/faults.hpp) does to
// the answer of one query. The responder (responder.cpp) asks the rules, then applies this.
#include "server/net/dns/responder.hpp"

namespace fortisim::net {

std::int64_t apply_dns_fault(const core::fault& f, std::span<const std::uint8_t> query, dns::resolution& r,
                             bool forwarding, bool over_tcp) {
  namespace faults = core::faults;
  auto answer_with = [&](dns::fault_answer kind, std::string what) {
    r.wire = dns::fault_reply(query, kind, forwarding);
    r.next = r.wire.empty() ? dns::resolution::step::drop : dns::resolution::step::reply;
    r.action = r.wire.empty() ? "dropped: ldns could not build the answer (" + what + ")" : std::move(what);
  };
  if (std::holds_alternative<faults::dns_nxdomain>(f)) {
    answer_with(dns::fault_answer::nxdomain, "NXDOMAIN");
  } else if (std::holds_alternative<faults::dns_servfail>(f)) {
    answer_with(dns::fault_answer::servfail, "SERVFAIL");
  } else if (std::holds_alternative<faults::dns_refused>(f)) {
    answer_with(dns::fault_answer::refused, "REFUSED");
  } else if (std::holds_alternative<faults::dns_truncate>(f)) {
    // Over TCP nothing is too large: the query a truncated answer sent there is answered as usual.
    if (!over_tcp) answer_with(dns::fault_answer::truncated, "truncated (TC): ask again over TCP");
  } else if (std::holds_alternative<faults::dns_drop>(f)) {
    r.next = dns::resolution::step::drop;
    r.wire.clear();
    r.action = "dropped: no answer";
  } else if (auto* a = std::get_if<faults::dns_answer>(&f)) {
    const std::string names[] = {r.name};  // the name answered as one of ours, with the rule's addresses
    r = dns::resolve(query, names, {a->a, a->aaaa}, forwarding);
  } else if (auto* d = std::get_if<faults::dns_delay>(&f)) {
    return d->ms;
  }
  return 0;
}

}  // namespace fortisim::net
