#include "protocol/bounded_json.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <optional>
#include <set>

namespace fortisim::protocol {

namespace {

/// Thrown by the builder to stop at the first bound crossed.
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

/// Where the parser is: each open object with the keys it gave so far, each open array with the
/// index of its next element. Lists each key given twice.
class key_tracker {
 public:
  explicit key_tracker(std::vector<json_refusal>& twice) : twice_(twice) {}

  void open(bool object) { open_.push_back({object}); }
  void key(const std::string& k) {
    auto& top = open_.back();
    top.key = k;
    if (!top.keys.insert(k).second && twice_.size() < max_listed_twice)
      twice_.push_back({json_refusal::kind::given_twice, path(),
                        "given twice in one object (JSON would keep the last one silently)"});
  }
  void close() {
    open_.pop_back();
    value();
  }
  /// A value ended: an array's next element has the next index.
  void value() {
    if (!open_.empty() && !open_.back().object) ++open_.back().index;
  }

  /// The path of the key or element the parser is at, in the checker's form: $.licenses[0].name
  std::string path() const { return path_of(open_.size()); }
  /// The path of the innermost open object or array.
  std::string open_path() const { return path_of(open_.empty() ? 0 : open_.size() - 1); }

 private:
  struct level {
    bool object;
    std::set<std::string, std::less<>> keys{};
    std::string key{};
    std::size_t index = 0;
  };

  std::string path_of(std::size_t levels) const {
    std::string out = "$";
    for (std::size_t i = 0; i < levels; ++i)
      out += open_[i].object ? json_path_key(open_[i].key) : "[" + std::to_string(open_[i].index) + "]";
    return out;
  }

  std::vector<json_refusal>& twice_;
  std::vector<level> open_;
};

/// nlohmann's own tree builder behind the bounds. Its callback parser would check them as well, but
/// scans an object's or array's parent for discarded values whenever one ends: quadratic in the
/// elements of an array of objects (a 1 MiB array of 350,000 {} took 20 s to read).
class bounded_builder {
 public:
  bounded_builder(json& root, key_tracker* tracker) : dom_(root), tracker_(tracker) {}

  bool null() { return value(), dom_.null(); }
  bool boolean(bool v) { return value(), dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return value(), dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return value(), dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) { return value(), dom_.number_float(v, s); }
  bool string(json::string_t& v) { return value(), dom_.string(v); }
  bool binary(json::binary_t& v) { return value(), dom_.binary(v); }

  bool start_object(std::size_t n) {
    open(true);
    keys_at_[depth_] = 0;
    return dom_.start_object(n);
  }
  bool key(json::string_t& k) {
    // Counted before the tracker sees the key: a refusal names the object, not its 257th key.
    if (++keys_at_[depth_] > max_object_keys) throw crossed{json_refusal::kind::too_many_keys};
    if (tracker_) tracker_->key(k);
    return dom_.key(k);
  }
  bool end_object() { return close(), dom_.end_object(); }
  bool start_array(std::size_t n) { return open(false), dom_.start_array(n); }
  bool end_array() { return close(), dom_.end_array(); }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& e) {
    return dom_.parse_error(position, token, e);  // throws it
  }

 private:
  void open(bool object) {
    if (++depth_ > max_json_depth) throw crossed{json_refusal::kind::too_deep};
    if (tracker_) tracker_->open(object);
  }
  void close() {
    --depth_;
    if (tracker_) tracker_->close();
  }
  void value() {
    if (tracker_) tracker_->value();
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  key_tracker* tracker_;
  std::size_t depth_ = 0;
  std::array<std::uint32_t, max_json_depth + 1> keys_at_{};  ///< keys of the open object at each depth
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
  json root;
  bounded_builder builder(root, tracker ? &*tracker : nullptr);
  try {
    json::sax_parse(text, &builder, json::input_format_t::json, /*strict=*/true, rules.comments);
    return root;
  } catch (const crossed& c) {
    if (c.what == json_refusal::kind::too_deep)
      return json_refusal{c.what, "$", "nesting deeper than " + std::to_string(max_json_depth) + " levels"};
    return json_refusal{c.what, tracker ? tracker->open_path() : "$",
                        "an object of more than " + std::to_string(max_object_keys) + " keys"};
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    return json_refusal{json_refusal::kind::syntax, "$", without_excerpt(e.what())};
  }
}

}  // namespace fortisim::protocol
