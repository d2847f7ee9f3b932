#pragma once
// DNS messages for the DNS responder (dns.hpp), parsed and built with ldns, never by hand: what a
// client's message asks and what it gets. No sockets here, and no ldns in this header: bytes in,
// bytes out, so the responder and the tests compile without either's headers.

#include "protocol/hosts.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace fortisim::net::dns {

/// The time to live of every answer fortisim makes, in seconds.
inline constexpr std::uint32_t answer_ttl = 60;

/// The addresses a known name is answered with, as text; "" when there is none of that family (a
/// query of that type then gets NOERROR without an answer).
struct answer_addresses {
  std::string v4;  ///< the A answer, e.g. "192.0.2.10"
  std::string v6;  ///< the AAAA answer, e.g. "2001:db8::10"
};

/// What the responder does with one message from a client, and what the journal says of it.
struct resolution {
  enum class step {
    reply,    ///< send `wire` back
    forward,  ///< ask the upstream resolver (the name is not ours), then relay its answer
    drop,     ///< send nothing: no reply can be made (shorter than a header, or not a query)
  };
  step next = step::drop;
  std::vector<std::uint8_t> wire;  ///< step::reply: the answer
  std::string name;                ///< the question's name, "fds1.fortinet.com" ("" if none was read)
  std::string type;                ///< the question's type: "A", "AAAA", "MX", "TYPE65280"
  std::string action;              ///< what was answered: "A 192.0.2.10", "NXDOMAIN", "FORMERR: …"
};

/// Decides the answer to one client message. A known name (a Fortinet name, or one of `extra`,
/// the scenario's "dns.names") gets its A or AAAA from `answers` (TTL 60), and NOERROR without an
/// answer for any other type; another name is forwarded when `forwarding`, else NXDOMAIN with the
/// question echoed. A message ldns cannot parse gets FORMERR when its header can be answered, and
/// is dropped otherwise; another opcode gets NOTIMP. Never throws on any bytes (only bad_alloc).
resolution resolve(std::span<const std::uint8_t> message, std::span<const std::string> extra,
                   const answer_addresses& answers, bool forwarding,
                   protocol::host_names which = protocol::host_names::all);

/// The id of a message (its first two bytes); 0 when it is shorter than that.
std::uint16_t message_id(std::span<const std::uint8_t> message);
/// Sets the id of a message of at least two bytes.
void set_message_id(std::span<std::uint8_t> message, std::uint16_t id);

/// The response code of an upstream resolver's answer ("NOERROR", "NXDOMAIN", …) when `answer` is
/// a well-formed response carrying `id`; nothing otherwise (a stray or garbled message).
std::optional<std::string> answer_rcode(std::span<const std::uint8_t> answer, std::uint16_t id);

/// The answers a scenario's DNS fault gives instead of the usual one.
enum class fault_answer { nxdomain, servfail, refused, truncated };
/// A fault's answer to a client's query, the question echoed: NXDOMAIN, SERVFAIL or REFUSED, or an
/// empty NOERROR with the TC bit (a UDP answer too large: ask again over TCP). Empty when none
/// can be made.
std::vector<std::uint8_t> fault_reply(std::span<const std::uint8_t> query, fault_answer kind, bool forwarding);
/// A SERVFAIL answer to a client's query, the question echoed (for an upstream that did not
/// answer); empty when none can be made.
std::vector<std::uint8_t> servfail(std::span<const std::uint8_t> query);

/// Whether `text` is an address ldns can put in an answer of its family ("192.0.2.10" for A,
/// "2001:db8::10" for AAAA).
bool is_answer_address(const std::string& text, bool v6);

}  // namespace fortisim::net::dns
