// The engine's answers before a request: what happens to a connection and to a ClientHello (the
// rules of those stages), and the entries the network layer reports (a stage's outcome, a client
// certificate, a DNS query). engine.cpp answers requests.
#include "server/core/engine/engine.hpp"

namespace fortisim::core {

namespace {

/// The fields every connection- or TLS-stage entry has: where, which connection, who, the SNI
/// and the seed in force.
void connection_fields(journal_entry& e, stage at, std::uint64_t connection, std::string_view client_address,
                       std::string_view sni, std::uint64_t seed) {
  e.stage.assign(stage_name(at));
  e.connection = connection;
  e.client_address.assign(client_address);
  e.sni.assign(sni);
  e.seed = seed;
}

}  // namespace

bool engine::has_tls_rules() const {
  auto runtime = runtime_.read();
  return current_.read()->rules.has(stage::tls) || (runtime && runtime->book.has(stage::tls));
}

std::optional<rule_book::hit> engine::first_match(loaded& in_force, stage at, const exchange_facts& facts,
                                                  runtime_rules* runtime) {
  if (runtime)
    if (auto hit = runtime->book.first_match(at, facts)) return hit;
  return in_force.rules.first_match(at, facts);
}

stage_verdict engine::decide(loaded& in_force, stage at, const exchange_facts& facts, std::uint64_t id) {
  stage_verdict v;
  v.connection = id;
  auto runtime = runtime_.read();  // alive while the hit, which may point into it, is used
  auto hit = first_match(in_force, at, facts, runtime.get());
  if (!hit) return v;
  v.act = *hit->action;
  v.rule = hit->rule->name;
  v.seed = in_force.scenario->seed;
  v.journal_epoch = journal_.epoch();
  return v;
}

void engine::settle(stage at, const stage_verdict& v, std::string_view client_address, std::string_view sni,
                    delivery how, std::string_view words) {
  if (at == stage::tls && (how == delivery::client_refused || how == delivery::timeout)) metrics_.tls_failure(words);
  journal_.record(
      [&](journal_entry& e) {
        connection_fields(e, at, v.connection, client_address, sni, v.seed);
        e.rule.assign(v.rule);
        e.action.assign(fault_name(v.act.what));
        e.reason.assign(words);
        e.outcome.assign(delivery_name(how));
      },
      v.journal_epoch);
}

stage_verdict engine::on_connection(std::string_view client_address) {
  // As handle(): the connection's number and the rule book that counts it, as one step.
  auto [in_force, id] = current_.read_with([this] { return connection_ids_.fetch_add(1) + 1; }, counts_connection);
  exchange_facts f;
  f.client_address = client_address;
  f.connection = in_force->connection_ordinal(id);
  metrics_.connection_opened();
  auto runtime = runtime_.read();
  if (!in_force->rules.has(stage::connection) && !(runtime && runtime->book.has(stage::connection)))
    return stage_verdict{{}, id, {}};
  return decide(*in_force, stage::connection, f, id);
}

void engine::turn_away(std::string_view client_address, std::string_view why) {
  auto id = connection_ids_.fetch_add(1) + 1;
  metrics_.connection_turned_away();
  note(stage::connection, id, client_address, why, delivery::not_sent);
}

stage_verdict engine::on_client_hello(std::string_view client_address, std::uint64_t connection, std::string_view sni) {
  exchange_facts f;
  f.client_address = client_address;
  auto in_force = current_.read();
  f.connection = in_force->connection_ordinal(connection);
  f.sni = sni;
  return decide(*in_force, stage::tls, f, connection);
}

void engine::note(stage at, std::uint64_t connection, std::string_view client_address, std::string_view what,
                  delivery how, std::string_view sni) {
  auto seed = current_.read()->scenario->seed;
  if (at == stage::tls) metrics_.tls_failure(what);
  journal_.record([&](journal_entry& e) {
    connection_fields(e, at, connection, client_address, sni, seed);
    e.action.assign(what);
    e.outcome.assign(delivery_name(how));
  });
}

void engine::note_client_cert(std::uint64_t connection, std::string_view client_address, std::string_view sni,
                              std::string_view client_cert) {
  auto seed = current_.read()->scenario->seed;
  journal_.record([&](journal_entry& e) {
    connection_fields(e, stage::tls, connection, client_address, sni, seed);
    e.action.assign(client_cert.empty() ? "no client certificate" : "client certificate");
    e.outcome.assign(delivery_name(delivery::handshake));
    e.client_cert.assign(client_cert);
  });
}

void engine::note_dns(std::string_view client_address, std::string_view name, std::string_view type,
                      std::string_view answer, std::string_view rule) {
  auto seed = current_.read()->scenario->seed;
  journal_.record([&](journal_entry& e) {
    e.stage.assign("dns");
    e.client_address.assign(client_address);
    e.target.assign(name);
    e.type.assign(type);
    e.rule.assign(rule);
    e.action.assign(answer);
    e.seed = seed;
  });
}

stage_verdict engine::on_dns_query(std::string_view client_address, std::string_view qname, std::string_view qtype) {
  auto in_force = current_.read();
  exchange_facts f;
  f.client_address = client_address;
  f.qname = qname;
  f.qtype = qtype;
  f.query = in_force->dns_queries.fetch_add(1, std::memory_order_relaxed) + 1;
  auto runtime = runtime_.read();
  if (!in_force->rules.has(stage::dns) && !(runtime && runtime->book.has(stage::dns))) return {};
  return decide(*in_force, stage::dns, f, 0);  // a DNS query has no connection
}

}  // namespace fortisim::core
