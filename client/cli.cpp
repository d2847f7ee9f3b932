// `fortisim client`'s subcommands: options into cli_options, one function per operation that
// makes the request, sends it, and says what the reply means (client/cli_report.cpp prints it).
#include "client/cli.hpp"

#include "client/cli_report.hpp"
#include "client/tokens.hpp"
#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace fortisim::client {

namespace {

using protocol::json;

/// The host each real client names (docs/protocol.md §1, §2): FortiOS 7.4 provisions through
/// fortinet-ca2.fortinet.com, the app talks to globalftm.fortinet.net.
std::string default_sni(std::string_view operation) {
  if (operation == "provision") return "fortinet-ca2.fortinet.com";
  if (operation == "phone") return "globalftm.fortinet.net";
  return "directregistration.fortinet.com";
}

connection_options connection_for(const cli_options& o, std::string_view operation) {
  auto where = split_host_port(o.server);
  if (!where) throw std::invalid_argument("--server " + o.server + ": expected ADDR:PORT, e.g. 127.0.0.1:8443");
  connection_options to;
  to.host = where->first;
  to.port = where->second;
  to.sni = o.sni.empty() ? default_sni(operation) : o.sni;
  to.cacert = o.cacert;
  to.insecure = o.insecure;
  to.timeout = std::chrono::milliseconds(o.timeout_ms);
  if (o.insecure) warn("--insecure: the server's certificate is not verified");
  return to;
}

int run_import(const cli_options& o, const connection_options& to) {
  auto x = import_licence(to, o.from, o.code);
  json result = nullptr;
  std::vector<std::string> lines;
  if (x.reply)
    if (auto* r = std::get_if<protocol::activation_license_response>(&*x.reply); r && !r->error) {
      json tokens = json::array();
      std::string list;
      for (const auto& t : r->tokens.value_or(std::vector<protocol::license_token>{})) {
        tokens.push_back(t.token);
        list += " " + t.token;
      }
      result = {{"license", r->license}, {"tokens", tokens}};
      lines.push_back("licence " + r->license + ", " + std::to_string(tokens.size()) + " token(s):" + list);
    }
  return report(x, result, lines, o.json);
}

int run_poll(const cli_options& o, const connection_options& to) {
  auto x = poll(to, o.from, o.serials);
  json result = json::array();
  std::vector<std::string> lines;
  if (x.reply)
    if (auto* r = std::get_if<protocol::polling_response>(&*x.reply))
      for (const auto& t : r->tokens) {
        result.push_back({{"token", t.token},
                          {"license", t.license},
                          {"status", t.status},
                          {"os_ver", t.os_ver},
                          {"reg_id", t.reg_id},
                          {"activation_expire", t.activation_expire}});
        lines.push_back(t.token + ": " + t.status + (t.os_ver.empty() ? "" : " (" + t.os_ver + ")"));
      }
  return report(x, {{"tokens", result}}, lines, o.json);
}

/// Each token gets a new random seed, as a FortiGate makes it; the activation codes come back.
int run_provision(const cli_options& o, const connection_options& to) {
  std::vector<protocol::provisioned_token> tokens;
  if (!o.qr_dir.empty())  // each names a file: a serial, nothing that could name another folder
    for (const auto& serial : o.serials)
      if (!protocol::is_mobile_token_serial(serial))
        return report_failure("--qr names files after the serials: " + serial + " is not a FortiToken Mobile serial",
                              o.json);
  for (const auto& serial : o.serials)
    tokens.push_back(fortigate_token(serial, random_secret(), o.code_expire, o.period, o.digits, o.otp_type));
  auto x = provision(to, o.from, tokens);
  json result = json::array();
  std::vector<std::string> lines;
  if (x.reply)
    if (auto* r = std::get_if<protocol::provision_response>(&*x.reply))
      for (const auto& t : r->tokens) {
        if (!t.token_activation_code) continue;
        std::string seed;
        for (const auto& sent : tokens)
          if (sent.token == t.token) seed = sent.seed;
        json entry{{"token", t.token}, {"seed", seed}, {"activation_code", *t.token_activation_code}};
        std::string line = t.token + ": activation code " + *t.token_activation_code + ", seed " + seed;
        if (!o.qr_dir.empty() && t.qr_code) {
          // The file is named by the serial we sent (the reply's token is one of them, checked),
          // never by text the server chose.
          auto png = protocol::base64_decode(*t.qr_code);
          auto ours = std::find_if(tokens.begin(), tokens.end(), [&](const auto& s) { return s.token == t.token; });
          auto file = (std::filesystem::path(o.qr_dir) / (ours->token + ".png")).string();
          std::filesystem::create_directories(o.qr_dir);
          if (!png || !(std::ofstream(file, std::ios::binary) << *png))
            throw std::runtime_error("cannot write " + file);
          entry["qr_file"] = file;
          line += ", QR code " + file;
        }
        result.push_back(entry);
        lines.push_back(line);
      }
  return report(x, {{"tokens", result}}, lines, o.json);
}

int run_activate(const cli_options& o, const connection_options& to) {
  auto x = activate(to, o.from, o.serials);
  json result = json::array();
  std::vector<std::string> lines;
  if (x.reply)
    if (auto* r = std::get_if<protocol::hardware_activation_response>(&*x.reply))
      for (const auto& t : r->tokens)
        if (!t.error) {
          result.push_back({{"token", t.token}, {"seed", t.seed}});
          lines.push_back(t.token + ": seed " + t.seed);
        }
  return report(x, {{"tokens", result}}, lines, o.json);
}

/// The app's side: the code for the encrypted seed, decrypted with the mobile_id, then the OTP.
int run_phone(const cli_options& o, const connection_options& to, bool device_version_given) {
  auto request = phone_request(o.code, o.mobile_id);
  if (!request) return report_failure(o.code + " is not an activation code (16 base32 characters, EEI…)", o.json);
  request->registration_id = o.registration_id;
  if (device_version_given) request->device_version = o.from.version;  // the app's, e.g. 4.9.9_IOS
  if (!o.json && o.mobile_id == default_mobile_id)
    std::cout << "mobile_id " << o.mobile_id << " (the default; choose one with --mobile-id)\n";
  auto x = phone(to, *request);
  json result = nullptr;
  std::vector<std::string> lines;
  if (x.reply)
    if (auto* r = std::get_if<protocol::mobile_provision_response>(&*x.reply); r && !r->error) {
      auto secret = protocol::decrypt_seed_from_phone(r->seed, o.mobile_id.substr(0, 16));
      if (!secret)
        return report_failure("the seed in the reply does not decrypt with mobile_id " + o.mobile_id, o.json);
      if (secret->size() != 20)  // an OTP of any other key would look right and be wrong
        return report_failure("the seed in the reply is " + std::to_string(secret->size()) +
                                  " bytes once decrypted, not 20 (40 hex digits)",
                              o.json);
      protocol::otp_params p{*protocol::otp_type_from_text(o.otp_type), o.digits,
                             protocol::activation_code_period(o.code),
                             o.counter.value_or(static_cast<std::uint64_t>(std::max(r->counter, 0)))};
      auto otp = otp_at(*secret, static_cast<std::int64_t>(std::time(nullptr)), p);
      bool hotp = p.type == protocol::otp_type::hotp;
      result = {{"mobile_id", o.mobile_id},
                {"token", r->token},
                {"seed", protocol::hex_encode(*secret)},
                {"otp", otp.code},
                {"valid_for_s", otp.valid_for_s},
                {"type", o.otp_type},
                {"period", p.period},
                {"digits", o.digits}};
      if (hotp) result["counter"] = p.counter;
      lines.push_back(r->token + ": seed " + protocol::hex_encode(*secret) + ", OTP " + otp.code +
                      (hotp ? " (HOTP, counter " + std::to_string(p.counter) + ")"
                            : " (valid " + std::to_string(otp.valid_for_s) + " s more)"));
    }
  return report(x, result, lines, o.json);
}

}  // namespace

CLI::App* add_cli(CLI::App& app, cli_options& o) {
  auto* client = app.add_subcommand("client", "Speak the protocol as a FortiGate or the FortiToken Mobile app does");
  client->require_subcommand(1);
  client->add_option("--server", o.server, "ADDR:PORT of the server")->capture_default_str();
  client->add_option("--cacert", o.cacert, "The CA to trust (PEM)")->capture_default_str();
  client->add_option("--sni", o.sni, "TLS server name and Host (default: the real client's host for the operation)");
  client->add_flag("--insecure", o.insecure, "Do not verify the server's certificate (warns)");
  client->add_option("--timeout-ms", o.timeout_ms, "Deadline of each step")->capture_default_str();
  client->add_option("--serial", o.from.serial, "The FortiGate's serial number")->capture_default_str();
  client->add_option("--cluster", o.from.cluster, "Another HA member's serial (repeat for more)");
  client
      ->add_option("--device-version", o.from.version,
                   "__device_version: the FortiGate's; for phone, the app's (e.g. 4.9.9_IOS, polled as os_ver)")
      ->capture_default_str();
  client->add_option("--device-build", o.from.build, "__device_build")->capture_default_str();
  client->add_flag("--json", o.json, "Print one JSON object (what was sent, what came back, what it means)");

  auto* import = client->add_subcommand("import", "Import a licence: SoftToken.ActivationLicenseRequest");
  import->add_option("code", o.code, "The licence activation code, e.g. DA8C-0508-1F31-4CF7-C990")->required();
  auto* poll = client->add_subcommand("poll", "The tokens' state: SoftToken.PollingRequest");
  poll->add_option("tokens", o.serials, "FTKMOB… serials")->required();
  auto* provision = client->add_subcommand("provision", "Provision tokens with new seeds: SoftToken.ProvisionRequest");
  provision->add_option("tokens", o.serials, "FTKMOB… serials")->required();
  provision->add_option("--qr", o.qr_dir, "Write each activation code's QR code to DIR/<token>.png");
  provision->add_option("--code-expire", o.code_expire, "Minutes the activation codes last")->capture_default_str();
  provision->add_option("--period", o.period, "The tokens' OTP period in seconds")
      ->check(CLI::IsMember({30, 60}))
      ->capture_default_str();
  client
      ->add_option("--digits", o.digits,
                   "OTP digits: provision asks for them; phone computes with them (the reply does not say)")
      ->check(CLI::IsMember({6, 8}))
      ->capture_default_str();
  client
      ->add_option("--type", o.otp_type,
                   "OTP type: provision asks for it; phone computes with it (neither reply nor code says)")
      ->check(CLI::IsMember({"totp", "hotp"}))
      ->capture_default_str();
  auto* activate = client->add_subcommand("activate", "Activate hardware tokens: SoftToken.HardwareActivationRequest");
  activate->add_option("serials", o.serials, "FTK200… serials")->required();
  auto* phone = client->add_subcommand("phone", "Be the app: trade an activation code for the seed, print the OTP");
  phone->add_option("code", o.code, "The user's activation code, e.g. EEIAI6ZLEYIRKOYV")->required();
  phone->add_option("--mobile-id", o.mobile_id, "The phone's id (16 characters)")->capture_default_str();
  phone->add_option("--registration-id", o.registration_id, "The push id polling shows as reg_id");
  phone->add_option("--counter", o.counter, "HOTP: the counter whose code to print (default: the reply's counter)")
      ->check(CLI::NonNegativeNumber);
  for (auto* op : {import, poll, provision, activate, phone}) op->fallthrough();  // client options after the operation
  return client;
}

int run_cli(const CLI::App& client, const cli_options& o) {
  auto* op = client.get_subcommands().front();
  const std::string& name = op->get_name();
  try {
    auto to = connection_for(o, name);
    if (name == "import") return run_import(o, to);
    if (name == "poll") return run_poll(o, to);
    if (name == "provision") return run_provision(o, to);
    if (name == "activate") return run_activate(o, to);
    return run_phone(o, to, client.get_option("--device-version")->count() > 0);
  } catch (const std::exception& e) {  // transport_error, a bad --server, a QR file that cannot be written
    return report_failure(e.what(), o.json);
  }
}

}  // namespace fortisim::client
