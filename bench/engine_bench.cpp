// Micro-benchmark of the engine alone, without sockets or TLS, on the five answers bench/run.sh
// measures: the captured import refused (expired-license.json), the successful re-import and a poll
// of five tokens (default.json), the captured 7.4.10 ProvisionRequest and the phone's request
// (provision-7.4.10.json). Each is answered many times into one outcome reused, as a connection
// reuses it. Prints µs per request and the heap allocations per request (every operator new in
// the process is counted: the engine, the model, the journal, the reply). Then the refusal and the
// re-import again, answered by two threads at once on one engine, as two workers answer: what they
// share per request (the scenario in force, the ids, the counters) shows here, not in one thread.
//   build/fortisim_engine_bench [requests per round] [only the workloads whose name holds this]
//   build/fortisim_engine_bench --check: fewer requests; fails when a request of one thread
//   allocated in the last round (a test: issue 28's "no allocation per request" kept by ctest)
#include "server/core/engine/engine.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

using namespace fortisim;

namespace {

std::atomic<std::uint64_t> allocations{0};

const std::string import_body =
    R"({"d":{"__type":"SoftToken.ActivationLicenseRequest","__version":"4","license_activation_code":"DA8C-0508-1F31-4CF7-C990","serial_number":"FG4H0ETB20900993","__device_version":"6.0","__device_build":"6325","__clustered_sns":[{"sn":"FG4H0ETB20900993"},{"sn":"FG4H0E5819900260"}]}})";
// FortiOS 7.4.10 b5309, as captured (docs/protocol.md §4.4).
const std::string provision_body =
    R"({ "d": { "__type": "SoftToken.ProvisionRequest", "__version": "4", "__device_version": "7.0", "__device_build": "5309", "serial_number": "FGT40FHA25099UXR", "__clustered_sns": [ { "sn": "FGT40FHA25099UXR" } ], "tokens": [ { "token": "FTKMOB5CA3C29179", "seed": "FC8CEE4B56D93C40D590ACBB958840AF2FE76117", "code_expire": 4320, "type": "totp", "period": 60, "digits": 6 } ] } })";
// The captured code EEIAI6ZLEYIRKOYV's last 8 bytes, as the app sends them.
const std::string phone_body =
    R"({"d":{"mobile_id":"0123456789abcdef","__type":"SoftToken.MobileProvisionRequest","token_activation_code":"047b2b2611153b15","registration_id":"bench-push-0001","__device_version":"4.9.9_IOS","__device_build":"100","__version":"5"}})";

core::http_request post(std::string_view path, const std::string& body) {
  return {"POST", path, body, "127.0.0.1", "directregistration.fortinet.com", 1, {}};
}

std::shared_ptr<const core::scenario> load(const char* name) {
  auto r = core::load_scenario_file(std::string(FORTISIM_SOURCE_DIR) + "/scenarios/" + name);
  if (!r.value) {
    std::fputs(r.describe().c_str(), stderr);
    std::exit(2);
  }
  return std::make_shared<const core::scenario>(std::move(*r.value));
}

/// The poll of the five tokens the captured import gives (their serials from its reply).
std::string poll_body(core::engine& e) {
  auto tokens = protocol::json::parse(e.handle(post(protocol::process_path, import_body)).body)["d"]["tokens"];
  protocol::json poll = {{"d",
                          {{"__type", "SoftToken.PollingRequest"},
                           {"__version", "4"},
                           {"serial_number", "FG4H0ETB20900993"},
                           {"tokens", protocol::json::array()}}}};
  for (const auto& t : tokens) poll["d"]["tokens"].push_back({{"token", t["token"]}});
  return poll.dump();
}

/// Answers `request` n times, three rounds; prints each round's time and allocations per request.
const char* only = "";
bool allocated = false;  // by a request of measure()'s last round

void measure(const char* name, core::engine& e, const core::http_request& request, int n) {
  if (!std::strstr(name, only)) return;
  core::http_outcome out;
  e.handle(request, out);
  if (out.status != 200 || out.body.find("\"d\"") == std::string::npos) {
    std::fprintf(stderr, "%s: unexpected answer %d %s\n", name, out.status, out.body.c_str());
    std::exit(1);
  }
  for (int round = 0; round < 3; ++round) {
    auto before = allocations.load();
    auto t = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) e.handle(request, out);
    auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count() / n;
    auto count = allocations.load() - before;
    allocated |= round == 2 && count > 0;  // by then whatever a worker keeps has grown
    std::printf("%-34s %6.2f µs per request, %6.2f allocations per request (%d requests)\n", name, us,
                static_cast<double>(count) / n, n);
  }
}

/// As measure(), with `request` answered n times by each of two threads at once, each into its own
/// outcome: µs of wall time per request answered (two answered at once: half a request's time when
/// they share nothing).
void measure_two(const char* name, core::engine& e, const core::http_request& request, int n) {
  if (!std::strstr(name, only)) return;
  for (int round = 0; round < 3; ++round) {
    auto before = allocations.load();
    auto t = std::chrono::steady_clock::now();
    auto worker = [&] {
      core::http_outcome out;
      for (int i = 0; i < n; ++i) e.handle(request, out);
    };
    std::thread other(worker);
    worker();
    other.join();
    auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count() / (2.0 * n);
    std::printf("%-34s %6.2f µs per request, %6.2f allocations per request (2 × %d requests)\n", name, us,
                static_cast<double>(allocations.load() - before) / (2.0 * n), n);
  }
}

}  // namespace

// The replaced operator new takes from malloc, so its delete gives back to free (GCC cannot see
// that the two are a pair).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

int main(int argc, char** argv) {
  bool check = argc > 1 && std::strcmp(argv[1], "--check") == 0;
  int n = check ? 1000 : argc > 1 ? std::atoi(argv[1]) : 100000;
  if (argc > 2) only = argv[2];
  {
    core::engine e(load("expired-license.json"));
    measure("refused import (expired-license)", e, post(protocol::process_path, import_body), n);
    measure_two("refused import, two threads", e, post(protocol::process_path, import_body), n);
  }
  {
    core::engine e(load("default.json"));
    e.handle(post(protocol::process_path, import_body));  // the first import binds
    measure("re-import (default)", e, post(protocol::process_path, import_body), n);
    std::string poll = poll_body(e);
    measure("poll of five tokens (default)", e, post(protocol::process_path, poll), n);
    measure_two("re-import, two threads", e, post(protocol::process_path, import_body), n);
  }
  {
    core::engine e(load("provision-7.4.10.json"));
    measure("provision (7.4.10 capture)", e, post(protocol::process_path, provision_body), n / 10);
    measure("phone (MobileProvisionRequest)", e, post(protocol::mobile_path, phone_body), n);
  }
  if (check && allocated) std::fputs("fortisim_engine_bench: a request allocated (above)\n", stderr);
  return check && allocated ? 1 : 0;
}
