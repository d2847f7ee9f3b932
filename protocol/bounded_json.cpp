#include "protocol/bounded_json.hpp"

#include <set>
#include <vector>

namespace fortisim::protocol {

namespace {

/// Thrown by the parser's callback to stop at the first level too deep.
struct too_deep {};

/// Thrown by the parser's callback at the first key an object gives twice, with its path.
struct given_twice {
  std::string path;
};

/// The parser's message without its "last read: '…'" excerpt: line and column say where, and the
/// excerpt may be a secret written without quotes, which the message would then show everywhere.
std::string without_excerpt(std::string message) {
  auto from = message.find("; last read: '");
  if (from == std::string::npos) return message;
  auto to = message.find("'; expected", from + 14);
  if (to == std::string::npos) to = message.rfind('\'');
  return message.erase(from, to + 1 - from);
}

/// Where the parser is, as the parser's events tell it: each open object with the keys it gave
/// so far, each open array with the index of its next element.
class key_tracker {
 public:
  void on(json::parse_event_t event, const json& parsed) {
    using e = json::parse_event_t;
    switch (event) {
      case e::object_start: open_.push_back({true}); break;
      case e::array_start: open_.push_back({false}); break;
      case e::key: {
        auto& top = open_.back();
        top.key = parsed.get_ref<const std::string&>();
        if (!top.keys.insert(top.key).second) throw given_twice{path()};
        break;
      }
      case e::object_end:
      case e::array_end:
        open_.pop_back();
        next_element();
        break;
      case e::value: next_element(); break;
    }
  }

 private:
  struct level {
    bool object;
    std::set<std::string, std::less<>> keys{};
    std::string key{};
    std::size_t index = 0;
  };

  void next_element() {
    if (!open_.empty() && !open_.back().object) ++open_.back().index;
  }

  /// The checker's form: $.licenses[0].name
  std::string path() const {
    std::string out = "$";
    for (const auto& l : open_) out += l.object ? "." + l.key : "[" + std::to_string(l.index) + "]";
    return out;
  }

  std::vector<level> open_;
};

}  // namespace

std::variant<json, json_refusal> parse_bounded(std::string_view text, json_rules rules) {
  key_tracker keys;
  // The callback sees each value's depth as the (iterative) parser reaches it.
  json::parser_callback_t bound = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > max_json_depth) throw too_deep{};
    if (rules.unique_keys) keys.on(event, parsed);
    return true;
  };
  try {
    return json::parse(text, bound, /*allow_exceptions=*/true, rules.comments);
  } catch (const too_deep&) {
    return json_refusal{.reason = "nesting deeper than " + std::to_string(max_json_depth) + " levels"};
  } catch (const given_twice& twice) {
    return json_refusal{twice.path, "given twice in one object (JSON would keep the last one silently)"};
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    return json_refusal{.reason = without_excerpt(e.what())};
  }
}

}  // namespace fortisim::protocol
