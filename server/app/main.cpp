// fortisim: parse the command line into one config value, run, exit.
//   fortisim serve    [--listen ADDR:PORT] [--scenario FILE] [--cert FILE --key FILE] [--dns ADDR:PORT] ...
//   fortisim validate FILE...
//   fortisim certs    [--data DIR] [--key-type ecdsa|rsa] [--force] [--export DIR] [--ca-permit NAME…]
//   fortisim lab-config --address IP [--dns-port 53] [--format fortios|dnsmasq|unbound|all]
//   fortisim state check FILE
//   fortisim client   import CODE | poll TOKEN... | provision TOKEN... | activate SERIAL... | phone CODE

#include "client/cli.hpp"
#include "pki/lab.hpp"
#include "protocol/hosts.hpp"
#include "server/app/atomic_file.hpp"
#include "server/app/default_scenario.hpp"
#include "server/app/lab_config.hpp"
#include "server/app/startup_log.hpp"
#include "server/app/state_check.hpp"
#include "server/core/engine/engine.hpp"
#include "server/net/server/server.hpp"
#include "server/net/server/signals.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

using namespace fortisim;

namespace {

/// Everything the command line says, parsed once.
struct options {
  net::server_config server;
  std::string scenario_path;  ///< "": scenarios/default.json beside the binary (server/default_scenario.hpp)
  std::string ready_file;     ///< "": the ready line on stdout only
  std::string cert, key, admin = "127.0.0.1:0", state;
  std::string dns, dns_upstream;  ///< "": off / none
  std::string log_format;         ///< "text" or "json"; "": text when stderr is a terminal, else json
  std::size_t journal_size = 1000;
  std::size_t journal_bytes = core::journal::default_ring_bytes;
  bool quiet = false;
  bool log_bodies = false;
  std::string key_type = "ecdsa", client_cert = "off";
  bool show_secrets = false;
  std::vector<std::string> files;      ///< validate
  bool force = false;                  ///< certs
  std::string export_dir;              ///< certs: "" none
  std::vector<std::string> ca_permit;  ///< certs: names a new CA permits besides the lab's; "any": no constraint
  client::cli_options client;          ///< client
};

CLI::App* add_serve(CLI::App& app, options& o) {
  auto& cfg = o.server;
  auto* serve = app.add_subcommand("serve", "Serve the SoftToken protocol over HTTPS from a scenario file");
  serve->add_option("--listen", cfg.listen, "ADDR:PORT to listen on; port 0 picks a free port")->capture_default_str();
  serve->add_option("--scenario", o.scenario_path,
                    "The scenario file (JSON, comments allowed); default: scenarios/default.json beside the binary "
                    "(installed: share/fortisim/scenarios)");
  serve->add_option("--ready-file", o.ready_file,
                    "Also write the ready line to FILE once serving (replaced whole, never half-written): for a "
                    "test harness or a container's health check");
  serve->add_flag("--watch", cfg.watch, "Reload the scenario file whenever it is saved (as SIGHUP does)");
  serve->add_option("--cert", o.cert, "Server certificate chain (PEM); default: the lab CA's certificate");
  serve->add_option("--key", o.key, "The certificate's private key (PEM, unencrypted)");
  serve->add_option("--key-type", o.key_type, "The lab leaves' keys: ecdsa (P-256) or rsa (2048, for older FortiOS)")
      ->capture_default_str()
      ->check(CLI::IsMember({"ecdsa", "rsa"}));
  serve
      ->add_option("--client-cert", o.client_cert,
                   "Ask clients for a certificate: request (accept any, or none), require (fail without one), or "
                   "off; what they present is journaled")
      ->capture_default_str()
      ->check(CLI::IsMember({"off", "request", "require"}));
  serve->add_option("--threads", cfg.threads, "Worker threads, each with its own listener")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  serve->add_option("--admin", o.admin, "ADDR:PORT of the control API (plain HTTP; keep it on loopback), or \"off\"")
      ->capture_default_str();
  serve->add_option("--admin-token", cfg.admin_token,
                    "A token every control call must carry (Authorization: Bearer TOKEN); needed when --admin is "
                    "beyond loopback");
  serve->add_option("--data", cfg.data_dir, "Folder for the generated lab CA and certificates")->capture_default_str();
  serve->add_option("--state", o.state, "Persist the FortiCare model in FILE (crash-safe) and resume from it");
  serve->add_option("--max-connections", cfg.max_connections, "Connections served at once (more are closed on accept)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  // Ranges, as every count here has: a negative number would wrap round to a limit of none.
  serve->add_option("--body-limit", cfg.body_limit, "Largest request body in bytes (larger: 413)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
  serve->add_option("--idle-timeout-ms", cfg.idle_timeout_ms, "How long to wait for a request")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{86'400'000}));
  serve->add_option("--journal-size", o.journal_size, "Exchanges kept in the request journal")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  serve
      ->add_option("--journal-bytes", o.journal_bytes,
                   "Bytes the journal holds per worker at most (entries and their text); the oldest go first")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{64} << 10, std::size_t{1} << 40));
  serve->add_option("--drain-ms", cfg.drain_ms, "On SIGTERM/SIGINT, how long exchanges in flight may take to finish")
      ->capture_default_str()
      ->check(CLI::Range(0, 600'000));
  serve->add_option("--dns", o.dns,
                    "ADDR:PORT of a DNS responder (UDP and TCP) answering the Fortinet names with fortisim's "
                    "address, e.g. 0.0.0.0:53; port 0 picks a free one (off by default)");
  serve
      ->add_option("--dns-answer", cfg.dns_answers,
                   "The address DNS answers give: one IPv4 (A) and/or one IPv6 (AAAA), the option once for each; "
                   "default: the --listen address, or this host's own when that is a wildcard")
      ->allow_extra_args(false);
  serve->add_option("--dns-upstream", o.dns_upstream,
                    "ADDR[:PORT] of a resolver for other names (port 53 by default); without it they get NXDOMAIN");
  serve
      ->add_option("--dns-names", cfg.dns_names,
                   "all: the DNS responder answers every Fortinet name; token: the token path's alone, FortiGuard's "
                   "go upstream like any other name")
      ->capture_default_str();
  serve->add_flag("--quiet", o.quiet, "Do not log every exchange on stderr");
  serve->add_flag("--log-bodies", o.log_bodies,
                  "The text log's lines carry each request's body too (the JSON log and the journal always do)");
  serve->add_flag("--show-secrets,--console-secrets", o.show_secrets,
                  "Show token seeds in the journal, the log, GET /state and the web console; hidden by default "
                  "(--console-secrets is the older name)");
  serve
      ->add_option("--log-format", o.log_format,
                   "text (one readable line per exchange or event) or json (one JSON object a line, the journal's "
                   "fields); default: text when stderr is a terminal, else json")
      ->check(CLI::IsMember({"text", "json"}));
  return serve;
}

/// Whether `file` is a JSON Schema (scenarios/schema.json sits among the scenarios it describes):
/// it names a json-schema.org dialect and has `properties`, which no scenario may have (a scenario
/// that names the schema in its `$schema` is still checked).
bool is_json_schema(const std::string& file) {
  auto r = core::load_scenario_file(file);
  if (r.value || !std::filesystem::is_regular_file(file)) return false;
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto j = protocol::json::parse(text, nullptr, false, true);
  return j.is_object() && j.contains("properties") && j["$schema"].is_string() &&
         j["$schema"].get<std::string>().find("json-schema.org") != std::string::npos;
}

/// A loaded scenario's rules, one line each under its "ok": where, the name (given, or generated
/// from its place) and the stage it acts at.
void print_rules(const core::scenario& s) {
  for (std::size_t i = 0; i < s.rules.size(); ++i) {
    const auto& r = s.rules[i];
    std::cout << "  $.rules[" << i << "]: " << protocol::json(r.name).dump() << " (" << core::stage_name(r.stage)
              << (r.source.contains("name") ? "" : ", name generated") << ")\n";
  }
}

int run_validate(const options& o) {
  bool all_good = true;
  for (const auto& f : o.files) {
    if (is_json_schema(f)) {
      std::cout << f << ": skipped (a JSON Schema, not a scenario)\n";
      continue;
    }
    auto r = core::load_scenario_file(f);
    if (r.value) {
      std::cout << f << ": ok\n";
      print_rules(*r.value);
    } else {
      std::cout << r.describe();
      all_good = false;
    }
  }
  return all_good ? 0 : 1;
}

/// What a new lab CA permits: the lab's names and `--ca-permit`'s, or nothing (no constraint) for
/// "--ca-permit any". Throws std::invalid_argument naming a value that is neither name nor address.
std::vector<std::string> ca_permitted(const std::vector<std::string>& given) {
  if (given == std::vector<std::string>{"any"}) return {};
  std::vector<std::string> names;
  for (const auto& g : given) {
    auto name = protocol::canonical_host_name(g);  // lower case, no trailing dot
    if (name == "any" || pki::name_constraint(name).empty())
      throw std::invalid_argument("--ca-permit " + g +
                                  ": expected a host name of two labels or more (lab.example.net), an IP address "
                                  "or a prefix of at least /8 (192.0.2.0/24), or any alone");
    names.push_back(name);
  }
  return pki::lab_ca_permitted(names);
}

int run_certs(const options& o) {
  try {
    auto ca_file = std::filesystem::path(o.server.data_dir) / "ca.pem";
    if (!o.ca_permit.empty() && !o.force && std::filesystem::exists(ca_file))
      throw std::invalid_argument("--ca-permit makes a new CA, and " + ca_file.string() +
                                  " exists: add --force (clients must then trust the new CA)");
    if (o.force && std::filesystem::exists(ca_file) && pki::folder_served(o.server.data_dir))
      std::cerr << "fortisim: warning: a running fortisim serves from " << o.server.data_dir
                << ": it signs with the CA it started with until it restarts, and a client given the new CA "
                   "refuses it\n";
    auto p =
        pki::ensure_lab_certs(o.server.data_dir, *pki::key_type_named(o.key_type), o.force, ca_permitted(o.ca_permit));
    protocol::json out{{"ca", p.ca_cert}, {"key_type", o.key_type}, {"cert", p.server_cert}, {"key", p.server_key}};
    for (const auto& h : p.hosts) out["hosts"][h.name] = h.cert;
    out["sha256"] = pki::sha256_fingerprint(pki::load_cert_and_key(p.ca_cert, p.ca_key).cert.get());
    if (!o.export_dir.empty()) {
      auto e = pki::export_ca(p.ca_cert, o.export_dir);
      out["export"] = {{"pem", e.pem}, {"der", e.der}, {"sha256", e.sha256}};
    }
    std::cout << out.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    return app::fail(e.what(), false);
  }
}

/// One JSON line on stdout (and in --ready-file): the harness's signal that fortisim serves, and where.
std::string ready_line(const net::server& srv, const core::scenario& s) {
  protocol::json ready;
  ready["event"] = "ready";
  ready["listen"] = srv.listen_address();
  ready["scenario"] = s.name;
  ready["ca"] = srv.ca_path().empty() ? protocol::json(nullptr) : protocol::json(srv.ca_path());  // absolute
  ready["ca_sha256"] = srv.ca_sha256().empty() ? protocol::json(nullptr) : protocol::json(srv.ca_sha256());
  ready["admin"] = srv.admin_address() ? protocol::json(*srv.admin_address()) : protocol::json(nullptr);
  ready["dns"] = srv.dns_address() ? protocol::json(*srv.dns_address()) : protocol::json(nullptr);
  ready["seed"] = s.seed;
  ready["pid"] = ::getpid();
  return ready.dump();
}

/// --scenario, or the shipped default found beside the binary; "" (and a message) if none is.
std::string scenario_to_serve(const options& o, bool json) {
  if (!o.scenario_path.empty()) return o.scenario_path;
  auto candidates = default_scenario_candidates();
  auto found = find_default_scenario(candidates);
  if (found.empty()) {
    std::string looked;
    for (const auto& c : candidates) looked += (looked.empty() ? "" : ", ") + c;
    app::fail("no --scenario given, and no scenarios/default.json at " + looked + "; pass --scenario FILE", json);
  }
  return found;
}

int run_serve(options& o) {
  // A write to a closed stderr or a full disk is an error to handle, not a signal that kills us.
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);
  // Decided first: with json, every line on stderr is JSON, a failure to start included.
  bool json = o.log_format.empty() ? ::isatty(2) != 1 : o.log_format == "json";
  auto fail = [json](const std::string& line) { return app::fail(line, json); };
  o.scenario_path = scenario_to_serve(o, json);
  if (o.scenario_path.empty()) return 2;
  auto loaded = core::load_scenario_file(o.scenario_path);
  if (!loaded.value) {
    const auto& first = loaded.problems.front();
    std::string more = loaded.problems.size() > 1 ? " (and " + std::to_string(loaded.problems.size() - 1) +
                                                        " more; see: fortisim validate " + o.scenario_path + ")"
                                                  : "";
    return fail("bad scenario " + o.scenario_path + ": " + first.path + ": " + first.reason + more);
  }
  auto& cfg = o.server;
  cfg.scenario_path = o.scenario_path;
  if (auto shipped = find_default_scenario(default_scenario_candidates()); !shipped.empty())
    cfg.shipped_scenarios = std::filesystem::path(shipped).parent_path().string();
  if (!o.cert.empty()) cfg.cert = o.cert;
  if (!o.key.empty()) cfg.key = o.key;
  cfg.lab_key = *pki::key_type_named(o.key_type);
  cfg.client_cert = o.client_cert == "request"   ? net::client_cert_mode::request
                    : o.client_cert == "require" ? net::client_cert_mode::require
                                                 : net::client_cert_mode::off;
  if (o.admin == "off" || o.admin.empty())
    cfg.admin.reset();
  else
    cfg.admin = o.admin;
  if (!o.dns.empty() && o.dns != "off") cfg.dns = o.dns;
  if (!o.dns_upstream.empty()) cfg.dns_upstream = o.dns_upstream;
  cfg.handle_signals = true;
  try {
    auto scenario = std::make_shared<const core::scenario>(std::move(*loaded.value));
    core::engine_options opts;
    if (!o.state.empty()) opts.state_path = o.state;
    opts.journal_size = o.journal_size;
    opts.journal_bytes = o.journal_bytes;
    opts.log_fd = 2;  // written by the log's own thread: a stderr nobody reads never stops a worker
    opts.log_exchanges = !o.quiet;
    opts.log_bodies = o.log_bodies;
    opts.show_secrets = o.show_secrets;
    opts.format = json ? core::log_format::json : core::log_format::text;
    std::error_code ec;  // a state file that is missing or empty holds nothing to resume
    bool resuming = !o.state.empty() && std::filesystem::file_size(o.state, ec) > 0 && !ec;
    net::mask_server_signals(SIG_BLOCK);  // before the first thread: only the loops take them
    auto engine = std::make_shared<core::engine>(scenario, opts);
    {
      net::server srv(cfg, engine);
      app::log_scenario(*scenario, *engine, json);
      if (!o.state.empty()) engine->notice("state", app::resumed_state(engine->world(), o.state, resuming));
      srv.start();
      auto ready = ready_line(srv, *scenario);
      if (!o.ready_file.empty())
        if (auto why = app::write_file_atomically(o.ready_file, ready + "\n")) return fail("--ready-file: " + *why);
      std::cout << ready << std::endl;
      srv.wait();
    }  // the connections it still held are journaled as it goes ("closed as fortisim stopped")
    engine->notice("stopped");
    return 0;
  } catch (const std::exception& e) {  // startup_error: one line with the cause and the fix
    return fail(e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fortisim: a simulator of Fortinet's FortiCare/FortiGuard token activation service, for labs and tests"};
  app.set_version_flag("--version", "fortisim " FORTISIM_VERSION);  // CMake's project(VERSION)
  app.require_subcommand(1);

  options o;
  o.server.data_dir = pki::default_data_dir();
  o.server.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  add_serve(app, o);
  auto* validate = app.add_subcommand("validate", "Check scenario files; report every problem with its JSON path");
  validate->add_option("files", o.files, "Scenario files")->required();
  auto* certs = app.add_subcommand("certs", "Make the lab CA and server certificates (kept if present)");
  certs->add_option("--data", o.server.data_dir, "Folder to write them to")->capture_default_str();
  certs->add_option("--key-type", o.key_type, "The leaves' keys (and a new CA's): ecdsa (P-256) or rsa (2048)")
      ->capture_default_str()
      ->check(CLI::IsMember({"ecdsa", "rsa"}));
  certs->add_flag("--force", o.force, "Make new ones even if they exist (clients must trust the new CA)");
  certs
      ->add_option("--ca-permit", o.ca_permit,
                   "A name (and every name under it), an IP address or a prefix a new lab CA permits besides the "
                   "Fortinet domains, localhost and loopback (X.509 name constraints); once per value; \"any\": "
                   "a CA without constraints")
      ->allow_extra_args(false);
  certs->add_option("--export", o.export_dir,
                    "Also write the CA to DIR as fortisim-ca.pem, fortisim-ca.cer (DER) and fortisim-ca.sha256 (its "
                    "SHA-256 fingerprint, also printed)");
  lab_config_options lab_options;
  auto* lab = add_lab_config(app, lab_options);
  o.client.cacert = o.server.data_dir + "/ca.pem";
  auto* client = client::add_cli(app, o.client);
  std::string state_file;
  auto* state = add_state_check(app, state_file);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help and --version print and exit 0; a usage error, 2
  }
  if (*validate) return run_validate(o);
  if (*certs) return run_certs(o);
  if (*lab) return run_lab_config(lab_options, std::cout, std::cerr);
  if (*client) return client::run_cli(*client, o.client);
  if (*state) return run_state_check(state_file, std::cout);
  return run_serve(o);
}
