// The certificate options of the real binary, checked with the openssl command line: `fortisim
// certs --export` and --key-type, OCSP staples as `openssl s_client -status` shows them, a client
// certificate request, and a TLS failure in the log with its SNI and the alert in words.
#include "pki/certs.hpp"
#include "prelude.hpp"

#include <doctest/doctest.h>
#include <openssl/x509.h>

#include <csignal>
#include <optional>

namespace {

/// What `openssl s_client` prints for one handshake with fortisim on `port` (bounded by timeout).
std::string s_client(const std::string& port, const std::string& args) {
  return run("timeout 10 openssl s_client -connect 127.0.0.1:" + port + " " + args + " </dev/null 2>&1");
}

/// "AB:CD:…" from openssl's "sha256 Fingerprint=AB:CD:…".
std::string fingerprint_of(const std::string& openssl_output) {
  auto at = openssl_output.find('=');
  if (at == std::string::npos) return "";
  auto line = openssl_output.substr(at + 1);
  return line.substr(0, line.find('\n'));
}

}  // namespace

TEST_SUITE("binary") {

TEST_CASE("fortisim certs --export writes the CA as PEM, DER and its SHA-256 fingerprint, as openssl sees them") {
  temp_folder data_folder("certs-data"), out_folder("certs-export");
  const std::string &data = data_folder.path(), &out = out_folder.path();
  auto printed = json::parse(run(std::string(FORTISIM_BINARY) + " certs --data " + data + " --export " + out));
  CHECK(printed["ca"] == data + "/ca.pem");
  CHECK(printed["key_type"] == "ecdsa");
  CHECK(printed["hosts"]["fds1.fortinet.com"] == data + "/ecdsa/hosts/fds1.fortinet.com.pem");
  CHECK(printed["export"]["der"] == out + "/fortisim-ca.cer");
  CHECK(read_file(out + "/fortisim-ca.pem") == read_file(data + "/ca.pem"));
  auto from_pem = fingerprint_of(run("openssl x509 -in " + out + "/fortisim-ca.pem -noout -fingerprint -sha256"));
  auto from_der =
      fingerprint_of(run("openssl x509 -inform DER -in " + out + "/fortisim-ca.cer -noout -fingerprint -sha256"));
  CHECK(from_pem.size() == 95);
  CHECK(from_der == from_pem);  // the DER parses, and is the same certificate
  CHECK(read_file(out + "/fortisim-ca.sha256") == from_pem + "\n");
  CHECK(printed["sha256"] == from_pem);
  auto der = read_file(out + "/fortisim-ca.cer");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
  CHECK(cert != nullptr);

  // RSA leaves beside the ECDSA ones, signed by the same CA.
  auto rsa = json::parse(run(std::string(FORTISIM_BINARY) + " certs --data " + data + " --key-type rsa"));
  CHECK(rsa["key_type"] == "rsa");
  CHECK(rsa["sha256"] == from_pem);
  std::string leaf = rsa["hosts"]["fds1.fortinet.com"];
  auto text = run("openssl x509 -in " + leaf + " -noout -text");
  CHECK(text.find("Public-Key: (2048 bit)") != std::string::npos);
  CHECK(text.find("DNS:fds1.fortinet.com") != std::string::npos);
  CHECK(run("openssl verify -CAfile " + data + "/ca.pem " + leaf).find(": OK") != std::string::npos);
  CHECK(run(std::string(FORTISIM_BINARY) + " certs --data " + data + " --key-type dsa 2>&1").find("dsa") !=
        std::string::npos);
}

TEST_CASE("a certificate the disk refuses is named, leaves nothing half written, and is made at the next run") {
  temp_folder data_folder("certs-full");
  const std::string& data = data_folder.path();
  // No file may grow past 1,200 bytes (SIGXFSZ ignored: the write fails with EFBIG, as on a full
  // disk): the CA (977 bytes) and the keys fit, a leaf's certificate with the CA's does not.
  auto refused = run("sh -c \"trap '' XFSZ; exec prlimit --fsize=1200 " + std::string(FORTISIM_BINARY) +
                     " certs --data " + data + "\" 2>&1; echo \"exit $?\"");
  CHECK(refused.find(".pem: File too large") != std::string::npos);
  CHECK(refused.find("exit 0") == std::string::npos);
  CHECK(run("find " + data + " -name '*.tmp'") == "");
  auto made = json::parse(run(std::string(FORTISIM_BINARY) + " certs --data " + data));
  std::string leaf = made["hosts"]["fds1.fortinet.com"];
  CHECK(run("openssl verify -CAfile " + data + "/ca.pem " + leaf).find(": OK") != std::string::npos);
  CHECK(run("openssl x509 -in " + leaf + " -noout -pubkey") ==
        run("openssl pkey -in " + data + "/ecdsa/hosts/fds1.fortinet.com-key.pem -pubout"));  // key and cert agree
}

TEST_CASE("certs --force refused by the disk, or run many at once, leaves each key with its certificate") {
  temp_folder data_folder("certs-pairs");
  const std::string& data = data_folder.path();
  const std::string certs = std::string(FORTISIM_BINARY) + " certs --data " + data;
  auto pair_of = [&](const std::string& cert, const std::string& key) {
    return run("openssl x509 -in " + cert + " -noout -pubkey") == run("openssl pkey -in " + key + " -pubout");
  };
  run(certs);
  auto ca = read_file(data + "/ca.pem");
  // The CA's key (241 bytes) fits under the limit, its certificate (977) does not: neither is replaced.
  run("sh -c \"trap '' XFSZ; exec prlimit --fsize=300 " + certs + " --force\" 2>&1");
  CHECK(read_file(data + "/ca.pem") == ca);
  CHECK(pair_of(data + "/ca.pem", data + "/ca-key.pem"));
  // Eight at once: one after another, each folder whole.
  run("for i in 1 2 3 4 5 6 7 8; do " + certs + " --force >/dev/null 2>&1 & done; wait");
  CHECK(pair_of(data + "/ca.pem", data + "/ca-key.pem"));
  std::string leaf = data + "/ecdsa/hosts/fds1.fortinet.com.pem";
  CHECK(pair_of(leaf, data + "/ecdsa/hosts/fds1.fortinet.com-key.pem"));
  CHECK(run("openssl verify -CAfile " + data + "/ca.pem " + leaf).find(": OK") != std::string::npos);
  CHECK(run("find " + data + " -name '*.tmp*'") == "");
  // A key that is not the CA's is named at once, not found out by every client's handshake.
  run("cp " + data + "/ecdsa/server-key.pem " + data + "/ca-key.pem");
  CHECK(run(certs + " 2>&1").find("ca-key.pem is not the key of " + data + "/ca.pem") != std::string::npos);
}

TEST_CASE("certs --force warns when a server serves from the folder, and not once it has stopped") {
  temp_folder data("certs-served");
  const std::string force = std::string(FORTISIM_BINARY) + " certs --force --data " + data.path() + " 2>&1 >/dev/null";
  std::optional<served_binary> server;
  server.emplace(std::vector<std::string>{"--data", data.path(), "--threads", "1"});
  CHECK(run(force).find("warning: a running fortisim serves from " + data.path()) != std::string::npos);
  server.reset();  // SIGTERM; a server killed outright lets go of the folder too (the kernel's lock)
  CHECK(run(force) == "");
}

TEST_CASE("the lab CA permits the Fortinet domains, localhost and loopback alone (X.509 name constraints)") {
  temp_folder data_folder("certs-constraints"), other_folder("certs-permit");
  const std::string &data = data_folder.path(), &other = other_folder.path();
  const std::string fortisim = std::string(FORTISIM_BINARY) + " certs --data ";
  auto made = json::parse(run(fortisim + data));
  auto constraints = run("openssl x509 -in " + data + "/ca.pem -noout -ext nameConstraints");
  CHECK(constraints.find("critical") != std::string::npos);
  for (const char* permitted : {"DNS:fortinet.com", "DNS:fortinet.net", "DNS:fortiguard.net", "DNS:localhost",
                                "DNS:fortisim.invalid", "IP:127.0.0.0/255.0.0.0"})
    CHECK_MESSAGE(constraints.find(permitted) != std::string::npos, permitted);
  CHECK(constraints.find("IP:") != constraints.rfind("IP:"));              // ::1 too
  CHECK(constraints.find("email:fortisim.invalid") != std::string::npos);  // no signed mail
  CHECK(constraints.find("URI:fortisim.invalid") != std::string::npos);
  auto usage = run("openssl x509 -in " + data + "/ca.pem -noout -ext extendedKeyUsage");
  CHECK(usage.find("TLS Web Server Authentication, TLS Web Client Authentication") != std::string::npos);
  // Every leaf fortisim makes is within them; one for another name, signed by the same CA, is not.
  auto verify = [&](const std::string& ca, const std::string& leaf) {
    return run("openssl verify -CAfile " + ca + " " + leaf + " 2>&1");
  };
  CHECK(verify(data + "/ca.pem", data + "/ecdsa/server.pem").find(": OK") != std::string::npos);
  for (const auto& host : made["hosts"].items()) {  // no structured binding: CHECK_MESSAGE's lambda (clang 14)
    std::string name = host.key(), leaf = host.value();
    CHECK_MESSAGE(verify(data + "/ca.pem", leaf).find(": OK") != std::string::npos, name);
  }
  auto ca = pki::load_cert_and_key(data + "/ca.pem", data + "/ca-key.pem");
  auto write = [&](const std::string& file, const std::vector<std::string>& names) {
    return data_folder.write(file, pki::make_server_cert(ca, names, -60, 3600).cert_pem());
  };
  CHECK(verify(data + "/ca.pem", write("outside.pem", {"www.example.com"})).find("permitted subtree violation") !=
        std::string::npos);
  CHECK(verify(data + "/ca.pem", write("lan.pem", {"192.0.2.10"})).find("permitted subtree violation") !=
        std::string::npos);
  // The wrong_name fault's leaf is permitted: a client refuses it for its name, not for the CA.
  CHECK(verify(data + "/ca.pem", write("wrong.pem", {"wrong-name.fortisim.invalid"})).find(": OK") !=
        std::string::npos);

  // --ca-permit: more names for a new CA (--force when one exists); "any": none at all.
  CHECK(run(fortisim + data + " --ca-permit lab.example.net 2>&1").find("add --force") != std::string::npos);
  CHECK(json::parse(run(fortisim + other + " --ca-permit lab.example.net --ca-permit 192.0.2.0/24")).contains("ca"));
  auto more = run("openssl x509 -in " + other + "/ca.pem -noout -ext nameConstraints");
  CHECK(more.find("DNS:lab.example.net") != std::string::npos);
  CHECK(more.find("IP:192.0.2.0/255.255.255.0") != std::string::npos);
  CHECK(more.find("DNS:fortinet.com") != std::string::npos);
  CHECK(json::parse(run(fortisim + other + " --force --ca-permit any")).contains("ca"));
  CHECK(run("openssl x509 -in " + other + "/ca.pem -noout -ext nameConstraints").find("Name Constraints") ==
        std::string::npos);
  CHECK(run(fortisim + other + " --force --ca-permit 'a b' 2>&1").find("--ca-permit a b: expected a host name") !=
        std::string::npos);
  for (const char* wide : {"192.0.2.0/40", "com", "0.0.0.0/0", "::/8", "any --ca-permit lab.example.net"})
    CHECK_MESSAGE(run(fortisim + other + " --force --ca-permit " + wide + " 2>&1").find("expected a host name") !=
                      std::string::npos,
                  wide);
  CHECK(json::parse(run(fortisim + other + " --force --ca-permit Lab.Example.NET.")).contains("ca"));
  CHECK(run("openssl x509 -in " + other + "/ca.pem -noout -ext nameConstraints").find("DNS:lab.example.net\n") !=
        std::string::npos);
}

TEST_CASE("openssl s_client -status shows the OCSP staple each host gets, and a reload changes it") {
  temp_folder dir("ocsp");
  std::string scenario = dir.write("tls.json", R"({"tls": {"hosts": {"fds1.fortinet.com": {"ocsp": "revoked"}}}})");
  served_binary p({"--scenario", scenario, "--threads", "1"});
  std::string port = std::to_string(p.port());
  std::string ca = " -CAfile " + p.ca() + " -status";
  auto good = s_client(port, "-servername directregistration.fortinet.com" + ca);
  CHECK(good.find("OCSP Response Status: successful") != std::string::npos);
  CHECK(good.find("Cert Status: good") != std::string::npos);
  CHECK(good.find("Verify return code: 0 (ok)") != std::string::npos);
  CHECK(s_client(port, "-servername fds1.fortinet.com" + ca).find("Cert Status: revoked") != std::string::npos);
  dir.write("tls.json", R"({"tls": {"ocsp": "none"}})");
  p.signal(SIGHUP);
  CHECK(p.next_event("reload", 10s)["ok"] == true);
  CHECK(s_client(port, "-servername fds1.fortinet.com" + ca).find("OCSP response: no response sent") !=
        std::string::npos);
  CHECK(p.stop() == 0);
}

TEST_CASE("--key-type rsa and --client-cert request, as openssl s_client sees them") {
  temp_folder data("rsa-serve");
  // Nine RSA keys take seconds on a busy machine: made beforehand, so that start-up only loads them.
  REQUIRE(json::parse(run(std::string(FORTISIM_BINARY) + " certs --key-type rsa --data " + data.path()))["key_type"] ==
          "rsa");
  served_binary p({"--scenario", source + "/scenarios/default.json", "--data", data.path(), "--threads", "1",
                   "--key-type", "rsa", "--client-cert", "request"});
  std::string port = std::to_string(p.port());
  auto out = s_client(port, "-tls1_2 -servername globalftm.fortinet.net -CAfile " + p.ca());
  CHECK(out.find("Server public key is 2048 bit") != std::string::npos);
  CHECK(out.find("subject=O = fortisim lab (not Fortinet), CN = globalftm.fortinet.net") != std::string::npos);
  CHECK(out.find("Client Certificate Types") != std::string::npos);  // it asked
  CHECK(out.find("Verify return code: 0 (ok)") != std::string::npos);
  CHECK(p.stop() == 0);
}

TEST_CASE("a TLS failure is logged with its SNI, the client's address and the alert in words") {
  served_binary p({"--scenario", source + "/scenarios/default.json", "--threads", "1"});
  std::string data = p.folder().path();
  std::string port = std::to_string(p.port());
  // A client that trusts another CA (its own, say, as a stock FortiGate trusts Fortinet's).
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other -days 1 -keyout " + data +
      "/other-key.pem -out " + data + "/other.pem 2>&1");
  auto out =
      s_client(port, "-servername fortinet-ca2.fortinet.com -verify_return_error -CAfile " + data + "/other.pem");
  CHECK(out.find("self-signed certificate in certificate chain") != std::string::npos);  // the lab CA
  json line;
  for (int i = 0; i < 20 && (line.is_null() || line["stage"] != "tls"); ++i) line = p.next_event("exchange", 5s);
  REQUIRE(line.is_object());
  CHECK(line["stage"] == "tls");
  CHECK(line["sni"] == "fortinet-ca2.fortinet.com");
  CHECK(line["client_address"] == "127.0.0.1");
  CHECK(line["action"] == "the client refused our certificate: unknown CA");
  CHECK(p.stop() == 0);
}

}  // TEST_SUITE
