// DNS messages with ldns: every message is parsed by ldns_wire2pkt and every answer built as an
// ldns_pkt and written by ldns_pkt2wire. Every ldns status and every pointer ldns returns is
// checked: a message that ldns refuses becomes FORMERR or nothing, never a crash.
#include "server/net/dns/message.hpp"

#include "protocol/hosts.hpp"

#include <ldns/ldns.h>

#include <cstdlib>
#include <memory>

namespace fortisim::net::dns {

namespace {

struct pkt_free {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct rr_free {
  void operator()(ldns_rr* rr) const { ldns_rr_free(rr); }
};
struct c_free {
  void operator()(void* p) const { std::free(p); }
};
using pkt_ptr = std::unique_ptr<ldns_pkt, pkt_free>;
using rr_ptr = std::unique_ptr<ldns_rr, rr_free>;

/// The EDNS payload size we announce when the query used EDNS (the DNS flag day 2020 value).
constexpr std::uint16_t edns_payload = 1232;

/// ldns's malloc'd text as a string ("" when ldns returned none).
std::string take_text(char* text) {
  std::unique_ptr<char, c_free> owned(text);
  return owned ? std::string(owned.get()) : std::string();
}

std::string status_text(ldns_status s) {
  const char* text = ldns_get_errorstr_by_id(s);
  return text ? text : "ldns status " + std::to_string(static_cast<int>(s));
}

/// "fds1.fortinet.com" for the absolute name "fds1.fortinet.com." (ldns escapes odd bytes).
std::string name_text(const ldns_rdf* name) {
  std::string text = take_text(ldns_rdf2str(name));
  if (text.size() > 1 && text.back() == '.') text.pop_back();
  return text;
}

/// The wire form of `p`; empty when ldns cannot write it.
std::vector<std::uint8_t> to_wire(const ldns_pkt* p) {
  std::uint8_t* data = nullptr;
  std::size_t size = 0;
  ldns_status s = ldns_pkt2wire(&data, p, &size);
  std::unique_ptr<std::uint8_t, c_free> owned(data);
  if (s != LDNS_STATUS_OK || !data) return {};
  return {data, data + size};
}

/// A response with a query's id and RD bit, opcode QUERY (header_error echoes any other); RA when
/// other names are forwarded.
pkt_ptr response(std::uint16_t id, bool rd, ldns_pkt_rcode rcode, bool forwarding) {
  pkt_ptr r(ldns_pkt_new());
  if (!r) return r;
  ldns_pkt_set_id(r.get(), id);
  ldns_pkt_set_qr(r.get(), true);
  ldns_pkt_set_opcode(r.get(), LDNS_PACKET_QUERY);
  ldns_pkt_set_rd(r.get(), rd);
  ldns_pkt_set_ra(r.get(), forwarding);
  ldns_pkt_set_rcode(r.get(), static_cast<std::uint8_t>(rcode));
  return r;
}

/// A response to a parsed query: its question echoed, EDNS when it used EDNS. Null when ldns
/// cannot make it.
pkt_ptr response_to(const ldns_pkt* q, ldns_pkt_rcode rcode, bool forwarding) {
  pkt_ptr r = response(ldns_pkt_id(q), ldns_pkt_rd(q), rcode, forwarding);
  if (!r) return r;
  const ldns_rr_list* questions = ldns_pkt_question(q);
  for (std::size_t i = 0; questions && i < ldns_rr_list_rr_count(questions); ++i) {
    rr_ptr copy(ldns_rr_clone(ldns_rr_list_rr(questions, i)));
    if (!copy || !ldns_pkt_push_rr(r.get(), LDNS_SECTION_QUESTION, copy.get())) return nullptr;
    copy.release();  // the packet owns it now
  }
  if (ldns_pkt_edns(q)) ldns_pkt_set_edns_udp_size(r.get(), edns_payload);
  return r;
}

/// Sends `p` (step::reply), or drops the query when ldns could not make or write it.
resolution& finish(resolution& r, const pkt_ptr& p, std::string action) {
  r.wire = p ? to_wire(p.get()) : std::vector<std::uint8_t>{};
  r.next = r.wire.empty() ? resolution::step::drop : resolution::step::reply;
  r.action = r.wire.empty() ? "dropped: ldns could not build the answer (" + action + ")" : std::move(action);
  return r;
}

/// An error answer from a message's header alone, for a message ldns cannot parse.
resolution& header_error(resolution& r, const std::uint8_t* header, ldns_pkt_rcode rcode, bool forwarding,
                         std::string action) {
  // The opcode is echoed as sent: it may be one ldns_pkt_opcode does not name (loading such a
  // value into the enum is undefined), so it is put into the header's bits once the reply is built.
  unsigned opcode = LDNS_OPCODE_WIRE(header);
  finish(r, response(LDNS_ID_WIRE(header), LDNS_RD_WIRE(header), rcode, forwarding), std::move(action));
  if (r.wire.size() > 2) r.wire[2] = static_cast<std::uint8_t>((r.wire[2] & ~0x78u) | (opcode << 3));
  return r;
}

/// Adds an A or AAAA record for `owner` to the answer section. False when ldns cannot.
bool push_address(ldns_pkt* reply, const ldns_rdf* owner, ldns_rr_type type, const std::string& address) {
  rr_ptr rr(ldns_rr_new());
  ldns_rdf* name = ldns_rdf_clone(owner);
  ldns_rdf* data = ldns_rdf_new_frm_str(type == LDNS_RR_TYPE_A ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA, address.c_str());
  if (!rr || !name || !data) {
    ldns_rdf_deep_free(name);
    ldns_rdf_deep_free(data);
    return false;
  }
  ldns_rr_set_owner(rr.get(), name);
  ldns_rr_set_type(rr.get(), type);
  ldns_rr_set_class(rr.get(), LDNS_RR_CLASS_IN);
  ldns_rr_set_ttl(rr.get(), answer_ttl);
  if (!ldns_rr_push_rdf(rr.get(), data)) {
    ldns_rdf_deep_free(data);
    return false;
  }
  if (!ldns_pkt_push_rr(reply, LDNS_SECTION_ANSWER, rr.get())) return false;
  rr.release();
  return true;
}

/// A name of ours: its addresses of the asked type (both for ANY), or NOERROR without an answer.
resolution& answer_known(resolution& r, const ldns_pkt* q, const ldns_rr* question, const answer_addresses& a,
                         bool forwarding) {
  pkt_ptr reply = response_to(q, LDNS_RCODE_NOERROR, forwarding);
  if (!reply) return finish(r, reply, "NOERROR");
  ldns_pkt_set_aa(reply.get(), true);  // fortisim is the authority for the names it overrides
  ldns_rr_type type = ldns_rr_get_type(question);
  bool in = ldns_rr_get_class(question) == LDNS_RR_CLASS_IN;
  std::string action;
  for (auto [t, address] : {std::pair{LDNS_RR_TYPE_A, &a.v4}, std::pair{LDNS_RR_TYPE_AAAA, &a.v6}}) {
    if (!in || (type != t && type != LDNS_RR_TYPE_ANY) || address->empty()) continue;
    if (!push_address(reply.get(), ldns_rr_owner(question), t, *address)) return finish(r, nullptr, "NOERROR");
    action += (action.empty() ? "" : ", ") + std::string(t == LDNS_RR_TYPE_A ? "A " : "AAAA ") + *address;
  }
  return finish(r, reply, action.empty() ? "NOERROR: no " + r.type + " record" : action);
}

}  // namespace

resolution resolve(std::span<const std::uint8_t> message, std::span<const std::string> extra,
                   const answer_addresses& answers, bool forwarding, protocol::host_names which) {
  resolution r;
  const std::uint8_t* data = message.data();
  if (message.size() < LDNS_HEADER_SIZE) {
    r.action = "dropped: shorter than a DNS header";
    return r;
  }
  if (LDNS_QR_WIRE(data)) {  // answering an answer could start a loop between two servers
    r.action = "dropped: a response, not a query";
    return r;
  }
  ldns_pkt* parsed = nullptr;
  ldns_status status = ldns_wire2pkt(&parsed, data, message.size());
  pkt_ptr q(status == LDNS_STATUS_OK ? parsed : nullptr);  // ldns frees its packet on failure
  if (!q) return header_error(r, data, LDNS_RCODE_FORMERR, forwarding, "FORMERR: " + status_text(status));
  if (unsigned opcode = LDNS_OPCODE_WIRE(data); opcode != LDNS_PACKET_QUERY)  // from the bytes: see header_error
    return header_error(r, data, LDNS_RCODE_NOTIMPL, forwarding, "NOTIMP: opcode " + std::to_string(opcode));
  const ldns_rr_list* questions = ldns_pkt_question(q.get());
  std::size_t count = questions ? ldns_rr_list_rr_count(questions) : 0;
  if (count != 1)
    return finish(r, response_to(q.get(), LDNS_RCODE_FORMERR, forwarding),
                  "FORMERR: " + std::to_string(count) + " questions (expected 1)");
  const ldns_rr* question = ldns_rr_list_rr(questions, 0);
  r.name = name_text(ldns_rr_owner(question));
  r.type = take_text(ldns_rr_type2str(ldns_rr_get_type(question)));
  if (ldns_pkt_edns(q.get()) && ldns_pkt_edns_version(q.get()) > 0) {
    // EDNS versions above 0 are not ours (RFC 6891 §6.1.3): BADVERS, an extended rcode of 16,
    // whose upper 8 bits ride in the OPT record and announce version 0.
    pkt_ptr bad = response_to(q.get(), LDNS_RCODE_NOERROR, forwarding);
    if (bad) {
      ldns_pkt_set_edns_extended_rcode(bad.get(), 1);
      ldns_pkt_set_edns_version(bad.get(), 0);
    }
    return finish(r, bad, "BADVERS: EDNS version " + std::to_string(ldns_pkt_edns_version(q.get())));
  }
  if (protocol::is_known_host_name(r.name, extra, which))
    return answer_known(r, q.get(), question, answers, forwarding);
  if (forwarding) {
    r.next = resolution::step::forward;
    return r;
  }
  return finish(r, response_to(q.get(), LDNS_RCODE_NXDOMAIN, forwarding), "NXDOMAIN");
}

std::uint16_t message_id(std::span<const std::uint8_t> message) {
  return message.size() < 2 ? 0 : LDNS_ID_WIRE(message.data());
}

void set_message_id(std::span<std::uint8_t> message, std::uint16_t id) {
  if (message.size() >= 2) LDNS_ID_SET(message.data(), id);
}

std::optional<std::string> answer_rcode(std::span<const std::uint8_t> answer, std::uint16_t id) {
  if (answer.size() < LDNS_HEADER_SIZE || !LDNS_QR_WIRE(answer.data()) || LDNS_ID_WIRE(answer.data()) != id)
    return std::nullopt;
  ldns_pkt* parsed = nullptr;
  if (ldns_wire2pkt(&parsed, answer.data(), answer.size()) != LDNS_STATUS_OK) return std::nullopt;
  pkt_ptr p(parsed);
  std::string rcode = take_text(ldns_pkt_rcode2str(ldns_pkt_get_rcode(p.get())));
  return rcode.empty() ? "RCODE " + std::to_string(static_cast<int>(ldns_pkt_get_rcode(p.get()))) : rcode;
}

std::vector<std::uint8_t> fault_reply(std::span<const std::uint8_t> query, fault_answer kind, bool forwarding) {
  if (query.size() < LDNS_HEADER_SIZE) return {};
  ldns_pkt_rcode rcode = kind == fault_answer::nxdomain   ? LDNS_RCODE_NXDOMAIN
                         : kind == fault_answer::refused  ? LDNS_RCODE_REFUSED
                         : kind == fault_answer::servfail ? LDNS_RCODE_SERVFAIL
                                                          : LDNS_RCODE_NOERROR;
  ldns_pkt* parsed = nullptr;
  ldns_status status = ldns_wire2pkt(&parsed, query.data(), query.size());
  pkt_ptr q(status == LDNS_STATUS_OK ? parsed : nullptr);
  resolution r;
  if (!q) return std::move(header_error(r, query.data(), rcode, forwarding, "").wire);
  pkt_ptr reply = response_to(q.get(), rcode, forwarding);
  if (reply && kind == fault_answer::truncated) ldns_pkt_set_tc(reply.get(), true);
  return std::move(finish(r, reply, "").wire);
}

std::vector<std::uint8_t> servfail(std::span<const std::uint8_t> query) {
  return fault_reply(query, fault_answer::servfail, true);
}

bool is_answer_address(const std::string& text, bool v6) {
  ldns_rdf* rdf = ldns_rdf_new_frm_str(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, text.c_str());
  bool ok = rdf != nullptr;
  ldns_rdf_deep_free(rdf);
  return ok;
}

}  // namespace fortisim::net::dns
