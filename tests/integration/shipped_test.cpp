// Each shipped scenario, served by the binary, shows curl and openssl s_client the symptom its
// README promises.
#include "prelude.hpp"

#include <doctest/doctest.h>

namespace {

const std::string fg = "directregistration.fortinet.com";

/// The binary serving one shipped scenario, and curl pointed at it as a FortiGate would call.
class served {
 public:
  explicit served(const std::string& scenario)
      : p_({"--scenario", source + "/scenarios/" + scenario}),
        data_(p_.folder().path()),
        port_(std::to_string(p_.port())) {
    p_.folder().write("import.json", captured_request);
    p_.folder().write(
        "hw.json",
        R"({"d":{"__type":"SoftToken.HardwareActivationRequest","__version":"4","serial_number":"FG1","tokens":[{"token":"FTK2000000000001"}]}})");
  }
  const std::string& port() const { return port_; }
  /// curl with the host name by --resolve and the lab CA trusted: the body, then
  /// "time=<seconds>" and "exit=<curl's exit code>".
  std::string curl(const std::string& host, const std::string& body_file = "import.json",
                   const std::string& options = "") const {
    return run("curl -sS --noproxy '*' " + options + " --max-time 10 -w '\\ntime=%{time_total}' --cacert " + data_ +
               "/ca.pem --resolve " + host + ":" + port_ + ":127.0.0.1 --data-binary @" + data_ + "/" + body_file +
               " https://" + host + ":" + port_ + "/SoftToken/Provisioning.asmx/Process 2>&1; echo \"\nexit=$?\"");
  }
  std::string curl_localhost() const {
    return run("curl -sS --noproxy '*' --max-time 10 --cacert " + data_ + "/ca.pem --data-binary @" + data_ +
               "/import.json https://localhost:" + port_ + "/SoftToken/Provisioning.asmx/Process 2>&1");
  }
  std::string s_client(const std::string& options) const {
    return run("openssl s_client " + options + " -connect 127.0.0.1:" + port_ + " </dev/null 2>&1");
  }

 private:
  served_binary p_;
  std::string data_;  // its folder: the lab CA, and the request bodies
  std::string port_;
};

bool has(const std::string& text, const std::string& words) { return text.find(words) != std::string::npos; }

}  // namespace

TEST_SUITE("shipped scenarios") {

TEST_CASE("default.json: a licence with tokens") {
  served s("default.json");
  CHECK(has(s.curl(fg), "\"tokens\":[{\"token\":\"FTKMOB"));
}

TEST_CASE("card-not-found.json: error 10") {
  served s("card-not-found.json");
  CHECK(has(s.curl(fg), "\"error_code\":10,\"error_message\":\"forticare license card not found\""));
}

TEST_CASE("refused.json: curl cannot connect") {
  served s("refused.json");
  auto out = s.curl(fg);
  CHECK(has(out, "Couldn't connect to server"));  // curl 7.88's words for ECONNREFUSED
  CHECK(has(out, "exit=7"));
}

TEST_CASE("flaky.json: two resets, then a licence") {
  served s("flaky.json");
  for (int i = 0; i < 2; ++i) {
    auto out = s.curl(fg);
    CAPTURE(out);
    CHECK(has(out, "Connection reset by peer"));
    CHECK(has(out, "exit=56"));
  }
  CHECK(has(s.curl(fg), "\"tokens\":[{"));
}

TEST_CASE("slow.json: imports take at least 3 s") {
  served s("slow.json");
  auto out = s.curl(fg);
  CHECK(std::stod(out.substr(out.find("time=") + 5)) >= 3.0);
  CHECK(has(out, "exit=0"));
}

TEST_CASE("tls-broken.json: a TLS failure per host name, and localhost still served") {
  served s("tls-broken.json");
  auto expired = s.curl("fds1.fortinet.com");
  CHECK(has(expired, "certificate has expired"));
  CHECK(has(expired, "exit=60"));
  CHECK(has(s.curl("globalftm.fortinet.net"), "exit=60"));
  CHECK(has(s.curl("fortitokenmobile.fortinet.com"), "exit=60"));
  CHECK(has(s.s_client("-servername " + fg), "handshake failure"));
  CHECK(has(s.s_client("-tls1_2 -servername push.fortinet.com"), "protocol version"));
  CHECK(has(s.curl_localhost(), "\"tokens\":[{"));
}

TEST_CASE("ocsp-revoked.json: curl --cert-status refuses the revoked staple, and localhost is good") {
  served s("ocsp-revoked.json");
  auto revoked = s.curl(fg, "import.json", "--cert-status");
  CAPTURE(revoked);
  CHECK(has(revoked, "exit=91"));  // CURLE_SSL_INVALIDCERTSTATUS
  CHECK(has(s.s_client("-status -servername " + fg), "Cert Status: revoked"));
  CHECK(has(s.curl(fg), "\"tokens\":[{"));  // a client that does not ask is served
  CHECK(has(s.curl("localhost", "import.json", "--cert-status"), "\"tokens\":[{"));
}

TEST_CASE("lock-consumed.json: error 903 and no seed") {
  served s("lock-consumed.json");
  CHECK(has(s.curl(fg, "hw.json"),
            "\"seed\":\"\",\"error\":{\"error_code\":903,\"error_message\":\"token already activated, and seed "
            "won\\u0027t be returned\"}"));  // ' as ASP.NET writes it
}

}  // TEST_SUITE
