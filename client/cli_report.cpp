#include "client/cli_report.hpp"

#include "protocol/bounded_json.hpp"
#include "protocol/printable.hpp"

#include <iostream>

namespace fortisim::client {

namespace {

using protocol::json;

/// A body as JSON when it is JSON, else as the text it is.
json body_value(const std::string& body) {
  auto parsed = protocol::parse_bounded(body);  // a server's reply nested a million deep is text here
  auto* j = std::get_if<json>(&parsed);
  return j ? *j : json(body);
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

/// Every reason this exchange is not a success, in words.
std::vector<std::string> problems(const exchange& x) {
  if (x.received.status != 200) return {"HTTP " + std::to_string(x.received.status) + " (expected 200)"};
  if (!x.reply) return {"not a " + std::string(protocol::operation_name(x.op)) + " reply: " + x.undecodable};
  return forticare_errors(*x.reply);
}

}  // namespace

int report(const exchange& x, const json& result, const std::vector<std::string>& lines, bool json_mode) {
  auto wrong = problems(x);
  bool protocol_reply = x.received.status == 200 && x.reply;
  int status = wrong.empty() ? exit_ok : protocol_reply ? exit_forticare_error : exit_failure;
  std::string server = x.to.host + ":" + std::to_string(x.to.port);
  if (json_mode) {
    json out{{"operation", protocol::operation_name(x.op)},
             {"server", server},
             {"sni", x.to.sni},
             {"path", x.path},
             {"sent", body_value(x.sent)},
             {"status", x.received.status},
             {"received", body_value(x.received.body)},
             {"errors", wrong},
             {"result", protocol_reply ? result : json(nullptr)}};
    std::cout << dump(out) << std::endl;
    return status;
  }
  std::cout << "> POST " << x.path << " to " << server << ", SNI " << x.to.sni << "\n> " << x.sent << "\n< HTTP "
            << x.received.status << "\n< " << protocol::printable(x.received.body) << "\n";
  if (protocol_reply)
    for (const auto& l : lines) std::cout << protocol::printable(l) << "\n";
  for (const auto& w : wrong) std::cout << (protocol_reply ? "FortiCare " : "") << protocol::printable(w) << "\n";
  std::cout << std::flush;
  return status;
}

int report_failure(std::string_view what, bool json_mode) {
  if (json_mode) std::cout << dump(json{{"failure", what}}) << std::endl;
  std::cerr << "fortisim client: " << what << std::endl;
  return exit_failure;
}

void warn(std::string_view what) { std::cerr << "fortisim client: warning: " << what << std::endl; }

}  // namespace fortisim::client
