// fortisim: parse the command line into one config value, run, exit.
//   fortisim serve    [--listen ADDR:PORT] [--scenario FILE] [--cert FILE --key FILE] [--dns ADDR:PORT] ...
//   fortisim validate FILE...
//   fortisim certs    [--data DIR] [--force]
//   fortisim lab-config --address IP [--dns-port 53] [--format fortios|dnsmasq|unbound|all]

#include "lab_config.hpp"
#include "server/core/engine.hpp"
#include "server/net/certs.hpp"
#include "server/net/server.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

using namespace fortisim;

namespace {

/// Everything the command line says, parsed once.
struct options {
  net::server_config server;
  std::string scenario_path = "scenarios/default.json";
  std::string cert, key, admin = "127.0.0.1:0", state;
  std::string dns, dns_upstream;  ///< "": off / none
  std::string ready_file;         ///< "": the ready line goes to stdout only
  std::string log_format;         ///< "text" or "json"; "": text when stderr is a terminal, else json
  std::size_t journal_size = 1000;
  bool quiet = false;
  bool console_secrets = false;
  std::vector<std::string> files;  ///< validate
  bool force = false;              ///< certs
};

std::string quoted(const std::string& s) { return protocol::json(s).dump(); }

/// Logs every fault knob of the scenario at start-up, so a run's log says what it was told.
void describe(const core::scenario& s) {
  std::cerr << "fortisim: scenario " << quoted(s.name) << " from " << s.file << ", seed " << s.seed << ", "
            << s.licenses.size()
            << " licence(s), unknown codes: " << (s.unknown_codes.accept ? "accepted" : "card not found") << ", "
            << s.hardware_tokens.size() << " hardware token(s), " << s.rules.size() << " rule(s)\n";
  for (const auto& r : s.rules) {
    std::cerr << "fortisim:   rule " << quoted(r.name) << ":";
    for (const auto& a : r.then) std::cerr << " " << core::fault_name(a.what);
    if (r.times) std::cerr << " (" << *r.times << " times)";
    if (r.probability < 1.0) std::cerr << " (probability " << r.probability << ")";
    std::cerr << "\n";
  }
  std::cerr << std::flush;
}

int fail(const std::string& line) {
  std::cerr << "fortisim: " << line << std::endl;
  return 2;
}

CLI::App* add_serve(CLI::App& app, options& o) {
  auto& cfg = o.server;
  auto* serve = app.add_subcommand("serve", "Serve the SoftToken protocol over HTTPS from a scenario file");
  serve->add_option("--listen", cfg.listen, "ADDR:PORT to listen on; port 0 picks a free port")->capture_default_str();
  serve->add_option("--scenario", o.scenario_path, "The scenario file (JSON, comments allowed)")->capture_default_str();
  serve->add_option("--cert", o.cert, "Server certificate chain (PEM); default: the lab CA's certificate");
  serve->add_option("--key", o.key, "The certificate's private key (PEM, unencrypted)");
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
  serve->add_option("--body-limit", cfg.body_limit, "Largest request body in bytes (larger: 413)")
      ->capture_default_str();
  serve->add_option("--idle-timeout-ms", cfg.idle_timeout_ms, "How long to wait for a request")->capture_default_str();
  serve->add_option("--journal-size", o.journal_size, "Exchanges kept in the request journal")->capture_default_str();
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
  serve->add_flag("--quiet", o.quiet, "Do not log every exchange on stderr");
  serve->add_flag("--console-secrets", o.console_secrets,
                  "Let the web console (GET / of the control API) show token seeds; hidden by default");
  serve
      ->add_option("--log-format", o.log_format,
                   "text (one readable line per exchange or event) or json (one JSON object a line, the journal's "
                   "fields); default: text when stderr is a terminal, else json")
      ->check(CLI::IsMember({"text", "json"}));
  serve->add_option("--ready-file", o.ready_file,
                    "Also write the ready line to FILE once serving (replaced whole, never half-written); a "
                    "container's health check reads it");
  return serve;
}

/// Whether `file` is a JSON Schema (scenarios/schema.json sits among the scenarios it describes).
bool is_json_schema(const std::string& file) {
  auto r = core::load_scenario_file(file);
  if (r.value) return false;
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto j = protocol::json::parse(text, nullptr, false, true);
  return j.is_object() && j.value("$schema", "").find("json-schema.org") != std::string::npos;
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
    } else {
      std::cout << r.describe();
      all_good = false;
    }
  }
  return all_good ? 0 : 1;
}

int run_certs(const options& o) {
  try {
    auto p = net::ensure_lab_certs(o.server.data_dir, o.force);
    std::cout << protocol::json{{"ca", p.ca_cert}, {"cert", p.server_cert}, {"key", p.server_key}}.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

/// Writes `line` to `path` through a temporary file and a rename, so a reader never sees half of it.
void write_ready_file(const std::string& path, const std::string& line) {
  auto temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << line << "\n";
    if (!out.flush()) throw std::runtime_error("--ready-file " + path + ": cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    throw std::runtime_error("--ready-file " + path + ": cannot rename " + temporary + " to it");
}

/// One JSON line on stdout (and in --ready-file): the harness's signal that fortisim serves, and where.
void print_ready(const net::server& srv, const core::scenario& s, const std::string& ready_file) {
  protocol::json ready;
  ready["event"] = "ready";
  ready["listen"] = srv.listen_address();
  ready["scenario"] = s.name;
  ready["ca"] = srv.ca_path().empty() ? protocol::json(nullptr) : protocol::json(srv.ca_path());
  ready["admin"] = srv.admin_address() ? protocol::json(*srv.admin_address()) : protocol::json(nullptr);
  ready["dns"] = srv.dns_address() ? protocol::json(*srv.dns_address()) : protocol::json(nullptr);
  ready["seed"] = s.seed;
  ready["pid"] = ::getpid();
  if (!ready_file.empty()) write_ready_file(ready_file, ready.dump());
  std::cout << ready.dump() << std::endl;
}

int run_serve(options& o) {
  // A write to a closed stderr or a full disk is an error to handle, not a signal that kills us.
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);
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
  if (!o.cert.empty()) cfg.cert = o.cert;
  if (!o.key.empty()) cfg.key = o.key;
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
    opts.log_fd = 2;  // written by the log's own thread: a stderr nobody reads never stops a worker
    opts.log_exchanges = !o.quiet;
    opts.show_secrets = o.console_secrets;
    bool text = o.log_format.empty() ? ::isatty(2) == 1 : o.log_format == "text";
    opts.format = text ? core::log_format::text : core::log_format::json;
    auto engine = std::make_shared<core::engine>(scenario, opts);
    net::server srv(cfg, engine);
    describe(*scenario);
    srv.start();
    print_ready(srv, *scenario, o.ready_file);
    srv.wait();
    engine->notice("stopped");
    return 0;
  } catch (const std::exception& e) {  // startup_error: one line with the cause and the fix
    return fail(e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fortisim: a simulator of Fortinet's FortiCare/FortiGuard token activation service, for labs and tests"};
  app.set_version_flag("--version", "fortisim 0.1.0");
  app.require_subcommand(1);

  options o;
  o.server.data_dir = net::default_data_dir();
  o.server.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  add_serve(app, o);
  auto* validate = app.add_subcommand("validate", "Check scenario files; report every problem with its JSON path");
  validate->add_option("files", o.files, "Scenario files")->required();
  auto* certs = app.add_subcommand("certs", "Make the lab CA and server certificate (kept if present)");
  certs->add_option("--data", o.server.data_dir, "Folder to write them to")->capture_default_str();
  certs->add_flag("--force", o.force, "Make new ones even if they exist");
  lab_config_options lab_options;
  auto* lab = add_lab_config(app, lab_options);

  CLI11_PARSE(app, argc, argv);
  if (*validate) return run_validate(o);
  if (*certs) return run_certs(o);
  if (*lab) return run_lab_config(lab_options, std::cout, std::cerr);
  return run_serve(o);
}
