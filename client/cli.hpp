#pragma once
// `fortisim client`: a FortiGate's and a phone's side of the protocol from the command line, so
// a lab engineer can drive any fortisim (or anything that speaks the protocol) without a device:
//   fortisim client import CODE | poll TOKEN… | provision TOKEN… | activate SERIAL… | phone CODE
// with --server ADDR:PORT, --cacert FILE, --sni NAME, --serial, --cluster, --device-version,
// --device-build and --json. It prints what it sent and what it got; the exit status is 0 when
// the reply is a success, 1 when it carries a FortiCare error, 2 when there is no reply to speak
// of (transport, TLS, a reply that is not the protocol's, the command line).

#include "client/operations.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fortisim::client {

/// The `mobile_id` the phone sends unless told otherwise (16 characters, as Android sends).
inline constexpr const char* default_mobile_id = "fortisimclient01";

/// Everything `fortisim client` is told, parsed once.
struct cli_options {
  std::string server = "127.0.0.1:443";  ///< ADDR:PORT of the server
  std::string cacert;                    ///< the CA to trust; main sets the data folder's ca.pem
  std::string sni;                       ///< "": the host the real client uses for the operation
  bool insecure = false;
  std::int64_t timeout_ms = 10'000;
  device from;
  bool json = false;                     ///< one JSON object on stdout instead of text
  std::string code;                      ///< import: the licence code; phone: the user's activation code
  std::vector<std::string> serials;      ///< poll, provision: tokens; activate: hardware tokens
  std::string qr_dir;                    ///< provision: write each QR code as DIR/<token>.png
  std::int64_t code_expire = 4320;       ///< provision: minutes the activation code lasts
  int period = 60;                       ///< provision: the OTP period asked for (30 or 60)
  int digits = 6;                        ///< provision: the digits asked for; phone: the OTP's length
  std::string otp_type = "totp";         ///< provision: the type asked for; phone: how it computes
  std::optional<std::uint64_t> counter;  ///< phone, HOTP: the counter whose code it prints (default: the reply's)
  std::string mobile_id = default_mobile_id;
  std::string registration_id;  ///< phone: the push id polling shows as reg_id
};

/// Adds `client` and its operations to `app`; returns the `client` subcommand.
CLI::App* add_cli(CLI::App& app, cli_options& o);
/// Runs the operation chosen under `client`; returns the exit status.
int run_cli(const CLI::App& client, const cli_options& o);

}  // namespace fortisim::client
