// `fortisim client` against the real binary serving on 127.0.0.1:0: a token's whole life (import,
// provision, the phone, polling, the OTP), what it prints (--json parses), and its exit statuses
// (1 for a FortiCare error, 2 for no protocol reply: refused, a CA or name that does not verify,
// a bad command line).
#include "client/fortios_text.hpp"
#include "client/tokens.hpp"
#include "hostile_server.hpp"
#include "pki/lab.hpp"
#include "prelude.hpp"
#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <csignal>

namespace {

/// `fortisim serve` of `scenario` (a file) on 127.0.0.1:0, with its ready line.
struct served : served_binary {
  explicit served(const std::string& scenario) : served_binary({"--scenario", scenario, "--threads", "1", "--quiet"}) {}
  /// The client's options that point it at this server and trust its CA.
  std::vector<std::string> to() const { return {"--server", listen(), "--cacert", ca()}; }
};

/// What one `fortisim client …` run printed, and its exit status.
struct ran {
  int status = -1;
  std::string out, err;
  json j() const {
    INFO("stdout: " << out << "\nstderr: " << err);
    auto parsed = json::parse(out, nullptr, false);
    REQUIRE_FALSE(parsed.is_discarded());
    return parsed;
  }
};

ran run_client(std::vector<std::string> args, const std::vector<std::string>& to = {}) {
  std::vector<std::string> argv{FORTISIM_BINARY, "client"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), to.begin(), to.end());
  process p(argv);
  ran r;
  r.out = p.read_stdout(20s);
  r.err = p.read_stderr(2s);
  r.status = p.wait_exit(10s);
  return r;
}

/// A port nothing listens on.
std::string closed_port() { return "127.0.0.1:" + std::to_string(released_port(SOCK_STREAM)); }

}  // namespace

TEST_SUITE("client") {

TEST_CASE("the client writes a provisioning request as FortiOS 7.4.10 did, byte for byte") {
  auto secret = protocol::hex_decode("FC8CEE4B56D93C40D590ACBB958840AF2FE76117");
  REQUIRE(secret.has_value());
  protocol::provision_request r;
  r.env = {"SoftToken.ProvisionRequest", "4", "FGT40FHA25099UXR", "7.0", "5309", {"FGT40FHA25099UXR"}};
  r.tokens.push_back(fortisim::client::fortigate_token("FTKMOB5CA3C29179", *secret));
  CHECK(fortisim::client::fortios_text(protocol::encode(protocol::request(r))) == provision_7410_request);
}

TEST_CASE("on the wire the client sends the captured header block in its order, and spaced bodies, tokens last") {
  hostile_server listener(R"({"d": {"__type": "SoftToken.ProvisionResponse", "result": 0, "error": null}})");
  std::vector<std::string> device{
      "--server", listener.address(), "--cacert",         listener.ca(), "--sni",          "fortinet-ca2.fortinet.com",
      "--serial", "FGT40FHA25099UXR", "--device-version", "7.0",         "--device-build", "5309"};
  run_client({"provision", "FTKMOB5CA3C29179"}, device);
  run_client({"poll", "FTKMOB5CA3C29179"}, device);
  run_client({"import", "DA8C-0508-1F31-4CF7-C990"}, device);
  auto sent = listener.requests();
  REQUIRE(sent.size() == 3);
  auto body_of = [](const std::string& request) { return request.substr(request.find("\r\n\r\n") + 4); };
  for (const auto& request : sent) {
    auto body = body_of(request);
    CHECK(request.substr(0, request.size() - body.size()) == fortigate_headers(body.size()));  // byte for byte
  }
  // The provisioning body is the captured one but for the seed the client made.
  auto provision = body_of(sent[0]);
  auto seed_at = provision.find(R"("seed": ")") + 9;
  REQUIRE(seed_at > 9);
  CHECK(provision.replace(seed_at, 40, "FC8CEE4B56D93C40D590ACBB958840AF2FE76117") == provision_7410_request);
  CHECK(body_of(sent[1]) ==
        R"({ "d": { "__type": "SoftToken.PollingRequest", "__version": "4", "serial_number": "FGT40FHA25099UXR", )"
        R"("__device_version": "7.0", "__device_build": "5309", "__clustered_sns": [ { "sn": "FGT40FHA25099UXR" } ], )"
        R"("tokens": [ { "token": "FTKMOB5CA3C29179" } ] } })");
  CHECK(body_of(sent[2]).starts_with(
      R"({ "d": { "__type": "SoftToken.ActivationLicenseRequest", "__version": "4", "license_activation_code": )"));
  // The phone says its own version when given one.
  run_client({"phone", "EEIAI6ZLEYIRKOYV", "--device-version", "4.9.9_IOS", "--server", listener.address(), "--cacert",
              listener.ca()});
  REQUIRE(listener.requests().size() == 4);
  CHECK(body_of(listener.requests()[3]).find(R"("__device_version":"4.9.9_IOS")") != std::string::npos);
}

TEST_CASE("import, provision, the phone, polling: the OTP the client prints is the server's") {
  temp_folder dir("client-life");
  served s(dir.write("scenario.json", R"({"name": "client life", "seed": 3, "unknown_codes": {"answer": "accept"}})"));

  auto imp = run_client({"import", "1234-5678-9ABC-DEF0-1234", "--json"}, s.to());
  REQUIRE(imp.status == 0);
  auto j = imp.j();
  CHECK(j["operation"] == "activation_license");
  CHECK(j["sni"] == "directregistration.fortinet.com");
  CHECK(j["sent"]["d"]["serial_number"] == "FGT40FHA25099UXR");
  CHECK(j["errors"].empty());
  std::string token = j["result"]["tokens"][0];
  CHECK(protocol::is_mobile_token_serial(token));

  std::string qr = dir.file("qr");
  auto prov = run_client({"provision", token, "--qr", qr, "--json"}, s.to());
  REQUIRE(prov.status == 0);
  j = prov.j();
  CHECK(j["sni"] == "fortinet-ca2.fortinet.com");
  CHECK(j["sent"]["d"]["tokens"][0]["code_expire"] == 4320);
  auto made = j["result"]["tokens"][0];
  std::string seed = made["seed"], code = made["activation_code"];
  CHECK(seed.size() == 40);
  CHECK(protocol::parse_user_activation_code(code).has_value());
  CHECK(read_file(made["qr_file"]).substr(1, 3) == "PNG");
  CHECK(run_client({"poll", token, "--json"}, s.to()).j()["result"]["tokens"][0]["status"] == "provisioning");

  std::uint16_t admin = s.admin_port();
  auto otp_before = json::parse(control(admin, "GET", "/tokens/" + token + "/otp").second)["otp"];
  auto phone = run_client({"phone", code, "--mobile-id", "0123456789abcdef", "--json"}, s.to());
  auto otp_after = json::parse(control(admin, "GET", "/tokens/" + token + "/otp").second)["otp"];
  REQUIRE(phone.status == 0);
  j = phone.j();
  CHECK(j["sni"] == "globalftm.fortinet.net");
  CHECK(j["result"]["seed"] == protocol::hex_encode(*protocol::hex_decode(seed)));  // the FortiGate's, lower case
  CHECK((j["result"]["otp"] == otp_before || j["result"]["otp"] == otp_after));     // a minute may turn between

  auto polled = run_client({"poll", token, "--json"}, s.to()).j()["result"]["tokens"][0];
  CHECK(polled["status"] == "provisioned");

  // Text for people: what was sent, what came back, what it means.
  auto text = run_client({"poll", token}, s.to());
  CHECK(text.status == 0);
  CHECK(text.out.find("> POST /SoftToken/Provisioning.asmx/Process to " + s.listen() +
                      ", SNI directregistration.fortinet.com") != std::string::npos);
  CHECK(text.out.find("< HTTP 200") != std::string::npos);
  CHECK(text.out.find(token + ": provisioned") != std::string::npos);
}

TEST_CASE("a 30-second, 8-digit token: its code says 30 s, and the client, the control API and the world agree") {
  temp_folder dir("client-30s");
  served s(dir.write("scenario.json", R"({"name": "thirty", "seed": 5, "unknown_codes": {"answer": "accept"}})"));
  std::string token = run_client({"import", "1234-5678-9ABC-DEF0-3030", "--json"}, s.to()).j()["result"]["tokens"][0];
  auto prov = run_client({"provision", token, "--period", "30", "--digits", "8", "--json"}, s.to());
  REQUIRE(prov.status == 0);
  CHECK(prov.j()["sent"]["d"]["tokens"][0]["period"] == 30);
  CHECK(prov.j()["sent"]["d"]["tokens"][0]["digits"] == 8);
  std::string code = prov.j()["result"]["tokens"][0]["activation_code"];
  CHECK(protocol::base32_decode(code)->substr(0, 2) == std::string("\x21\x00", 2));  // 30 s, as the clients read it
  CHECK(protocol::activation_code_period(code) == 30);
  auto otp = [&] { return json::parse(control(s.admin_port(), "GET", "/tokens/" + token + "/otp").second); };
  auto world_otp = [&] {
    auto world = json::parse(control(s.admin_port(), "GET", "/world").second);
    for (const auto& t : world["tokens"])
      if (t["token"] == token) return t["otp"]["code"];
    return json();
  };
  auto before = otp();
  auto seen_by_world = world_otp();
  auto phone = run_client({"phone", code, "--digits", "8", "--json"}, s.to());
  auto after = otp();
  REQUIRE(phone.status == 0);
  CHECK(before["period"] == 30);
  CHECK(before["otp"].get<std::string>().size() == 8);
  CHECK(phone.j()["result"]["period"] == 30);
  CHECK(phone.j()["result"]["digits"] == 8);
  auto printed = phone.j()["result"]["otp"];
  CHECK((printed == before["otp"] || printed == after["otp"]));  // a period may turn between
  CHECK((seen_by_world == before["otp"] || seen_by_world == after["otp"]));
}

TEST_CASE("an HOTP token: the client's code and the control API's agree, and a verifier moves both on") {
  temp_folder dir("client-hotp");
  served s(dir.write("scenario.json", R"({"name": "counted", "seed": 6, "unknown_codes": {"answer": "accept"}})"));
  std::string token = run_client({"import", "1234-5678-9ABC-DEF0-4040", "--json"}, s.to()).j()["result"]["tokens"][0];
  auto prov = run_client({"provision", token, "--type", "hotp", "--json"}, s.to());
  REQUIRE(prov.status == 0);
  CHECK(prov.j()["sent"]["d"]["tokens"][0]["type"] == "hotp");
  std::string code = prov.j()["result"]["tokens"][0]["activation_code"];
  auto otp = [&] { return json::parse(control(s.admin_port(), "GET", "/tokens/" + token + "/otp").second); };
  CHECK(otp()["type"] == "hotp");
  CHECK(otp()["counter"] == 0);
  auto phone = run_client({"phone", code, "--type", "hotp", "--json"}, s.to());
  REQUIRE(phone.status == 0);
  CHECK(phone.j()["result"]["counter"] == 0);
  CHECK(phone.j()["result"]["otp"] == otp()["otp"]);
  auto verify =
      control(s.admin_port(), "POST", "/tokens/" + token + "/verify", json{{"otp", phone.j()["result"]["otp"]}}.dump());
  CHECK(verify.first == 200);
  CHECK(json::parse(verify.second)["valid"] == true);
  CHECK(json::parse(verify.second)["counter"] == 1);
  // The phone's seed, counted on by RFC 4226 as the app would, gives the control API's next code.
  auto secret = protocol::hex_decode(phone.j()["result"]["seed"].get<std::string>());
  REQUIRE(secret.has_value());
  CHECK(otp()["otp"] == protocol::hotp(*secret, 1, 6));
  // The phone activated again gets the counter in the reply's `counter` field, and counts from it.
  auto again = run_client({"phone", code, "--type", "hotp", "--json"}, s.to());
  REQUIRE(again.status == 0);
  CHECK(again.j()["received"]["d"]["counter"] == 1);
  CHECK(again.j()["result"]["counter"] == 1);
  CHECK(again.j()["result"]["otp"] == otp()["otp"]);
}

TEST_CASE("activate: the first activation gets the seed, the second finds the lock consumed (903)") {
  temp_folder dir("client-hardware");
  served s(dir.write("scenario.json", R"({"name": "hardware", "seed": 8, "unknown_hardware": "accept"})"));
  auto first = run_client({"activate", "FTK2000000000077", "--serial", "FG100F0000000001", "--cluster",
                           "FG100F0000000002", "--device-version", "7.2", "--device-build", "1234", "--json"},
                          s.to());
  REQUIRE(first.status == 0);
  auto j = first.j();
  CHECK(j["operation"] == "hardware_activation");
  CHECK(j["sent"]["d"]["__clustered_sns"] ==
        json::parse(R"([{"sn": "FG100F0000000001"}, {"sn": "FG100F0000000002"}])"));
  CHECK(j["sent"]["d"]["__device_version"] == "7.2");
  CHECK(j["sent"]["d"]["__device_build"] == "1234");
  CHECK(j["result"]["tokens"][0]["token"] == "FTK2000000000077");
  CHECK_FALSE(j["result"]["tokens"][0]["seed"].get<std::string>().empty());
  auto second = run_client({"activate", "FTK2000000000077", "--json"}, s.to());
  CHECK(second.status == 1);
  REQUIRE(second.j()["errors"].size() == 1);
  CHECK(second.j()["errors"][0].get<std::string>().starts_with("FTK2000000000077: error 903"));
  CHECK(second.j()["result"]["tokens"].empty());
}

TEST_CASE("exit status 1 for a FortiCare error, printed with its code and message") {
  served s(FORTISIM_SOURCE_DIR "/scenarios/expired-license.json");
  auto text = run_client({"import", "DA8C-0508-1F31-4CF7-C990", "--serial", "FG4H0ETB20900993"}, s.to());
  CHECK(text.status == 1);
  CHECK(text.out.find("FortiCare error 14: forticare license expired") != std::string::npos);
  auto machine = run_client({"import", "DA8C-0508-1F31-4CF7-C990", "--json"}, s.to());
  CHECK(machine.status == 1);
  CHECK(machine.j()["errors"] == json::array({"error 14: forticare license expired"}));
  CHECK(machine.j()["result"].is_null());
  auto unknown = run_client({"provision", "FTKMOB0000000001", "--json"}, s.to());
  CHECK(unknown.status == 1);
  CHECK(unknown.j()["errors"] == json::array({"error 17: no valid token found",
                                              "FTKMOB0000000001: error 31: token does not belong to product"}));
}

TEST_CASE("an HA member's error is printed beside the codes (KB 424201 replayed from FortiOS 7.4.9)") {
  served s(FORTISIM_SOURCE_DIR "/scenarios/ha-7.4.9.json");
  auto text = run_client({"provision", "FTKMOB4242A0C001", "--serial", "FG200FT924000001", "--device-version", "7.4",
                          "--device-build", "2829", "--json"},
                         s.to());
  CHECK(text.status == 1);
  auto errors = text.j()["errors"];
  CHECK(std::find(errors.begin(), errors.end(), "HA member FG200FT924000001: Product is not registered") !=
        errors.end());

  // A member's error alone, beside no code, still makes the exchange a FortiCare error.
  hostile_server member_only(R"({"d": {"__type": "SoftToken.ActivationLicenseResponse", "__version": "4",
    "serial_number": "FG200FT924000001", "__device_version": "7.4", "__device_build": "2829",
    "__clustered_sns": [{"sn": "FG200FT924000001", "error": "Product is not registered"}],
    "license_activation_code": "7A31-C0DE-5E3B-94F2-2B19", "license": "EFTM024987113419", "tokens": [],
    "result": 0, "error": null}})");
  auto alone = run_client({"import", "7A31-C0DE-5E3B-94F2-2B19", "--serial", "FG200FT924000001", "--server",
                           member_only.address(), "--cacert", member_only.ca(), "--json"});
  CHECK(alone.status == 1);
  CHECK(alone.j()["errors"] == json::array({"HA member FG200FT924000001: Product is not registered"}));
}

TEST_CASE("exit status 2 when there is no protocol reply: refused, not verified, a bad command line") {
  served s(FORTISIM_SOURCE_DIR "/scenarios/default.json");
  auto refused =
      run_client({"import", "1234-5678-9ABC-DEF0-1234", "--server", closed_port(), "--cacert", s.ca(), "--json"});
  CHECK(refused.status == 2);
  CHECK(refused.j()["failure"].get<std::string>().find("connect to 127.0.0.1:") != std::string::npos);

  // Another lab's CA does not vouch for this server; nor does fortisim's CA for another name.
  temp_folder other("client-other-ca");
  pki::ensure_lab_certs(other.path());
  std::string listen = s.listen();
  auto untrusted =
      run_client({"import", "1234-5678-9ABC-DEF0-1234", "--server", listen, "--cacert", other.file("ca.pem")});
  CHECK(untrusted.status == 2);
  CHECK(untrusted.err.find("certificate verify failed") != std::string::npos);
  auto wrong_name = run_client({"import", "1234-5678-9ABC-DEF0-1234", "--sni", "www.example.com"}, s.to());
  CHECK(wrong_name.status == 2);
  CHECK(wrong_name.err.find("hostname mismatch") != std::string::npos);
  auto insecure = run_client(
      {"import", "1234-5678-9ABC-DEF0-1234", "--server", listen, "--cacert", other.file("ca.pem"), "--insecure"});
  CHECK(insecure.status == 0);
  CHECK(insecure.err.find("warning: --insecure") != std::string::npos);

  CHECK(run_client({"import", "1234-5678-9ABC-DEF0-1234", "--server", "nowhere"}).status == 2);
  CHECK(run_client({"phone", "NOT-A-CODE"}, s.to()).status == 2);
  CHECK(run_client({"frobnicate"}).status != 0);
}

TEST_CASE("a hostile server: a reply nested a million deep is refused as not the protocol's, without a crash") {
  hostile_server evil("{\"d\": " + std::string(1'000'000, '[') + std::string(1'000'000, ']') + "}");
  auto r =
      run_client({"import", "1234-5678-9ABC-DEF0-1234", "--server", evil.address(), "--cacert", evil.ca(), "--json"});
  CHECK(r.status == 2);
  CHECK(r.j()["errors"][0].get<std::string>().find("nesting deeper than 64") != std::string::npos);
}

TEST_CASE("a hostile server: provision --qr writes only DIR/<a serial it asked for>.png") {
  temp_folder folder("qr-hostile");
  std::string dir = folder.path() + "/qr";
  auto png = protocol::base64_encode(std::string("\x89PNG\r\n\x1a\n", 8));
  auto reply = [&](const std::string& token) {
    return json{{"d",
                 {{"__type", "SoftToken.ProvisionResponse"},
                  {"tokens", {{{"token", token}, {"token_activation_code", "EEIDMRFGGM2DKNRX"}, {"qr_code", png}}}},
                  {"result", 0}}}}
        .dump();
  };
  for (const std::string token : {"../../escaped", "FTKMOB9999999999"}) {  // outside DIR; one not asked for
    hostile_server evil(reply(token));
    auto r = run_client(
        {"provision", "FTKMOB0000000001", "--qr", dir, "--server", evil.address(), "--cacert", evil.ca(), "--json"});
    CAPTURE(token);
    CHECK(r.status == 2);
    CHECK(r.j()["errors"][0].get<std::string>().find("which the request did not ask about") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(folder.path() + "/escaped.png"));
  CHECK_FALSE(std::filesystem::exists(dir + "/FTKMOB9999999999.png"));
  auto not_serial = run_client({"provision", "../x", "--qr", dir, "--json"});
  CHECK(not_serial.status == 2);
  CHECK(not_serial.j()["failure"].get<std::string>().find("is not a FortiToken Mobile serial") != std::string::npos);
}

TEST_CASE("a hostile server: fields of the wrong type, and seeds that are not 40 hex digits, are errors") {
  hostile_server wrong_types(R"({"d": {"__type": "SoftToken.ProvisionResponse", "tokens": "x", "result": "zero"}})");
  auto r = run_client(
      {"provision", "FTKMOB0000000001", "--server", wrong_types.address(), "--cacert", wrong_types.ca(), "--json"});
  CHECK(r.status == 2);
  CHECK(r.j()["errors"][0].get<std::string>().find("d.tokens: expected an array of objects") != std::string::npos);

  hostile_server short_seed(R"({"d": {"__type": "SoftToken.HardwareActivationResponse",
                                      "tokens": [{"token": "FTK2000000000001", "seed": "abcd", "error": null}]}})");
  r = run_client(
      {"activate", "FTK2000000000001", "--server", short_seed.address(), "--cacert", short_seed.ca(), "--json"});
  CHECK(r.status == 2);
  CHECK(r.j()["errors"][0].get<std::string>().find("is not 40 hex digits") != std::string::npos);

  // A reply that leaves out a token asked about, or names one twice, is no answer about it.
  for (const char* tokens : {R"([])", R"([{"token": "FTKMOB0000000001", "status": "provisioned"},
                                        {"token": "FTKMOB0000000001", "status": "not found"}])"}) {
    hostile_server partial(std::string(R"({"d": {"__type": "SoftToken.PollingResponse", "result": 0, "error": null,
                                                 "tokens": )") +
                           tokens + "}}");
    r = run_client({"poll", "FTKMOB0000000001", "--server", partial.address(), "--cacert", partial.ca(), "--json"});
    CAPTURE(tokens);
    CHECK(r.status == 2);
    auto why = r.j()["errors"][0].get<std::string>();
    CHECK((why.find("leaves out token FTKMOB0000000001") != std::string::npos ||
           why.find("names token FTKMOB0000000001 twice") != std::string::npos));
  }

  // What the server says reaches a terminal without its escape sequences.
  hostile_server escapes(R"({"d": {"__type": "SoftToken.PollingResponse", "result": 0, "error": null,
      "tokens": [{"token": "FTKMOB0000000001", "status": "\u001b[2Jprovisioned\u0007"}]}})");
  r = run_client({"poll", "FTKMOB0000000001", "--server", escapes.address(), "--cacert", escapes.ca()});
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(r.out.find('\x07') == std::string::npos);
  CHECK(r.out.find("\\x1B[2Jprovisioned\\x07") != std::string::npos);

  const std::string code = "EEIDMRFGGM2DKNRX", mobile_id = "0123456789abcdef";
  for (const std::string& seed : {std::string(), *protocol::encrypt_seed_for_phone("0123456789", mobile_id)}) {
    hostile_server empty_seed(
        json{{"d", {{"__type", "SoftToken.MobileProvisionResponse"}, {"token", "FTKMOB0000000001"}, {"seed", seed}}}}
            .dump());
    r = run_client({"phone", code, "--mobile-id", mobile_id, "--server", empty_seed.address(), "--cacert",
                    empty_seed.ca(), "--json"});
    CAPTURE(seed);
    CHECK(r.status == 2);
  }
}

}  // TEST_SUITE
