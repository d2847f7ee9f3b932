#pragma once
// Private to the scenario loader: the checker that walks a document collecting every problem
// with its JSON path, and the parsers of each part of a scenario (one file each).

#include "protocol/bounded_json.hpp"
#include "protocol/printable.hpp"
#include "server/core/scenario/scenario.hpp"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fortisim::core::parse {

using protocol::json;

/// Walks one document, collecting every problem with its JSON path.
class checker {
 public:
  std::vector<problem> problems;

  /// Records a problem. Keys and values come from the file: control bytes are written as \xNN, so a
  /// key holding a line break cannot make one problem read as two.
  void fail(const std::string& path, const std::string& reason) {
    problems.push_back({protocol::printable(path, 1024), protocol::printable(reason, 2048)});
  }
  /// ", got <v>" for a problem's reason: the value as the file has it, cut at 64 bytes.
  static std::string got(const json& v) {
    auto text = v.dump();
    return ", got " + (text.size() > 64 ? text.substr(0, 61) + "..." : text);
  }
  /// Reports keys of `j` not in `allowed`, naming the closest allowed key (typos are the
  /// commonest scenario bug).
  void only_keys(const json& j, const std::string& path, std::initializer_list<std::string_view> allowed);
  void only_keys(const json& j, const std::string& path, const std::vector<std::string_view>& allowed);
  bool is_object(const json& j, const std::string& path);
  std::optional<std::string> string_at(const json& j, const char* key, const std::string& path, bool required = false);
  std::optional<std::int64_t> int_at(const json& j, const char* key, const std::string& path, std::int64_t min,
                                     std::int64_t max, bool required = false);
  std::optional<double> number_at(const json& j, const char* key, const std::string& path, double min, double max);
  std::optional<bool> bool_at(const json& j, const char* key, const std::string& path);
  std::optional<std::int64_t> time_at(const json& j, const char* key, const std::string& path);
  /// A 20-byte secret given as 40 hex digits ("" when absent or bad).
  std::string secret_at(const json& j, const char* key, const std::string& path);
  std::optional<std::vector<std::string>> strings_at(const json& j, const char* key, const std::string& path);
  /// Calls f(element, path) for each element of the array root[key], if present.
  template <class F>
  void each(const json& root, const char* key, const std::string& parent, F&& f) {
    auto it = root.find(key);
    if (it == root.end()) return;
    std::string path = parent + "." + key;
    if (!it->is_array()) {
      fail(path, std::string("expected an array, got ") + it->type_name());
      return;
    }
    for (std::size_t i = 0; i < it->size(); ++i) f((*it)[i], path + "[" + std::to_string(i) + "]");
  }
};

/// The closest of `known` to `key` by edit distance, if it is close enough to be a typo.
std::optional<std::string_view> closest(std::string_view key, const std::vector<std::string_view>& known);

// The parts of a scenario, each in its own file.
void world(checker& c, const json& root, scenario& s);                          // load.cpp
void rule_at(checker& c, const json& j, const std::string& path, scenario& s);  // rule_parse.cpp
/// The scenario's rules, each named (a rule without a name is called after its place, "rule [3]"),
/// and no two with one name: a clash is a problem naming both rules' JSON paths. rule_parse.cpp
void rules_at(checker& c, const json& root, scenario& s);
std::optional<action> action_at(checker& c, const json& j, const std::string& path,
                                const protocol::error_table& errors);                  // fault_parse.cpp
void protocol_table(checker& c, const json& j, const std::string& path, scenario& s);  // protocol_parse.cpp
/// "http": {"iis_headers": false, "headers": {"Server": "Apache", "X-Powered-By": null}}: the IIS
/// headers or none, then each named header added, replaced (a string) or removed (null). http_parse.cpp
void http(checker& c, const json& j, scenario& s);
/// Whether `name` is an HTTP field name (RFC 9110 §5.1: a token), at most 64 bytes.
bool field_name(std::string_view name);
/// Whether `value` may be a field value: at most 1024 visible bytes, spaces and tabs, none at its ends.
bool field_value(std::string_view value);
/// {"Name": "value" or null, …} at `path`: headers to add, replace or remove, each a name a
/// scenario may set, none given twice in two cases, at most `max_count` of them. http_parse.cpp
header_edits header_edits_at(checker& c, const json& j, const std::string& path, std::size_t max_count);
/// An error given as a code, a catalogue name, or {"code": N, "message": "..."}.
std::optional<protocol::error_value> error_ref(checker& c, const json& j, const std::string& path,
                                               const protocol::error_table& errors);  // protocol_parse.cpp

}  // namespace fortisim::core::parse
