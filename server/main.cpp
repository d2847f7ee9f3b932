// fortisim: parse the command line into one config value, run, exit.
//   fortisim serve    [--listen ADDR:PORT] [--scenario FILE] [--cert FILE --key FILE] ...
//   fortisim validate FILE...
//   fortisim certs    [--data DIR] [--force]

#include "server/core/engine.hpp"
#include "server/net/certs.hpp"
#include "server/net/server.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <thread>

using namespace fortisim;

namespace {

std::string quoted(const std::string& s) { return protocol::json(s).dump(); }

/// Logs every fault knob of the scenario at start-up, so a run's log says what it was told.
void describe(const core::scenario& s) {
  std::cerr << "fortisim: scenario " << quoted(s.name) << " from " << s.file << ", seed " << s.seed << ", "
            << s.licenses.size() << " licence(s), unknown codes: "
            << (s.unknown_codes.accept ? "accepted" : "card not found") << ", " << s.hardware_tokens.size()
            << " hardware token(s), " << s.rules.size() << " rule(s)\n";
  for (const auto& r : s.rules) {
    std::cerr << "fortisim:   rule " << quoted(r.name) << ":";
    for (const auto& a : r.then) std::cerr << " " << core::action_name(a.kind);
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fortisim: a simulator of Fortinet's FortiCare/FortiGuard token activation service, for labs and tests"};
  app.set_version_flag("--version", "fortisim 0.1.0");
  app.require_subcommand(1);

  net::server_config cfg;
  cfg.data_dir = net::default_data_dir();
  cfg.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string scenario_path = "scenarios/default.json";
  std::string cert, key, admin = "127.0.0.1:0", state;
  std::size_t journal_size = 1000;
  bool quiet = false;

  auto* serve = app.add_subcommand("serve", "Serve the SoftToken protocol over HTTPS from a scenario file");
  serve->add_option("--listen", cfg.listen, "ADDR:PORT to listen on; port 0 picks a free port")->capture_default_str();
  serve->add_option("--scenario", scenario_path, "The scenario file (JSON, comments allowed)")->capture_default_str();
  serve->add_option("--cert", cert, "Server certificate chain (PEM); default: the lab CA's certificate");
  serve->add_option("--key", key, "The certificate's private key (PEM, unencrypted)");
  serve->add_option("--threads", cfg.threads, "Worker threads, each with its own listener")->capture_default_str()->check(CLI::Range(1, 256));
  serve->add_option("--admin", admin, "ADDR:PORT of the control API (plain HTTP; keep it on loopback), or \"off\"")->capture_default_str();
  serve->add_option("--data", cfg.data_dir, "Folder for the generated lab CA and certificates")->capture_default_str();
  serve->add_option("--state", state, "Persist the FortiCare model in FILE (crash-safe) and resume from it");
  serve->add_option("--body-limit", cfg.body_limit, "Largest request body in bytes (larger: 413)")->capture_default_str();
  serve->add_option("--idle-timeout-ms", cfg.idle_timeout_ms, "How long to wait for a request")->capture_default_str();
  serve->add_option("--journal-size", journal_size, "Exchanges kept in the request journal")->capture_default_str();
  serve->add_flag("--quiet", quiet, "Do not log every exchange on stderr");

  std::vector<std::string> files;
  auto* validate = app.add_subcommand("validate", "Check scenario files; report every problem with its JSON path");
  validate->add_option("files", files, "Scenario files")->required();

  bool force = false;
  auto* certs = app.add_subcommand("certs", "Make the lab CA and server certificate (kept if present)");
  certs->add_option("--data", cfg.data_dir, "Folder to write them to")->capture_default_str();
  certs->add_flag("--force", force, "Make new ones even if they exist");

  CLI11_PARSE(app, argc, argv);

  if (*validate) {
    bool all_good = true;
    for (const auto& f : files) {
      auto r = core::load_scenario_file(f);
      if (r.value) std::cout << f << ": ok\n";
      else {
        std::cout << r.describe();
        all_good = false;
      }
    }
    return all_good ? 0 : 1;
  }

  if (*certs) {
    try {
      auto p = net::ensure_lab_certs(cfg.data_dir, force);
      std::cout << protocol::json{{"ca", p.ca_cert}, {"cert", p.server_cert}, {"key", p.server_key}}.dump() << std::endl;
      return 0;
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }

  // serve
  auto loaded = core::load_scenario_file(scenario_path);
  if (!loaded.value) {
    std::string first = loaded.problems.front().path + ": " + loaded.problems.front().reason;
    std::string more = loaded.problems.size() > 1
                           ? " (and " + std::to_string(loaded.problems.size() - 1) + " more; see: fortisim validate " + scenario_path + ")"
                           : "";
    return fail("bad scenario " + scenario_path + ": " + first + more);
  }
  cfg.scenario_path = scenario_path;
  if (!cert.empty()) cfg.cert = cert;
  if (!key.empty()) cfg.key = key;
  if (admin == "off" || admin.empty()) cfg.admin.reset();
  else cfg.admin = admin;
  cfg.handle_signals = true;
  try {
    auto scenario = std::make_shared<const core::scenario>(std::move(*loaded.value));
    core::engine_options opts;
    if (!state.empty()) opts.state_path = state;
    opts.journal_size = journal_size;
    auto engine = std::make_shared<core::engine>(scenario, opts);
    if (!quiet && journal_size > 0) {
      // One JSON line per exchange on stderr: what the device sent and what it got.
      engine->log().set_observer([](const core::journal_entry& e) {
        protocol::json line{{"event", "exchange"}};
        line.update(core::journal::to_json(e));
        std::cerr << line.dump(-1, ' ', false, protocol::json::error_handler_t::replace) << '\n' << std::flush;
      });
    }
    net::server srv(cfg, engine);
    describe(*scenario);
    srv.start();
    protocol::ordered_json ready;
    ready["event"] = "ready";
    ready["listen"] = srv.listen_address();
    ready["scenario"] = scenario->name;
    ready["ca"] = srv.ca_path().empty() ? protocol::ordered_json(nullptr) : protocol::ordered_json(srv.ca_path());
    ready["admin"] = srv.admin_address() ? protocol::ordered_json(*srv.admin_address()) : protocol::ordered_json(nullptr);
    ready["seed"] = scenario->seed;
    ready["pid"] = ::getpid();
    std::cout << ready.dump() << std::endl;
    srv.wait();
    std::cerr << "fortisim: stopped" << std::endl;
    return 0;
  } catch (const net::startup_error& e) {
    return fail(e.what());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
