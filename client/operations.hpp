#pragma once
// The protocol's operations as a FortiGate and the FortiToken Mobile app perform them: each
// builds its request with protocol/'s codecs (the same the server decodes with), posts it over
// HTTPS (client/https.hpp) and decodes the reply with protocol::decode_response. Headers are the
// captured ones (docs/protocol.md §2).

#include "client/https.hpp"
#include "protocol/messages.hpp"

#include <optional>
#include <string>
#include <vector>

namespace fortisim::client {

/// The FortiGate the client plays: what `--serial`, `--cluster`, `--device-version` and
/// `--device-build` say. The defaults are the FortiOS 7.4.10 unit of the public capture.
struct device {
  std::string serial = "FGT40FHA25099UXR";
  std::vector<std::string> cluster;  ///< the other HA members, e.g. {"FG4H0E5819900260"}
  std::string version = "7.0";       ///< `__device_version`, as FortiOS 7.4.10 sent it
  std::string build = "5309";        ///< `__device_build`
};

/// One exchange as the client saw it: what it sent, what came back, and the reply decoded.
struct exchange {
  protocol::operation op = protocol::operation::activation_license;
  connection_options to;
  std::string path;
  std::string sent;  ///< the request body, byte for byte
  http_reply received;
  /// The reply, when it is the operation's JSON; otherwise `undecodable` says why not.
  std::optional<protocol::response> reply;
  std::string undecodable;
};

/// A licence import (`SoftToken.ActivationLicenseRequest`) of `code`, "DA8C-0508-1F31-4CF7-C990".
exchange import_licence(const connection_options& to, const device& from, const std::string& code);
/// The state of `tokens` (`SoftToken.PollingRequest`).
exchange poll(const connection_options& to, const device& from, const std::vector<std::string>& tokens);
/// Uploads each token's seed (`SoftToken.ProvisionRequest`), written as FortiOS 7.4 writes it.
exchange provision(const connection_options& to, const device& from,
                   const std::vector<protocol::provisioned_token>& tokens);
/// Hardware tokens' seeds (`SoftToken.HardwareActivationRequest`), consuming their locks.
exchange activate(const connection_options& to, const device& from, const std::vector<std::string>& serials);
/// The phone trades an activation code for the encrypted seed (`SoftToken.MobileProvisionRequest`
/// to /Mobile).
exchange phone(const connection_options& to, const protocol::mobile_provision_request& request);

/// Every FortiCare error in a reply, one line each: "error 14: forticare license expired",
/// "FTKMOB5CA3C29179: error 31: token does not belong to product", and each HA member's
/// ("HA member FG200FT924000001: Product is not registered"). Empty when there is none.
std::vector<std::string> forticare_errors(const protocol::response& r);

}  // namespace fortisim::client
