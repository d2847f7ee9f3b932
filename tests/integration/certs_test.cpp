// The TLS side over real handshakes on 127.0.0.1:0: the leaf chosen by SNI, RSA keys, each stapled
// OCSP state per host, client certificates journaled, TLS failures journaled with their SNI and
// the alert in words, and the CA from the control API.
#include "../support/temp_folder.hpp"
#include "pki/lab.hpp"
#include "process.hpp"
#include "tls_probe.hpp"

#include "protocol/hosts.hpp"

#include <doctest/doctest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

using namespace fortisim;
using namespace fortisim::test;
using protocol::json;

namespace {

/// The newest journal entry of stage `stage`, or null: waited for (up to 5 s), since the server
/// may learn of a handshake's end after the client.
json last_entry(test_server& srv, const std::string& stage) {
  auto entries = json::parse(control(srv.admin_port(), "GET", "/journal?wait_ms=5000&stage=" + stage).second);
  return entries.empty() ? json() : entries.back();
}

probe_options for_host(const std::string& sni, const std::string& ca) {
  probe_options o;
  o.sni = sni;
  o.ca = ca;
  return o;
}

std::function<void(net::server_config&)> with_client_cert(net::client_cert_mode m) {
  return [m](net::server_config& c) { c.client_cert = m; };
}

}  // namespace

TEST_SUITE("certs") {

TEST_CASE("SNI picks the host's own leaf, and no SNI or another name gets the fallback with every name") {
  test_server srv("{}");
  for (const auto& name : protocol::fortinet_host_names()) {
    CAPTURE(name);
    auto r = probe(srv.port(), for_host(name, srv.ca()));
    REQUIRE_MESSAGE(r.ok, r.detail);
    CHECK(r.verify_result == X509_V_OK);
    CHECK(dns_names_of(r.leaf.get()) == std::vector<std::string>{name});
  }
  auto upper = probe(srv.port(), for_host("FDS1.Fortinet.COM", srv.ca()));
  REQUIRE(upper.ok);
  CHECK(dns_names_of(upper.leaf.get()) == std::vector<std::string>{"fds1.fortinet.com"});
  std::vector<std::string> every_name = protocol::fortinet_host_names();
  every_name.push_back("localhost");
  for (const char* sni : {"", "lab.example.net"}) {
    CAPTURE(sni);
    auto o = for_host(sni, srv.ca());
    o.verify_name = "fds1.fortinet.com";
    auto r = probe(srv.port(), o);
    REQUIRE_MESSAGE(r.ok, r.detail);
    CHECK(r.verify_result == X509_V_OK);
    CHECK(dns_names_of(r.leaf.get()) == every_name);
  }
}

TEST_CASE("a start reads no host leaf: a missing one is made then, a stale one on the first handshake naming it") {
  temp_folder dir("lazy-leaves");
  auto lab = pki::ensure_lab_certs(dir.path());
  const auto& fds1 = lab.hosts[1];
  const auto& push = lab.hosts[6];
  REQUIRE(fds1.name == "fds1.fortinet.com");
  REQUIRE(push.name == "push.fortinet.com");
  dir.write("ecdsa/hosts/fds1.fortinet.com.pem", "not a certificate");
  std::filesystem::remove(push.cert);
  test_server srv("{}", 2, std::nullopt, [&](net::server_config& c) { c.data_dir = dir.path(); });
  CHECK(std::filesystem::exists(push.cert));           // made at start: the folder holds every leaf
  CHECK(read_file(fds1.cert) == "not a certificate");  // not read yet
  // Four clients name the host at once: one leaf is made, written, and served to each of them.
  std::vector<probe_result> first(4);
  std::vector<std::thread> clients;
  for (auto& r : first) clients.emplace_back([&] { r = probe(srv.port(), for_host("fds1.fortinet.com", srv.ca())); });
  for (auto& t : clients) t.join();
  REQUIRE(read_file(fds1.cert).starts_with("-----BEGIN CERTIFICATE-----"));
  auto written = pki::load_cert_and_key(fds1.cert, fds1.key).cert;
  for (const auto& r : first) {
    REQUIRE_MESSAGE(r.ok, r.detail);
    CHECK(r.verify_result == X509_V_OK);
    CHECK(dns_names_of(r.leaf.get()) == std::vector<std::string>{"fds1.fortinet.com"});
    CHECK(X509_cmp(r.leaf.get(), written.get()) == 0);
  }
  auto again = probe(srv.port(), for_host("fds1.fortinet.com", srv.ca()));  // kept: not made again
  REQUIRE_MESSAGE(again.ok, again.detail);
  CHECK(X509_cmp(again.leaf.get(), written.get()) == 0);
}

TEST_CASE("a server started before `certs --force` serves its own CA's leaves and leaves the new ones alone") {
  temp_folder dir("forced-under");
  auto lab = pki::ensure_lab_certs(dir.path());
  const auto& fds1 = lab.hosts[1];
  test_server srv("{}", 1, std::nullopt, [&](net::server_config& c) { c.data_dir = dir.path(); });
  auto served_ca = dir.write("served-ca.pem", read_file(lab.ca_cert));
  CHECK(pki::folder_served(dir.path()));                          // what lets `certs --force` warn
  pki::ensure_lab_certs(dir.path(), pki::key_type::ecdsa, true);  // a new CA and new leaves
  auto new_leaf = read_file(fds1.cert);
  auto r = probe(srv.port(), for_host("fds1.fortinet.com", served_ca));
  REQUIRE_MESSAGE(r.ok, r.detail);
  CHECK(r.verify_result == X509_V_OK);  // signed by the CA the server serves
  CHECK(dns_names_of(r.leaf.get()) == std::vector<std::string>{"fds1.fortinet.com"});
  CHECK(read_file(fds1.cert) == new_leaf);
  // The CA to trust is the one it signs with, not the folder's new one.
  CHECK(control(srv.admin_port(), "GET", "/ca").second == read_file(served_ca));
  CHECK(control(srv.admin_port(), "GET", "/ca").second != read_file(lab.ca_cert));
}

TEST_CASE("a host leaf that cannot be made: the fallback, which names that host too, and a notice saying why") {
  temp_folder dir("unmakeable-leaf");
  auto lab = pki::ensure_lab_certs(dir.path());
  const auto& fds1 = lab.hosts[1];
  std::filesystem::remove(fds1.cert);
  std::filesystem::create_directory(fds1.cert);  // a folder, not empty, where the leaf's file goes
  dir.write("ecdsa/hosts/fds1.fortinet.com.pem/in-the-way", "");
  test_server srv("{}", 1, std::nullopt, [&](net::server_config& c) { c.data_dir = dir.path(); });
  auto feed = srv.engine().feed().subscribe(16, [] {});
  auto r = probe(srv.port(), for_host("fds1.fortinet.com", srv.ca()));
  REQUIRE_MESSAGE(r.ok, r.detail);
  CHECK(r.verify_result == X509_V_OK);
  std::vector<std::string> every_name = protocol::fortinet_host_names();
  every_name.push_back("localhost");
  CHECK(dns_names_of(r.leaf.get()) == every_name);  // the fallback
  std::string events;
  feed->take(events, 0);
  CHECK(events.find(R"("event":"tls")") != std::string::npos);
  CHECK(events.find(R"("host":"fds1.fortinet.com")") != std::string::npos);
  CHECK(events.find("fds1.fortinet.com.pem") != std::string::npos);        // the error names the file
  auto soon = probe(srv.port(), for_host("fds1.fortinet.com", srv.ca()));  // not tried again within 10 s
  REQUIRE_MESSAGE(soon.ok, soon.detail);
  CHECK(dns_names_of(soon.leaf.get()) == every_name);
  events.clear();
  feed->take(events, 0);
  CHECK(events.find(R"("host":"fds1.fortinet.com")") == std::string::npos);
  auto other = probe(srv.port(), for_host("push.fortinet.com", srv.ca()));  // the other hosts keep their own
  REQUIRE_MESSAGE(other.ok, other.detail);
  CHECK(dns_names_of(other.leaf.get()) == std::vector<std::string>{"push.fortinet.com"});
}

TEST_CASE("a FIFO where a host's key goes holds no worker: that host gets the fallback, with a notice") {
  temp_folder dir("fifo-leaf");
  auto lab = pki::ensure_lab_certs(dir.path());
  const auto& push = lab.hosts[6];
  std::filesystem::remove(push.key);
  REQUIRE(::mkfifo(push.key.c_str(), 0600) == 0);  // opening it to read would wait for a writer
  test_server srv("{}", 1, std::nullopt, [&](net::server_config& c) { c.data_dir = dir.path(); });
  auto feed = srv.engine().feed().subscribe(16, [] {});
  auto r = probe(srv.port(), for_host("push.fortinet.com", srv.ca()));
  REQUIRE_MESSAGE(r.ok, r.detail);
  CHECK(r.verify_result == X509_V_OK);
  CHECK(dns_names_of(r.leaf.get()).size() == protocol::fortinet_host_names().size() + 1);  // the fallback
  std::string events;
  feed->take(events, 0);
  CHECK(events.find("push.fortinet.com-key.pem: is not a regular file") != std::string::npos);
  auto other = probe(srv.port(), for_host("fds1.fortinet.com", srv.ca()));  // the worker still serves
  REQUIRE_MESSAGE(other.ok, other.detail);
  CHECK(dns_names_of(other.leaf.get()) == std::vector<std::string>{"fds1.fortinet.com"});
}

TEST_CASE(
    "a returning client resumes its TLS session (a ticket under TLS 1.3, under TLS 1.2 too) with its host's leaf") {
  test_server srv("{}");
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    CAPTURE(version);
    auto o = for_host("directregistration.fortinet.com", srv.ca());
    o.max_tls = version;
    o.request = true;
    auto first = probe(srv.port(), o);
    REQUIRE_MESSAGE(first.ok, first.detail);
    CHECK_FALSE(first.resumed);
    REQUIRE(first.session);
    o.resume = first.session;
    auto again = probe(srv.port(), o);
    REQUIRE_MESSAGE(again.ok, again.detail);
    CHECK(again.resumed);
    CHECK(again.verify_result == X509_V_OK);
    CHECK(dns_names_of(again.leaf.get()) == std::vector<std::string>{"directregistration.fortinet.com"});
  }
}

TEST_CASE("--key-type rsa: RSA 2048 leaves, a TLS 1.2 client with RSA-only cipher suites connects") {
  test_server srv("{}", 1, std::nullopt, [](net::server_config& c) { c.lab_key = pki::key_type::rsa; });
  // RSA signatures (ECDHE-RSA) and RSA key exchange, as older FortiOS builds offer.
  for (const char* ciphers : {"ECDHE-RSA-AES128-GCM-SHA256", "AES128-GCM-SHA256"}) {
    CAPTURE(ciphers);
    auto o = for_host("fds1.fortinet.com", srv.ca());
    o.max_tls = TLS1_2_VERSION;
    o.ciphers = ciphers;
    o.request = true;
    auto r = probe(srv.port(), o);
    REQUIRE_MESSAGE(r.ok, r.detail);
    CHECK(r.verify_result == X509_V_OK);
    CHECK(r.cipher == ciphers);
    CHECK(key_of(r.leaf.get()) == "rsa 2048");
    CHECK(dns_names_of(r.leaf.get()) == std::vector<std::string>{"fds1.fortinet.com"});
  }
  auto modern = probe(srv.port(), for_host("", srv.ca()));  // the fallback is RSA too
  CHECK(key_of(modern.leaf.get()) == "rsa 2048");
  // The ECDSA server cannot serve that client, and says why.
  test_server ecdsa("{}");
  auto o = for_host("fds1.fortinet.com", ecdsa.ca());
  o.max_tls = TLS1_2_VERSION;
  o.ciphers = "AES128-GCM-SHA256";
  CHECK_FALSE(probe(ecdsa.port(), o).ok);
  auto e = last_entry(ecdsa, "tls");
  CHECK(e["action"] == "no cipher suite in common with the client");
  CHECK(e["sni"] == "fds1.fortinet.com");
}

TEST_CASE("one set of leaves per key type: switching back and forth makes nothing new, the CA stays") {
  temp_folder dir("keytypes");
  auto ecdsa = pki::ensure_lab_certs(dir.path());
  auto ca = read_file(ecdsa.ca_cert);
  auto ecdsa_leaf = read_file(ecdsa.hosts[1].cert);
  auto rsa = pki::ensure_lab_certs(dir.path(), pki::key_type::rsa);
  CHECK(rsa.hosts[1].cert != ecdsa.hosts[1].cert);
  auto rsa_leaf = read_file(rsa.hosts[1].cert);
  pki::ensure_lab_certs(dir.path());
  pki::ensure_lab_certs(dir.path(), pki::key_type::rsa);
  CHECK(read_file(ecdsa.hosts[1].cert) == ecdsa_leaf);
  CHECK(read_file(rsa.hosts[1].cert) == rsa_leaf);
  CHECK(read_file(ecdsa.ca_cert) == ca);  // an ECDSA CA signs the RSA leaves too
  CHECK((std::filesystem::status(rsa.hosts[1].key).permissions() & std::filesystem::perms::group_read) ==
        std::filesystem::perms::none);
  // --force makes a new CA: the other type's leaves, signed by the old one, are made anew when used.
  pki::ensure_lab_certs(dir.path(), pki::key_type::ecdsa, true);
  CHECK(read_file(ecdsa.ca_cert) != ca);
  pki::ensure_lab_certs(dir.path(), pki::key_type::rsa);
  CHECK(read_file(rsa.hosts[1].cert) != rsa_leaf);
}

TEST_CASE(
    "OCSP stapling: good by default, revoked, unknown or none per host, signed by the lab CA, and a reload changes "
    "it") {
  test_server srv(R"({"tls": {"hosts": {"fds1.fortinet.com": {"ocsp": "revoked"},
                                        "globalftm.fortinet.net": {"ocsp": "unknown"},
                                        "push.fortinet.com": {"ocsp": "none"}}}})");
  struct row {
    const char* sni;
    const char* ocsp;
  };
  for (int max_tls : {TLS1_2_VERSION, 0}) {
    for (auto [sni, ocsp] : {row{"directregistration.fortinet.com", "good"}, row{"fds1.fortinet.com", "revoked"},
                             row{"globalftm.fortinet.net", "unknown"}, row{"push.fortinet.com", ""}, row{"", "good"}}) {
      CAPTURE(max_tls);
      const auto& sni_ = sni;  // clang 14 cannot capture a structured binding
      CAPTURE(sni_);
      auto o = for_host(sni, srv.ca());
      if (o.sni.empty()) o.verify_name = "fortinet-ca2.fortinet.com";
      o.status_request = true;
      o.max_tls = max_tls;
      auto r = probe(srv.port(), o);
      REQUIRE_MESSAGE(r.ok, r.detail);
      CHECK(r.ocsp == ocsp);
      CHECK(r.ocsp_signed_by_ca == (std::string(ocsp) != ""));
    }
  }
  auto unasked = probe(srv.port(), for_host("directregistration.fortinet.com", srv.ca()));
  CHECK(unasked.ocsp.empty());  // stapled only for clients that ask
  srv.engine().reload(
      scenario_from(R"({"tls": {"ocsp": "none", "hosts": {"push.fortinet.com": {"ocsp": "revoked"}}}})"));
  auto o = for_host("directregistration.fortinet.com", srv.ca());
  o.status_request = true;
  CHECK(probe(srv.port(), o).ocsp.empty());
  o.sni = "push.fortinet.com";
  CHECK(probe(srv.port(), o).ocsp == "revoked");
}

TEST_CASE("with --cert and --key of your own, one chain for every name and no staple") {
  auto lab = pki::ensure_lab_certs(test_data_dir());
  test_server srv("{}", 1, std::nullopt, [&](net::server_config& c) {
    c.cert = lab.server_cert;
    c.key = lab.server_key;
  });
  CHECK(srv.ca().empty());
  auto o = for_host("fds1.fortinet.com", lab.ca_cert);
  o.status_request = true;
  auto r = probe(srv.port(), o);
  REQUIRE_MESSAGE(r.ok, r.detail);
  CHECK(dns_names_of(r.leaf.get()).size() == protocol::fortinet_host_names().size() + 1);
  CHECK(r.ocsp.empty());
  CHECK(control(srv.admin_port(), "GET", "/ca").first == 404);
}

TEST_CASE("--client-cert request: the certificate a FortiGate presents is journaled, and none is accepted too") {
  test_server srv("{}", 1, std::nullopt, with_client_cert(net::client_cert_mode::request));
  // A device certificate from a CA fortisim has never seen: a lab must see it, not refuse it.
  auto device = pki::make_client_cert(pki::make_ca("fortisim lab device CA", 1), "FGT40FHA25099UXR");
  for (int max_tls : {TLS1_2_VERSION, 0}) {
    CAPTURE(max_tls);
    auto o = for_host("fds1.fortinet.com", srv.ca());
    o.certificate = &device;
    o.request = true;
    o.max_tls = max_tls;
    REQUIRE_MESSAGE(probe(srv.port(), o).ok, "");
    auto e = last_entry(srv, "tls");
    CHECK(e["action"] == "client certificate");
    CHECK(e["outcome"] == "handshake");
    CHECK(e["client_cert"] == json{{"subject", "CN=FGT40FHA25099UXR,O=fortisim lab (not Fortinet)"},
                                   {"issuer", "CN=fortisim lab device CA,O=fortisim lab (not Fortinet)"}});
    CHECK(e["sni"] == "fds1.fortinet.com");
    CHECK(e["client_address"] == "127.0.0.1");
    CHECK(last_entry(srv, "http")["client_cert"] == e["client_cert"]);  // and on every request of the connection
  }
  auto o = for_host("fds1.fortinet.com", srv.ca());
  o.request = true;
  REQUIRE(probe(srv.port(), o).ok);
  CHECK(last_entry(srv, "tls")["action"] == "no client certificate");
  CHECK(last_entry(srv, "tls")["client_cert"].is_null());
}

TEST_CASE("--client-cert require: no certificate fails the handshake, journaled with its SNI") {
  test_server srv("{}", 1, std::nullopt, with_client_cert(net::client_cert_mode::require));
  for (int max_tls : {TLS1_2_VERSION, 0}) {
    CAPTURE(max_tls);
    auto o = for_host("globalftm.fortinet.net", srv.ca());
    o.request = true;
    o.max_tls = max_tls;
    CHECK_FALSE(probe(srv.port(), o).ok);
    auto e = last_entry(srv, "tls");
    CHECK(e["action"] == "the client presented no certificate (--client-cert require)");
    CHECK(e["sni"] == "globalftm.fortinet.net");
    CHECK(e["client_address"] == "127.0.0.1");
  }
  auto device = pki::make_client_cert(pki::ensure_lab_ca(test_data_dir()), "FGT60FTK2209ABCD");
  auto o = for_host("globalftm.fortinet.net", srv.ca());
  o.certificate = &device;
  o.request = true;
  REQUIRE(probe(srv.port(), o).ok);
  CHECK(last_entry(srv, "tls")["client_cert"]["subject"].get<std::string>().starts_with("CN=FGT60FTK2209ABCD,"));
}

TEST_CASE("a client that does not trust the lab CA: journaled with its SNI and the alert in words") {
  temp_folder dir("stranger-ca");
  auto stranger = dir.write("ca.pem", pki::make_ca("a CA nobody uses", 1).cert_pem());
  // Without TLS rules the SNI comes from the handshake; with them, from the peeked ClientHello.
  for (std::string scenario :
       {"{}", R"({"rules": [{"when": {"sni": "nothing.lab"}, "then": {"action": "tls_alert"}}]})"}) {
    CAPTURE(scenario);
    test_server srv(scenario);
    auto r = probe(srv.port(), for_host("fds1.fortinet.com", stranger));
    CHECK_FALSE(r.ok);
    // The chain ends in the lab CA, which this client does not trust.
    CHECK(r.verify_result == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
    auto e = last_entry(srv, "tls");
    CHECK(e["action"] == "the client refused our certificate: unknown CA");
    CHECK(e["sni"] == "fds1.fortinet.com");
    CHECK(e["client_address"] == "127.0.0.1");
    auto metrics = control(srv.admin_port(), "GET", "/metrics").second;
    CHECK(metrics.find(R"(fortisim_tls_failures_total{reason="the client refused our certificate: unknown CA"} 1)") !=
          std::string::npos);
  }
}

TEST_CASE("a tls_cert fault's certificate wins over the host's leaf, and the client's refusal is journaled") {
  test_server srv(
      R"({"rules": [{"when": {"sni": "fds1.fortinet.com"}, "then": {"action": "tls_cert", "cert": "expired"}}]})");
  auto r = probe(srv.port(), for_host("fds1.fortinet.com", srv.ca()));
  CHECK_FALSE(r.ok);
  CHECK(r.verify_result == X509_V_ERR_CERT_HAS_EXPIRED);
  // One entry: the rule, its action, and the client's verdict on it.
  auto e = last_entry(srv, "tls");
  CHECK(e["action"] == "tls_cert");
  CHECK(e["outcome"] == "client_refused");
  CHECK(e["reason"] == "the client refused our certificate: certificate expired");
  CHECK(json::parse(control(srv.admin_port(), "GET", "/journal/count?stage=tls").second)["count"] == 1);
  // A client that does not verify sees the certificate (a failed verification keeps none).
  auto seen = probe(srv.port(), for_host("fds1.fortinet.com", ""));
  REQUIRE_MESSAGE(seen.ok, seen.detail);
  REQUIRE(seen.leaf);
  CHECK(dns_names_of(seen.leaf.get()).size() > 1);  // the fault's certificate, not fds1's own leaf
  CHECK(X509_cmp_current_time(X509_get0_notAfter(seen.leaf.get())) < 0);
}

TEST_CASE("a client that closes during the handshake, and one that never finishes it") {
  test_server srv("{}");  // handshake timeout 1.5 s in tests
  int fd = connect_loopback(srv.port(), std::chrono::milliseconds(5000));
  REQUIRE(fd >= 0);
  const char partial[] = {0x16, 0x03, 0x01, 0x00, 0x40, 0x01};  // the start of a ClientHello
  ::send(fd, partial, sizeof partial, MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  char buf[64];
  while (::recv(fd, buf, sizeof buf, 0) > 0) {
  }
  ::close(fd);
  CHECK(last_entry(srv, "tls")["action"] == "the client closed the connection during the handshake");
  CHECK(ms_until_closed(srv.port(), std::chrono::milliseconds(6000)).has_value());
  CHECK(last_entry(srv, "tls")["action"] == "no handshake within 1500 ms");
}

TEST_CASE("GET /ca: PEM, DER or the SHA-256 fingerprint, and any other format or parameter is refused") {
  test_server srv("{}");
  auto admin = srv.admin_port();
  auto pem = read_file(srv.ca());
  auto ca = pki::certificate_of_pem(pem);
  REQUIRE(ca);
  CHECK(control(admin, "GET", "/ca").second == pem);
  CHECK(control(admin, "GET", "/ca?format=pem").second == pem);
  auto der = control(admin, "GET", "/ca?format=der");
  CHECK(der.first == 200);
  CHECK(der.second == pki::der_of(ca.get()));
  auto sha = control(admin, "GET", "/ca?format=sha256");
  CHECK(sha.first == 200);
  CHECK(sha.second == pki::sha256_fingerprint(ca.get()) + "\n");
  CHECK(sha.second.size() == 32 * 3);
  for (const char* bad : {"/ca?format=xml", "/ca?format=", "/ca?fmt=der", "/ca?format=der&x=1"}) {
    CAPTURE(bad);
    CHECK(control(admin, "GET", bad).first == 400);
  }
}

}  // TEST_SUITE
