#include "protocol/bounded_json.hpp"

namespace fortisim::protocol {

namespace {

/// Thrown by the parser's callback to stop at the first level too deep.
struct too_deep {};

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
    return std::string(e.what());
  }
}

}  // namespace fortisim::protocol
