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

struct json_rules {
  bool comments = false;     ///< `//` and `/* */` comments allowed (scenario files)
  bool unique_keys = false;  ///< an object giving a key twice refused: JSON would keep the last silently
};

/// Why a text was refused: where ("$" for the text as a whole, or the path of a key given twice,
/// "$.licenses[0].name") and why ("line 3, column 2: syntax error …", "nesting deeper than 64
/// levels", "given twice in one object").
struct json_refusal {
  std::string path = "$";
  std::string reason;
};

/// Parses `text` under `rules`, refusing nesting deeper than `max_json_depth`.
std::variant<json, json_refusal> parse_bounded(std::string_view text, json_rules rules = {});

}  // namespace fortisim::protocol
