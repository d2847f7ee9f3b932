// Micro-benchmark of the engine alone, without sockets or TLS: the captured licence import
// answered from scenarios/expired-license.json, timed over many calls, into one outcome reused
// as a connection reuses it. Prints µs per request.
//   build/fortisim_engine_bench [scenario] [requests]
#include "server/core/engine/engine.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace fortisim;

int main(int argc, char** argv) {
  std::string file = argc > 1 ? argv[1] : std::string(FORTISIM_SOURCE_DIR) + "/scenarios/expired-license.json";
  int n = argc > 2 ? std::atoi(argv[2]) : 200000;
  auto r = core::load_scenario_file(file);
  if (!r.value) {
    std::fputs(r.describe().c_str(), stderr);
    return 2;
  }
  core::engine e(std::make_shared<const core::scenario>(std::move(*r.value)));
  const std::string body =
      R"({"d":{"__type":"SoftToken.ActivationLicenseRequest","__version":"4","license_activation_code":"DA8C-0508-1F31-4CF7-C990","serial_number":"FG4H0ETB20900993","__device_version":"6.0","__device_build":"6325","__clustered_sns":[{"sn":"FG4H0ETB20900993"},{"sn":"FG4H0E5819900260"}]}})";
  std::size_t bytes = 0;
  core::http_outcome out;
  for (int round = 0; round < 3; ++round) {
    auto t = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      e.handle({"POST", protocol::process_path, body, "127.0.0.1", "directregistration.fortinet.com", 1, {}}, out);
      bytes += out.body.size();
    }
    auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count() / n;
    std::printf("engine::handle: %.2f us per request (%d requests)\n", us, n);
  }
  return bytes == 0;
}
