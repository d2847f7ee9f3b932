// A token's life as captured FortiGates and phones live it, over real TLS: the public captures
// replayed byte for byte, and import -> provision (the FortiGate's seed) -> the phone -> polling
// -> the OTP, in one story.
#include "prelude.hpp"

#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>

namespace {

constexpr const char* fortigate_host = "fortinet-ca2.fortinet.com";

/// What an independent reader (zbar) reads in a base64 PNG.
std::string qr_text(const std::string& png_base64) {
  auto png = protocol::base64_decode(png_base64);
  REQUIRE(png.has_value());
  temp_folder dir("qr");
  std::string out = run("zbarimg --raw -q " + dir.write("qr.png", *png) + " 2>/dev/null");  // stderr: D-Bus noise
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

/// The secret in the phone's seed, decrypted here with OpenSSL alone: AES-128-CBC, key = the 16
/// bytes of mobile_id, IV "fortitokenmobile", the 40 hex digits of the secret zero-padded.
std::string decrypt_independently(const std::string& seed_b64, const std::string& key16) {
  auto cipher = protocol::base64_decode(seed_b64);
  REQUIRE(cipher.has_value());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), nullptr, reinterpret_cast<const unsigned char*>(key16.data()),
                     reinterpret_cast<const unsigned char*>("fortitokenmobile"));
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  unsigned char plain[64];
  int n = 0, tail = 0;
  EVP_DecryptUpdate(ctx, plain, &n, reinterpret_cast<const unsigned char*>(cipher->data()),
                    static_cast<int>(cipher->size()));
  EVP_DecryptFinal_ex(ctx, plain + n, &tail);
  EVP_CIPHER_CTX_free(ctx);
  return protocol::hex_decode(std::string(reinterpret_cast<char*>(plain), 40)).value_or("");
}

/// A FortiGate as FortiOS 7.4 calls: SNI and Host fortinet-ca2.fortinet.com, the lab CA verified,
/// the captured header block, keep-alive.
class fortigate {
 public:
  explicit fortigate(test_server& srv) : c_(srv.port(), client_options{fortigate_host, srv.ca(), "", 0, {}}) {
    REQUIRE(c_.ok());
    CHECK(c_.connected().verify_result == 0);  // the lab certificate names fortinet-ca2.fortinet.com
  }
  outcome send(const std::string& body) { return c_.raw_exchange(fortigate_headers(body.size()) + body); }
  json d(const std::string& body) { return json::parse(send(body).body)["d"]; }

 private:
  client c_;
};

json request(const std::string& type, json fields) {
  json d{{"__type", "SoftToken." + type},       {"__version", "4"},
         {"__device_version", "7.0"},           {"__device_build", "5309"},
         {"serial_number", "FGT40FHA25099UXR"}, {"__clustered_sns", {{{"sn", "FGT40FHA25099UXR"}}}}};
  d.update(fields);
  return json{{"d", d}};
}

}  // namespace

TEST_SUITE("token life") {

TEST_CASE("KB 308115: the captured request gets the captured reply, byte for byte") {
  test_server srv(shipped("token-not-owned.json"));
  fortigate fg(srv);
  auto o = fg.send(kb308115_request);
  CHECK(o.status == 200);
  CHECK(o.body == kb308115_reply);
  // The FortiGate's headers are journaled with the exchange.
  auto entry = srv.engine().journal().select().back();
  CHECK(entry["request_headers"].get<std::string>().find("User-Agent: Mozilla/5.0 (compatible; MSIE 9.0") !=
        std::string::npos);
  CHECK(entry["error_code"] == 17);
}

TEST_CASE("KB 424201: one licence works for 7.2's two-serial request and fails for 7.4.9's one-serial request") {
  test_server srv(shipped("ha-7.4.9.json"));
  fortigate fg(srv);
  auto provision = [&](const std::string& token, const std::string& build, const json& members) {
    json fields = json::object();
    fields["__device_build"] = build;
    fields["serial_number"] = "FG200FT924000001";
    fields["__clustered_sns"] = members;
    fields["tokens"] = json::array({json{{"token", token},
                                         {"seed", std::string(40, 'A')},
                                         {"code_expire", 4320},
                                         {"type", "totp"},
                                         {"period", 60},
                                         {"digits", 6}}});
    return fg.d(request("ProvisionRequest", fields).dump());
  };
  json both{{{"sn", "FG200FT924000001"}}, {{"sn", "FG200FT924000002"}}};
  auto on_72 = provision("FTKMOB4242A0C001", "1688", both);
  CHECK(on_72["result"] == 2);
  CHECK(on_72["tokens"][0]["error"].is_null());
  auto on_749 = provision("FTKMOB4242A0C002", "2829", json::array({json{{"sn", "FG200FT924000001"}}}));
  CHECK(on_749["result"] == 0);
  CHECK(on_749["error"] == json{{"error_code", 17}, {"error_message", "no valid token found"}});
  CHECK(on_749["tokens"][0]["error"] ==
        json{{"error_code", 31}, {"error_message", "token does not belong to product"}});
  CHECK(on_749["__clustered_sns"] ==
        json::array({json{{"sn", "FG200FT924000001"}, {"error", "Product is not registered"}}}));
  // The journal says why, in words a lab engineer can act on.
  auto why = srv.engine().journal().select().back()["reason"].get<std::string>();
  CHECK(why.find("registered to FG200FT924000002, a serial this request does not list") != std::string::npos);
}

TEST_CASE("FortiOS 7.4.10: the captured request gets the captured reply field for field, and a QR code of its code") {
  test_server srv(shipped("provision-7.4.10.json"));
  fortigate fg(srv);
  auto o = fg.send(provision_7410_request);
  REQUIRE(o.status == 200);
  auto reply = json::parse(o.body);
  auto& token = reply["d"]["tokens"][0];
  std::string qr = token["qr_code"];
  token["qr_code"] = "QR";
  CHECK(reply.dump() == provision_7410_reply);  // every field, in the captured order
  CHECK(o.body.find(R"("qr_code":")" + qr + R"(","code_expire":4320)") != std::string::npos);
  CHECK(qr_text(qr) == "EEIAI6ZLEYIRKOYV");
  auto png = *protocol::base64_decode(qr);
  CHECK(png.substr(1, 3) == "PNG");
  CHECK(png[24] == 1);  // bit depth 1
  CHECK(png[25] == 0);  // grayscale, as captured
}

TEST_CASE("the whole token life with the FortiGate's seed: import, provision, phone, polling, OTP") {
  test_server srv(R"({"seed": 7, "unknown_codes": {"answer": "accept"},
                      "clock": {"now": "2026-06-01T12:00:00Z", "rate": 0}})");
  fortigate fg(srv);
  auto lic =
      fg.d(request("ActivationLicenseRequest", {{"license_activation_code", "ABCD-0000-1111-2222-3333"}}).dump());
  REQUIRE(lic["error"].is_null());
  std::string token = lic["tokens"][0]["token"];

  std::string seed = protocol::hex_encode(protocol::derive_secret(2026, "the FortiGate's own"));
  json t{{"token", token},      {"seed", protocol::upper_case(seed)},
         {"code_expire", 4320}, {"type", "totp"},
         {"period", 60},        {"digits", 6}};
  auto prov = fg.d(request("ProvisionRequest", {{"tokens", {t}}}).dump(1));
  REQUIRE(prov["result"] == 2);
  std::string user_code = prov["tokens"][0]["token_activation_code"];
  CHECK(qr_text(prov["tokens"][0]["qr_code"]) == user_code);
  auto polled = [&] { return fg.d(request("PollingRequest", {{"tokens", {{{"token", token}}}}}).dump())["tokens"][0]; };
  CHECK(polled()["status"] == "provisioning");

  // The phone, on the app's host: the code's 8 bytes as hex, a 16-character mobile_id.
  std::string mobile_id = "7f3a9c0e5b2d4681";
  client phone(srv.port(), client_options{"globalftm.fortinet.net", srv.ca(), "", 0, {}});
  json m{{"d",
          {{"mobile_id", mobile_id},
           {"__type", "SoftToken.MobileProvisionRequest"},
           {"token_activation_code",
            protocol::activation_code_for_phone(*protocol::parse_user_activation_code(user_code))},
           {"registration_id", "push-id-1"},
           {"__device_version", "4.9.9_IOS"},
           {"__device_build", "409"},
           {"__version", "5"}}}};
  auto got = json::parse(phone.post(m.dump(), "/SoftToken/Provisioning.asmx/Mobile").body)["d"];
  REQUIRE(got["error"].is_null());
  auto secret = decrypt_independently(got["seed"], mobile_id);
  CHECK(protocol::hex_encode(secret) == seed);  // the FortiGate's seed, unchanged

  CHECK(polled()["status"] == "provisioned");
  CHECK(polled()["reg_id"] == "push-id-1");
  CHECK(polled()["os_ver"] == "4.9.9_IOS");
  auto otp = json::parse(control(srv.admin_port(), "GET", "/tokens/" + token + "/otp").second);
  CHECK(otp["otp"] == protocol::totp(secret, 1780315200, 60, 6));  // 2026-06-01T12:00:00Z, frozen
}

TEST_CASE("the app's FortiToken Cloud request is answered as /Mobile only when the scenario says so") {
  for (bool cloud : {false, true}) {
    CAPTURE(cloud);
    test_server srv(std::string(R"({"phone": {"fortitoken_cloud": )") + (cloud ? "true" : "false") + "}}");
    auto made = json::parse(control(srv.admin_port(), "POST", "/tokens", "{}").second);
    std::string mobile_id = "5C2E0A4B-9F1D-4E7A-8B3C-2D6F1A0E9B47";  // an iOS UUID, as seen there
    json m{{"d",
            {{"mobile_id", mobile_id},
             {"__type", "SoftToken.MobileProvisionRequest"},
             {"token_activation_code", made["token_activation_code"]},
             {"__version", "5"}}}};
    client phone(srv.port(), client_options{"globalftm.fortinet.net", srv.ca(), "", 0, {}});
    auto o = phone.post(m.dump(), "/api/v1/token/activation");
    if (!cloud) {
      CHECK(o.status == 404);
      continue;
    }
    REQUIRE(o.status == 200);
    auto d = json::parse(o.body)["d"];
    CHECK(d["error"].is_null());
    CHECK(d["token"] == made["token"]);
    auto entry = srv.engine().journal().select().back();
    CHECK(entry["target"] == "/api/v1/token/activation");  // the journal keeps the path as sent
    CHECK(entry["operation"] == "mobile_provision");
  }
}

TEST_CASE("POST /reset of a token whose start code another token holds now is 409, and names the holder") {
  test_server srv(R"({"licenses": [{"activation_code": "AAAA-0000-0000-0000-0001", "bound_to": ["FGT40FHA25099UXR"],
      "tokens": ["FTKMOB0000000006", "FTKMOB0000000043"]}],
    "mobile_tokens": [{"token": "FTKMOB0000000043", "activation_code": "EEIBCEIRCEIRCEIR"}]})");
  fortigate fg(srv);
  auto provision = [&](const std::string& token, const std::string& code) {
    json t{{"token", token}, {"type", "totp"}, {"period", 60}, {"digits", 6}};
    if (!code.empty()) t["activation_code"] = code;
    return fg.d(request("ProvisionRequest", {{"tokens", {t}}}).dump())["tokens"][0];
  };
  const std::string hex =
      protocol::activation_code_for_phone(*protocol::parse_user_activation_code("EEIBCEIRCEIRCEIR"));
  REQUIRE(provision("FTKMOB0000000043", "")["error"].is_null());  // a new code: the scenario's is free
  REQUIRE(provision("FTKMOB0000000006", hex)["error"].is_null());
  auto [status, body] = control(srv.admin_port(), "POST", "/reset", R"({"token": "FTKMOB0000000043"})");
  CHECK(status == 409);
  CHECK(json::parse(body)["error"] ==
        "FTKMOB0000000043's activation code at the start, EEIBCEIRCEIRCEIR, is token FTKMOB0000000006's now (a "
        "phone's code names one token): reset that token first, or both at once (a licence or device they share, or "
        "everything)");
  CHECK(control(srv.admin_port(), "POST", "/reset", R"({"license": "AAAA-0000-0000-0000-0001"})").first == 200);
  // The mistakes a new user made, each answered with what the key takes.
  auto refused = [&](const std::string& body) {
    auto [status, text] = control(srv.admin_port(), "POST", "/reset", body);
    return std::to_string(status) + " " + json::parse(text).value("error", "");
  };
  CHECK(refused(R"({"license": "EFTM000000000001"})") ==
        "404 no license EFTM000000000001 to reset (by its activation_code, in any case, as GET /world lists it, not "
        "its EFTM… serial)");
  CHECK(refused(R"({"token": "ftkmob0000000043"})") ==
        "404 no token ftkmob0000000043 to reset (a serial, in upper case, as GET /world lists it)");
  CHECK(refused(R"({"token": ""})") == "400 token: empty; expected a serial");
  auto world = json::parse(control(srv.admin_port(), "GET", "/world").second);
  for (const auto& t : world["tokens"])
    CHECK(t["activation"] == (t["token"] == "FTKMOB0000000043" ? json(hex) : json("")));
}

TEST_CASE("a reload that pins a code a token holds takes, and says which pinned token gets 40 until when") {
  // From a new user's trial: the reload answered ok, with no word of the pinned token's 40 to come.
  temp_folder dir("held-pin");
  auto file = dir.file("lab.json");
  auto lab = [](const std::string& second) {
    return R"({"licenses": [{"activation_code": "AAAA-0000-0000-0000-0001", "bound_to": ["FGT40FHA25099UXR"],
        "tokens": ["FTKMOB0000000006", )" +
           second + "]}]}";
  };
  dir.write("lab.json", lab(R"("FTKMOB0000000043")"));
  test_server srv(lab(R"("FTKMOB0000000043")"), 1, std::nullopt,
                  [&](net::server_config& cfg) { cfg.scenario_path = file; });
  fortigate fg(srv);
  const std::string hex =
      protocol::activation_code_for_phone(*protocol::parse_user_activation_code("EEIBCEIRCEIRCEIR"));
  json t{{"token", "FTKMOB0000000006"}, {"activation_code", hex}};
  REQUIRE(fg.d(request("ProvisionRequest", {{"tokens", {t}}}).dump())["tokens"][0]["error"].is_null());
  dir.write("lab.json", lab(R"({"token": "FTKMOB0000000043", "activation_code": "EEIBCEIRCEIRCEIR"})"));
  auto [status, body] = control(srv.admin_port(), "POST", "/reload");
  CHECK(status == 200);
  CHECK(json::parse(body)["last_reload"]["warnings"] ==
        json::array({"$.licenses[0].tokens[1].activation_code: EEIBCEIRCEIRCEIR is token FTKMOB0000000006's: "
                     "FTKMOB0000000043 gets 40 until that token gives it up (provisioned with another code, or POST "
                     "/reset {\"token\": \"FTKMOB0000000006\"})"}));
  CHECK(control(srv.admin_port(), "POST", "/reset", R"({"token": "FTKMOB0000000006"})").first == 200);
  dir.write("lab.json", lab(R"({"token": "FTKMOB0000000043", "activation_code": "EEIBCEIRCEIRCEIR"})"));
  auto again = json::parse(control(srv.admin_port(), "POST", "/reload").second);
  CHECK(again["last_reload"]["warnings"] == json::array());
}

}  // TEST_SUITE
