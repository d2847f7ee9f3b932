// The verdict per device, from the real binary: a client that refuses the lab CA, one that trusts
// it, one that presents a FortiGate-like certificate, one that only asked DNS; GET /devices and
// the log's "device" events say what each did.
#include "prelude.hpp"

#include <doctest/doctest.h>

namespace {

/// The device GET /devices lists for `address`, or null.
json device(std::uint16_t admin, const std::string& address) {
  auto all = json::parse(control(admin, "GET", "/devices").second);
  for (const auto& d : all)
    if (d["address"] == address) return d;
  return nullptr;
}

}  // namespace

TEST_SUITE("devices") {

TEST_CASE("a verdict per device: refused our CA with the alert, trusted it, its certificate and serial, DNS only") {
  temp_folder dir("devices");
  served_binary p({"--scenario", source + "/scenarios/default.json", "--threads", "1", "--dns", "127.0.0.1:0",
                   "--client-cert", "request"});
  auto admin = p.admin_port();
  std::string port = std::to_string(p.port());
  std::string host = "directregistration.fortinet.com";
  std::string curl = "curl -sS --noproxy '*' --max-time 10 --resolve " + host + ":" + port + ":127.0.0.1 ";
  std::string url = " https://" + host + ":" + port + "/SoftToken/Provisioning.asmx/Process";
  auto body = dir.write("request.json", captured_request);
  // A certificate naming a FortiGate serial, self-signed: a CA that is not ours.
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
      "'/C=US/O=Lab/CN=FGT40FHA25099UXR' -keyout " +
      dir.file("fg-key.pem") + " -out " + dir.file("fg.pem") + " 2>&1");
  // 127.0.0.2 trusts only that one: it refuses our certificate (unknown CA).
  run(curl + "--interface 127.0.0.2 --cacert " + dir.file("fg.pem") + " --data-binary @" + body + url + " 2>&1");
  // 127.0.0.3 trusts the lab CA and presents that certificate.
  auto reply = run(curl + "--interface 127.0.0.3 --cacert " + p.ca() + " --cert " + dir.file("fg.pem") + " --key " +
                   dir.file("fg-key.pem") + " --data-binary @" + body + url + " 2>&1");
  CHECK(reply.find("ActivationLicenseResponse") != std::string::npos);
  // 127.0.0.4 only asks DNS.
  run("timeout 10 dig -b 127.0.0.4 @127.0.0.1 -p " + std::to_string(p.dns_port()) +
      " +time=3 +tries=1 +short fds1.fortinet.com 2>&1");

  // The log: one "device" event when each was first seen, and one when its verdict changed; a
  // verdict the log has said is in GET /devices (the same entry made both).
  std::vector<json> events;
  auto said = [&](const std::string& address, const std::string& verdict) {
    return std::count_if(events.begin(), events.end(),
                         [&](const json& e) { return e["address"] == address && e["verdict"] == verdict; });
  };
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!(said("127.0.0.2", "refused our certificate: unknown CA") && said("127.0.0.3", "trusts our certificate") &&
           said("127.0.0.4", "asked DNS, no TLS yet")) &&
         std::chrono::steady_clock::now() < deadline)
    if (auto e = p.next_event("device", 2s); !e.is_null()) events.push_back(e);
  CHECK(said("127.0.0.2", "refused our certificate: unknown CA") == 1);
  CHECK(said("127.0.0.3", "trusts our certificate") == 1);
  CHECK(said("127.0.0.4", "asked DNS, no TLS yet") == 1);

  auto refused = device(admin, "127.0.0.2");
  REQUIRE(refused.is_object());
  CHECK(refused["verdict"] == "refused our certificate: unknown CA");
  CHECK(refused["requests"] == 0);
  auto trusted = device(admin, "127.0.0.3");
  REQUIRE(trusted.is_object());
  CHECK(trusted["verdict"] == "trusts our certificate");
  CHECK(trusted["serial"] == "FG4H0ETB20900993");  // the request's serial_number outranks the certificate's CN
  CHECK(trusted["certificate"].get<std::string>().find("FGT40FHA25099UXR") != std::string::npos);
  CHECK(trusted["last_request"] == "activation_license -> 200");
  auto dns_only = device(admin, "127.0.0.4");
  REQUIRE(dns_only.is_object());
  CHECK(dns_only["verdict"] == "asked DNS, no TLS yet");
  CHECK(dns_only["names"] == json::array({"fds1.fortinet.com"}));
  CHECK(control(admin, "DELETE", "/journal").first == 200);
  CHECK(json::parse(control(admin, "GET", "/devices").second).empty());
}

TEST_CASE("a device's line follows the exchange that revealed it, in the log as in time") {
  // The device's observer ran before the log's: its line came first, stamped a millisecond
  // after the exchange line that followed it.
  served_binary p({"--scenario", source + "/scenarios/default.json", "--threads", "1"});
  REQUIRE(post_once(p.port(), captured_request).status == 200);
  auto d = p.next_event("device", 5s);
  REQUIRE(!d.is_null());
  CHECK(d["serial"] == "FG4H0ETB20900993");
  const std::string& before = p.proc().passed_over();  // the lines before the device's
  CAPTURE(before);
  CHECK(before.find("\"event\":\"exchange\"") != std::string::npos);
}
}
