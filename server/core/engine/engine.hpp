#pragma once
// The engine: one value that answers every question the network layer asks — what to do with a
// new connection, with a ClientHello, with an HTTP request — from the loaded scenario's rules and
// the FortiCare model, journaling each answer. No Asio here: the network layer executes.

#include "server/core/engine/rules.hpp"
#include "server/core/engine/snapshot.hpp"
#include "server/core/model/model.hpp"
#include "server/core/observe/devices.hpp"
#include "server/core/observe/journal.hpp"
#include "server/core/observe/live_feed.hpp"
#include "server/core/observe/log_sink.hpp"
#include "server/core/observe/log_text.hpp"
#include "server/core/observe/metrics.hpp"
#include "server/core/scenario/scenario.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fortisim::core {

/// What the network layer must do at the connection or TLS stage. When a rule fired, the network
/// layer journals its outcome with engine::settle once it is known.
struct stage_verdict {
  action act;                       ///< faults::pass: carry on normally
  std::uint64_t connection = 0;     ///< the connection's id, process-wide (not the ordinal `when` tests)
  std::string rule;                 ///< the rule that fired, "" for none
  std::uint64_t seed = 0;           ///< the seed of the scenario in force when it fired
  std::uint64_t journal_epoch = 0;  ///< the journal's epoch when it fired (a reset since: not kept)
};

/// An HTTP request as the network layer read it.
struct http_request {
  std::string_view method;
  std::string_view target;
  std::string_view body;
  std::string_view client_address;
  std::string_view sni;
  std::uint64_t connection = 0;
  std::string_view headers;           ///< "Name: value" lines, as received (journaled)
  std::string_view client_cert = {};  ///< the connection's client certificate, "subject\nissuer" ("" none)
  /// Set by the network layer for a request it could not read whole: what went wrong, and the
  /// HTTP status the client gets for it (400, 413, 431, 501), or 0 when the client left or stalled in
  /// the middle of it and gets nothing. Such a request is answered without rules, and numbered,
  /// counted and journaled as any other.
  std::string_view unreadable = {};
  int unreadable_status = 0;
};

/// What the client saw of what fortisim did: the journal's `outcome`.
enum class delivery {
  sent,            ///< HTTP: the whole reply written
  client_gone,     ///< HTTP: the peer closed or reset before the reply was written
  not_sent,        ///< a fault that sends nothing (reset, hang, close, an alert)
  timeout,         ///< the write (or the handshake) did not finish in time
  handshake,       ///< TLS: the client completed the handshake the rule shaped
  client_refused,  ///< TLS: the client ended the handshake the rule shaped (an alert, a close)
};
std::string_view delivery_name(delivery d);

/// What to send back, and the fault whose wire part the network layer executes
/// (server/net/https/faults.cpp); and the journal entry that is written once the network layer
/// says how the reply went (engine::finish).
struct http_outcome {
  static constexpr std::string_view json_type = "application/json; charset=utf-8";
  int status = 200;
  std::string content_type{json_type};
  std::string body;
  std::string allow;           ///< an Allow header value, for 405
  std::string headers;         ///< the scenario's other header lines ("Name: value\r\n" each)
  bool head_only = false;      ///< a HEAD request's: the head says Content-Length, no body follows
  std::int64_t delay_ms = 0;   ///< wait before anything is sent
  fault act = faults::pass{};  ///< the rule's fault; pass when the model answered plainly
  std::uint64_t garbage_seed = 0;
  /// The exchange's journal entry but its outcome: recorded by engine::finish. Its strings keep
  /// their storage (each at most journal_kept_bytes, so an idle connection holds at most 12 KiB).
  journal_entry entry;
  bool writing = false;  ///< between engine::writing and engine::finish
  /// Back to the values above, the strings keeping their storage (a connection reuses one outcome),
  /// up to `kept_bytes` of body (a reply is 1-4 KiB): an idle connection holds no large reply.
  void reset() {
    static constexpr std::size_t kept_bytes = 8 << 10;
    status = 200;
    content_type.assign(json_type);
    body.clear();
    if (body.capacity() > kept_bytes) body.shrink_to_fit();
    allow.clear();
    head_only = false;
    delay_ms = 0;
    act = faults::pass{};
    garbage_seed = 0;
  }
};

/// False for the statuses whose replies carry no body and no Content-Length (1xx, 204, 304; RFC
/// 9110 §6.4.1, §8.6): a scenario's body for them is neither sent nor journaled.
inline bool has_body(int status) { return status >= 200 && status != 204 && status != 304; }
/// An IIS-like page for HTTP-level errors (text/html), as the ASP.NET front end would answer
/// [assumed]: every HTTP error fortisim sends on the HTTPS port is one of these.
std::string http_error_page(int status, std::string_view title);

struct engine_options {
  std::optional<std::string> state_path;  ///< --state FILE
  std::size_t journal_size = 1000;
  std::size_t journal_bytes = journal::default_ring_bytes;  ///< --journal-bytes: per ring (about a worker)
  int log_fd = -1;            ///< where the log goes (2: stderr), written by a thread of its own; -1: nowhere
  bool log_exchanges = true;  ///< every exchange as a log line (--quiet: only notices)
  bool log_bodies = false;    ///< --log-bodies: the text log's lines carry the request's body
  log_format format = log_format::json;  ///< --log-format: JSON lines for machines, or text for people
  bool show_secrets = false;             ///< every view shows token seeds (--show-secrets); hidden by default
};

class engine {
 public:
  explicit engine(std::shared_ptr<const scenario> first, engine_options opts = {});

  /// Replaces the scenario (rules, protocol table, definitions); the model keeps its state, the
  /// runtime rules their counters; the scenario's rules start from zero. With `from_start`, the
  /// world is the new scenario's start instead and the rest starts again as reset() starts it, in
  /// one change. Throws (and changes nothing) if the new definitions cannot be stored
  /// (storage_error) or one of its rules has a runtime rule's name (std::invalid_argument,
  /// "$.rules[N].name: …").
  void reload(std::shared_ptr<const scenario> s, bool from_start = false);
  std::shared_ptr<const scenario> current_scenario() const;

  stage_verdict on_connection(std::string_view client_address);
  /// A connection closed as it was accepted (`why`: --max-connections): numbered and counted as
  /// any other, and journaled, without rules (it is never served).
  void turn_away(std::string_view client_address, std::string_view why);
  bool has_tls_rules() const;
  stage_verdict on_client_hello(std::string_view client_address, std::uint64_t connection, std::string_view sni);
  /// Answers a request and journals it as sent (or not sent, for a fault that sends nothing): for
  /// tests and the fuzzer, which write no reply.
  http_outcome handle(const http_request& request);
  /// Answers a request into `out` (reset first): a connection passes the outcome of its last
  /// request, whose strings keep their storage, so a keep-alive request allocates no reply. The
  /// model's change is made here (a real service commits before it replies); the exchange is
  /// journaled (and logged) by finish(), once the network layer knows whether the client heard.
  void handle(const http_request& request, http_outcome& out);
  /// Says the reply of `out` is about to be written: journal readers wait for its entry until
  /// finish() (so a client that has read the reply finds it).
  void writing(http_outcome& out);
  /// Journals the exchange `out` answered, with how its reply went and how many bytes of it
  /// were written.
  void finish(http_outcome& out, delivery how, std::uint64_t bytes_sent);
  /// How long to refuse connections from a (re)load: 0 none, -1 until told otherwise, else ms.
  std::int64_t refuse_first_ms() const;
  /// Journals the outcome of a connection- or TLS-stage rule that fired (`v.rule` not empty):
  /// one entry with the rule, its action, `how` and, in `reason`, what the client did in words.
  /// A failed handshake (client_refused, timeout) also counts as a TLS failure.
  void settle(stage at, const stage_verdict& v, std::string_view client_address, std::string_view sni, delivery how,
              std::string_view words = {});
  /// Journals a connection that the network layer could not complete at stage `at` (TLS failure
  /// and so on), with how it ended (`how`: the journal's outcome) and the SNI when the ClientHello
  /// named one. At stage::tls it also counts a TLS failure.
  void note(stage at, std::uint64_t connection, std::string_view client_address, std::string_view what, delivery how,
            std::string_view sni = {});
  /// Journals the certificate a client presented in its handshake (--client-cert request|require):
  /// stage::tls, action "client certificate" with `client_cert` ("subject\nissuer"), or "no
  /// client certificate" when it presented none.
  void note_client_cert(std::uint64_t connection, std::string_view client_address, std::string_view sni,
                        std::string_view client_cert);
  /// Journals one DNS query (stage "dns"): who asked, the name (as `target`), the query type (as
  /// `type`: "A", "AAAA", "MX", …) and what was answered (as `action`: "A 192.0.2.10", "NXDOMAIN",
  /// "forwarded: NOERROR", "FORMERR: …"). The network layer decides the answer (server/net/dns/).
  /// `rule` names the DNS rule that decided the answer ("" for none).
  void note_dns(std::string_view client_address, std::string_view name, std::string_view type, std::string_view answer,
                std::string_view rule = {});
  /// The DNS-stage rule that fires for a query, if any (`v.rule` empty when none): who asked, the
  /// question's name (lower case, no trailing dot) and type. Counts the query (a rule's `query`).
  stage_verdict on_dns_query(std::string_view client_address, std::string_view qname, std::string_view qtype);
  /// Logs an event that is not an exchange: {"event": "reload", …fields}. Never blocks.
  void notice(std::string_view event, protocol::json fields = protocol::json::object());
  /// Keeps a reload's outcome (control API, SIGHUP or --watch) for GET /status's "last_reload":
  /// {"time_ms", "ok", "problems" (one line each, [] when it took), "warnings" (of one that took:
  /// model::held_pins), "file"}. The network layer, which owns the scenario file, calls it after
  /// every attempt, good or bad.
  void record_reload(std::string_view file, std::string_view problems, std::vector<std::string> warnings = {});
  /// A reload's problems, one line each: as GET /status and the log's reload event give them.
  static std::vector<std::string> problem_lines(std::string_view problems);

  /// One administrative change at a time (reload, reset, rules, clock, listener, tokens, locks),
  /// whoever asks: the control API and the fixture (handle_control holds it for every call but
  /// GET), SIGHUP and --watch. Held across a change of several steps, so that two interleaved
  /// reloads cannot leave the model and the rules on different scenarios.
  std::mutex& admin_mutex() { return admin_mutex_; }
  core::model& world() { return model_; }
  const core::model& world() const { return model_; }
  /// The request journal: every exchange and event, as GET /journal shows it.
  core::journal& journal() { return journal_; }
  /// The console's live feed of exchanges and notices (GET /events).
  core::live_feed& feed() { return feed_; }
  /// What each device did and its verdict (GET /devices), read from the journal; cleared with it.
  core::device_book& devices() { return devices_; }
  /// Whether the views (journal, log, feed, world, state) show token seeds (--show-secrets).
  core::secrets shows_secrets() const { return secrets_; }
  core::metrics& counters() { return metrics_; }
  /// The loaded scenario's counters and rules, for the control API.
  protocol::json status() const;
  /// GET /metrics: Prometheus text format.
  std::string metrics_text() const;

  /// Back to the scenario's start: the model (bindings, tokens, locks, clock), rule counters,
  /// runtime rules and the journal. The listener is the network layer's: POST /reset and the
  /// fixture go through server_control::reset, which calls this. Throws storage_error.
  void reset();
  /// Empties the journal and the devices read from it (DELETE /journal): an exchange counted
  /// before, ending after, is logged but not kept.
  void clear_journal();
  /// Adds a rule ahead of the scenario's (POST /rules), kept across reloads until deleted or reset,
  /// with counters of its own that other rules' coming and going leave alone. Its name must be
  /// new: no scenario or runtime rule may have it. At most runtime_rule_limit at once. The
  /// problems (each with its JSON path), or none when it took.
  std::vector<problem> add_rule(const protocol::json& j);
  static constexpr std::size_t runtime_rule_limit = 256;
  /// Deletes a runtime rule; false if none has that name.
  bool remove_rule(std::string_view name);
  /// Every rule in the order they are tried: runtime rules, then the scenario's (GET /rules).
  protocol::json rules() const;

 private:
  /// A reset's part beside the world: the scenario's rule counters and ordinals, the journal, the
  /// devices read from it (the runtime rules are the caller's, under runtime_mutex_).
  void start_records_again();
  /// A scenario in force: it, its rule book, and its counters since it loaded.
  struct loaded {
    std::shared_ptr<const core::scenario> scenario;
    rule_book rules;
    /// The process's connection and request ids issued before it loaded: its ordinals (what
    /// `when` tests) count from there, while the ids in the journal and the log never restart.
    std::uint64_t connections_before = 0;
    std::uint64_t requests_before = 0;
    std::atomic<std::uint64_t> dns_queries{0};
    explicit loaded(std::shared_ptr<const core::scenario> from) : scenario(from), rules(from->rules, from->seed) {}
    /// The ordinal, since this loaded, of connection `id`; 0 (no ordinal `when` tests) for one
    /// opened before.
    std::uint64_t connection_ordinal(std::uint64_t id) const {
      return id > connections_before ? id - connections_before : 0;
    }
  };
  /// Rules added at runtime, tried before the scenario's; replaced whole on every change (and
  /// reload), each rule keeping its state from one book to the next.
  struct runtime_rules {
    rule_book book;
    runtime_rules(std::vector<rule> l, std::uint64_t seed, std::vector<std::shared_ptr<rule_state>> states)
        : book(std::move(l), seed, std::move(states)) {}
  };
  struct exchange;
  /// The scenario in force, for the control API (a reference of its own); workers read() it.
  std::shared_ptr<loaded> current() const { return current_.load(); }
  /// Whether `id` was issued after `book` loaded (it counts from there): see snapshot::read_with.
  static bool counts_request(const loaded& book, std::uint64_t id) { return id > book.requests_before; }
  static bool counts_connection(const loaded& book, std::uint64_t id) { return id > book.connections_before; }
  /// Sets `next`'s counts to start from the ids issued so far: called as it is stored (current_'s
  /// store_with), so no id is taken between the count and the store.
  void count_from_now(loaded& next) const {
    next.connections_before = connection_ids_.load();
    next.requests_before = request_ids_.load();
  }
  /// The first rule of `at` that fires: one of `runtime` (a snapshot), else one of the scenario's.
  std::optional<rule_book::hit> first_match(loaded& in_force, stage at, const exchange_facts& facts,
                                            runtime_rules* runtime);
  /// The connection- or TLS-stage verdict of `in_force`'s rules, journaled when a rule fires.
  stage_verdict decide(loaded& in_force, stage at, const exchange_facts& facts, std::uint64_t id);
  /// handle() for a request the network layer could not read whole: its HTTP error, or nothing.
  void refuse_unreadable(exchange& exchange);
  /// The exchange's ordinal and the path it is answered as (its endpoint).
  void locate(exchange& exchange);
  // The steps of handle(), in order.
  void classify(exchange& exchange);
  void build_tree(exchange& exchange);  // the request's JSON tree: for rules, faults and errors
  void match_rules(exchange& exchange);
  bool http_misuse(exchange& exchange);
  /// The 500 of an exchange whose answer threw (a template too large, memory exhausted).
  void fail_internally(exchange& exchange, std::string_view what);
  void answer(exchange& exchange);
  /// The model's reply to `req`, in `reply`; false when storage failed (its out then says 503).
  bool ask_model(exchange& exchange, const protocol::request& req, protocol::response& reply);
  /// The exchange's journal entry, in its outcome's `entry`, for finish() to record.
  void write_entry(const exchange& exchange);

  /// The ids of connections and requests, process-wide: the journal's and the log's `#c.r` never
  /// repeat within a process, whatever reloads and resets come between.
  std::atomic<std::uint64_t> connection_ids_{0};
  std::atomic<std::uint64_t> request_ids_{0};
  snapshot<loaded> current_;
  snapshot<runtime_rules> runtime_;
  std::mutex runtime_mutex_;  // one change of the runtime rules at a time
  std::mutex admin_mutex_;
  core::metrics metrics_;
  core::model model_;
  log_format log_format_;
  core::secrets secrets_;
  std::unique_ptr<log_sink> log_;  // before the journal, whose observers write to it and to the feed
  core::live_feed feed_;
  core::device_book devices_;
  core::journal journal_;
  mutable std::mutex reload_mutex_;
  protocol::json last_reload_;  // null until the first reload (under reload_mutex_)
};

}  // namespace fortisim::core
