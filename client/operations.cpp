#include "client/operations.hpp"

#include "client/distrust.hpp"
#include "client/fortios_text.hpp"

namespace fortisim::client {

namespace {

using protocol::json;
using protocol::operation;

/// FortiOS 7.4.10's request headers in the captured order (docs/protocol.md §2); the transport
/// fills in Host and Content-Length where they stand.
const std::vector<header>& fortigate_headers() {
  static const std::vector<header> h{
      {"Accept", "application/json, text/javascript, */*, q=0.01"},
      {"Content-Type", "application/json;charset=utf-8"},
      {"X-Requested-With", "XMLHttpRequest"},
      {"Accept-Language", "en-us"},
      {"Accept-Encoding", "gzip, deflate"},
      {"User-Agent", "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; WOW64; Trident/5.0)"},
      {"Host", ""},
      {"Content-Length", ""},
      {"Connection", "Keep-Alive"},
      {"Cache-Control", "no-cache"}};
  return h;
}

/// The phone app's headers [seen].
const std::vector<header>& phone_headers() {
  static const std::vector<header> h{{"Accept", "application/json"}, {"Content-Type", "application/json"}};
  return h;
}

protocol::envelope envelope_of(const device& from, operation op) {
  protocol::envelope env;
  env.type = protocol::default_message_names().request[static_cast<std::size_t>(op)];
  env.version = "4";  // every capture, FortiOS 6.0 to 7.4.10
  env.serial_number = from.serial;
  env.device_version = from.version;
  env.device_build = from.build;
  env.clustered_sns.push_back(from.serial);
  for (const auto& sn : from.cluster)
    if (sn != from.serial) env.clustered_sns.push_back(sn);
  return env;
}

/// Posts `body` and reads the reply, believing only what a server of the protocol would send
/// about `asked` (client/distrust.hpp): anything else leaves `undecodable` saying why.
exchange send(const connection_options& to, operation op, std::string_view path, std::string body,
              const std::vector<header>& headers, const std::vector<std::string>& asked = {}) {
  exchange x;
  x.op = op;
  x.to = to;
  x.path = path;
  x.sent = std::move(body);
  x.received = post(to, path, x.sent, headers);
  auto taken = believe(op, x.received.body, asked);
  x.reply = std::move(taken.reply);
  x.undecodable = std::move(taken.why);
  return x;
}

std::string describe(const protocol::error_value& e) { return "error " + std::to_string(e.code) + ": " + e.message; }

}  // namespace

exchange import_licence(const connection_options& to, const device& from, const std::string& code) {
  protocol::activation_license_request r{envelope_of(from, operation::activation_license), code};
  return send(to, operation::activation_license, protocol::process_path,
              fortios_text(protocol::encode(protocol::request(r))), fortigate_headers());
}

exchange poll(const connection_options& to, const device& from, const std::vector<std::string>& tokens) {
  protocol::polling_request r{envelope_of(from, operation::polling), tokens};
  return send(to, operation::polling, protocol::process_path, fortios_text(protocol::encode(protocol::request(r))),
              fortigate_headers(), tokens);
}

exchange provision(const connection_options& to, const device& from,
                   const std::vector<protocol::provisioned_token>& tokens) {
  protocol::provision_request r{envelope_of(from, operation::provision), tokens};
  std::vector<std::string> asked;
  for (const auto& t : tokens) asked.push_back(t.token);
  return send(to, operation::provision, protocol::process_path, fortios_text(protocol::encode(protocol::request(r))),
              fortigate_headers(), asked);
}

exchange activate(const connection_options& to, const device& from, const std::vector<std::string>& serials) {
  protocol::hardware_activation_request r{envelope_of(from, operation::hardware_activation), serials};
  return send(to, operation::hardware_activation, protocol::process_path,
              fortios_text(protocol::encode(protocol::request(r))), fortigate_headers(), serials);
}

exchange phone(const connection_options& to, const protocol::mobile_provision_request& request) {
  return send(to, operation::mobile_provision, protocol::mobile_path,
              protocol::encode(protocol::request(request)).dump(), phone_headers());
}

std::vector<std::string> forticare_errors(const protocol::response& r) {
  std::vector<std::string> out;
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, protocol::error_response>) {
          out.push_back(describe(m.error));
        } else {
          if (m.error) out.push_back(describe(*m.error));
          // A FortiGate reply's HA member error: a string of its own beside the codes [seen: KB 308115].
          if constexpr (requires { m.head.members; })
            for (const auto& member : m.head.members)
              if (member.error) out.push_back("HA member " + member.sn + ": " + *member.error);
          if constexpr (std::is_same_v<T, protocol::provision_response> ||
                        std::is_same_v<T, protocol::hardware_activation_response>)
            for (const auto& t : m.tokens)
              if (t.error) out.push_back(t.token + ": " + describe(*t.error));
        }
      },
      r);
  return out;
}

}  // namespace fortisim::client
