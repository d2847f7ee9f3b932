#include "protocol/bounded_json.hpp"

namespace fortisim::protocol {

namespace {

/// Thrown by the parser's callback to stop at the first level too deep.
struct too_deep {};

/// The parser's message without its "last read: '…'" excerpt: line and column say where, and the
/// excerpt may be a secret written without quotes, which the message would then show everywhere.
std::string without_excerpt(std::string message) {
  auto from = message.find("; last read: '");
  if (from == std::string::npos) return message;
  auto to = message.find("'; expected", from + 14);
  if (to == std::string::npos) to = message.rfind('\'');
  return message.erase(from, to + 1 - from);
}

}  // namespace

std::variant<json, std::string> parse_bounded(std::string_view text, bool comments) {
  // The callback sees each value's depth as the (iterative) parser reaches it.
  json::parser_callback_t bound = [](int depth, json::parse_event_t, json&) {
    if (depth > max_json_depth) throw too_deep{};
    return true;
  };
  try {
    return json::parse(text, bound, /*allow_exceptions=*/true, comments);
  } catch (const too_deep&) {
    return "nesting deeper than " + std::to_string(max_json_depth) + " levels";
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    return without_excerpt(e.what());
  }
}

}  // namespace fortisim::protocol
