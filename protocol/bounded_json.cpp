#include "protocol/bounded_json.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <optional>
#include <set>

namespace fortisim::protocol {

namespace {

/// Thrown by the parser's callback to stop at the first bound crossed.
struct crossed {
  json_refusal::kind what;
};

/// The parser's message without its "[json.exception.parse_error.101] " prefix and its "last
/// read: '…'" excerpt: line and column say where, and the excerpt may be a secret written without
/// quotes, which the message would then show everywhere.
std::string without_excerpt(std::string message) {
  if (message.starts_with("[json.exception.")) {
    auto end = message.find("] ");
    if (end != std::string::npos) message.erase(0, end + 2);
  }
  auto from = message.find("; last read: '");
  if (from == std::string::npos) return message;
  auto to = message.find("'; expected", from + 14);
  if (to == std::string::npos) to = message.rfind('\'');
  return message.erase(from, to + 1 - from);
}

/// Where the parser is, as the parser's events tell it: each open object with the keys it gave
/// so far, each open array with the index of its next element. Lists each key given twice.
class key_tracker {
 public:
  explicit key_tracker(std::vector<json_refusal>& twice) : twice_(twice) {}

  void on(json::parse_event_t event, const json& parsed) {
    using e = json::parse_event_t;
    switch (event) {
      case e::object_start: open_.push_back({true}); break;
      case e::array_start: open_.push_back({false}); break;
      case e::key: {
        auto& top = open_.back();
        top.key = parsed.get_ref<const std::string&>();
        if (!top.keys.insert(top.key).second && twice_.size() < max_listed_twice)
          twice_.push_back({json_refusal::kind::given_twice, path(),
                            "given twice in one object (JSON would keep the last one silently)"});
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

  /// The path of the key or element the parser is at, in the checker's form: $.licenses[0].name
  std::string path() const { return path_of(open_.size()); }
  /// The path of the innermost open object or array.
  std::string open_path() const { return path_of(open_.empty() ? 0 : open_.size() - 1); }

 private:
  std::string path_of(std::size_t levels) const {
    std::string out = "$";
    for (std::size_t i = 0; i < levels; ++i)
      out += open_[i].object ? json_path_key(open_[i].key) : "[" + std::to_string(open_[i].index) + "]";
    return out;
  }

  struct level {
    bool object;
    std::set<std::string, std::less<>> keys{};
    std::string key{};
    std::size_t index = 0;
  };

  void next_element() {
    if (!open_.empty() && !open_.back().object) ++open_.back().index;
  }

  std::vector<json_refusal>& twice_;
  std::vector<level> open_;
};

bool plain_word(std::string_view key) {
  if (key.empty() || key.size() > 64 || (key[0] >= '0' && key[0] <= '9')) return false;
  for (unsigned char ch : key)
    if (!(std::isalnum(ch) || ch == '_' || ch == '-' || ch == '$')) return false;
  return true;
}

}  // namespace

std::string json_path_key(std::string_view key) {
  if (plain_word(key)) return "." + std::string(key);
  bool cut = key.size() > 64;
  if (cut) {
    key = key.substr(0, 64);
    while (!key.empty() && (static_cast<unsigned char>(key.back()) & 0xC0) == 0x80) key.remove_suffix(1);
    if (!key.empty() && static_cast<unsigned char>(key.back()) >= 0xC0) key.remove_suffix(1);  // a lead byte cut off
  }
  std::string quoted = json(std::string(key)).dump(-1, ' ', false, json::error_handler_t::replace);
  if (cut) quoted.insert(quoted.size() - 1, "…");
  return "[" + quoted + "]";
}

std::variant<json, json_refusal> parse_bounded(std::string_view text, json_rules rules) {
  std::optional<key_tracker> tracker;
  if (rules.given_twice) tracker.emplace(*rules.given_twice);
  // How many keys the open object at each depth gave (no allocation: a request's parse makes none).
  std::array<std::uint32_t, max_json_depth + 2> keys_at{};
  // The callback sees each value's depth as the (iterative) parser reaches it.
  json::parser_callback_t bound = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > max_json_depth) throw crossed{json_refusal::kind::too_deep};
    if (event == json::parse_event_t::object_start)
      keys_at[static_cast<std::size_t>(depth) + 1] = 0;
    else if (event == json::parse_event_t::key && ++keys_at[static_cast<std::size_t>(depth)] > max_object_keys)
      throw crossed{json_refusal::kind::too_many_keys};
    if (tracker) tracker->on(event, parsed);
    return true;
  };
  try {
    return json::parse(text, bound, /*allow_exceptions=*/true, rules.comments);
  } catch (const crossed& c) {
    if (c.what == json_refusal::kind::too_deep)
      return json_refusal{c.what, "$", "nesting deeper than " + std::to_string(max_json_depth) + " levels"};
    // The bound is crossed before the tracker sees the key: the innermost open object is the one.
    return json_refusal{c.what, tracker ? tracker->open_path() : "$",
                        "an object of more than " + std::to_string(max_object_keys) + " keys"};
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    return json_refusal{json_refusal::kind::syntax, "$", without_excerpt(e.what())};
  }
}

}  // namespace fortisim::protocol
