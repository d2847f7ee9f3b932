#pragma once
// JSON from outside (a request body, a scenario, a state file, a control call) parsed with a bound
// on its nesting, so that nothing later recurses deeper than that over it: a body of 70,000 '['
// is refused here, not by a stack overflow elsewhere.

#include "protocol/messages.hpp"

#include <string>
#include <string_view>
#include <variant>

namespace fortisim::protocol {

/// The deepest nesting of arrays and objects fortisim accepts in any JSON it reads.
inline constexpr int max_json_depth = 64;

/// Parses `text` (with `//` and `/* */` comments when `comments`), refusing nesting deeper than
/// `max_json_depth`. The value, or why not ("line 3, column 2: syntax error …",
/// "nesting deeper than 64 levels").
std::variant<json, std::string> parse_bounded(std::string_view text, bool comments = false);

}  // namespace fortisim::protocol
