#pragma once
// JSON from outside (a request body, a scenario, a state file, a control call) parsed with bounds:
// on its nesting, so that nothing later recurses deeper than that over it (a body of 70,000 '['
// is refused here, not by a stack overflow elsewhere), and on the keys of one object, since
// finding a key among an object's keys takes time in their number (a 1 MiB object of 70,000 keys
// took seconds to parse).

#include "protocol/messages.hpp"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fortisim::protocol {

/// The deepest nesting of arrays and objects fortisim accepts in any JSON it reads.
inline constexpr int max_json_depth = 64;
/// The most keys one object may give in any JSON fortisim reads (the protocol's objects have
/// about twenty; a scenario's maps, such as `dns.hosts`, a few dozen).
inline constexpr unsigned max_object_keys = 256;
/// The most keys given twice that one parse lists.
inline constexpr std::size_t max_listed_twice = 100;

/// Why a text was refused, or a key an object gave twice: where ("$" for the text as a whole, or
/// the key's path, "$.licenses[0].name") and why ("line 3, column 2: syntax error …", "nesting
/// deeper than 64 levels").
struct json_refusal {
  enum class kind { syntax, too_deep, too_many_keys, given_twice };
  kind what = kind::syntax;
  std::string path = "$";
  std::string reason;
};

struct json_rules {
  bool comments = false;  ///< `//` and `/* */` comments allowed (scenario files)
  /// When given, each key an object gives twice is listed here (the first `max_listed_twice`),
  /// with its path: JSON keeps the last value silently, so the caller can refuse instead. The
  /// path of a refusal is then that of the object too, not "$".
  std::vector<json_refusal>* given_twice = nullptr;
};

/// Parses `text` under `rules`, refusing nesting deeper than `max_json_depth` and an object of more
/// than `max_object_keys` keys.
std::variant<json, json_refusal> parse_bounded(std::string_view text, json_rules rules = {});

/// A key as a JSON path names it after its object's path: `.name` for a plain word, `["a.b"]`
/// for any other (quoted and escaped as JSON; past 64 bytes shortened with "…").
std::string json_path_key(std::string_view key);

}  // namespace fortisim::protocol
