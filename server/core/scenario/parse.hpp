#pragma once
// Private to the scenario loader: the checker that walks a document collecting every problem
// with its JSON path, and the parsers of each part of a scenario (one file each).

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

  void fail(const std::string& path, std::string reason) { problems.push_back({path, std::move(reason)}); }
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
void world(checker& c, const json& root, scenario& s);                          // scenario_load.cpp
void rule_at(checker& c, const json& j, const std::string& path, scenario& s);  // rule_parse.cpp
/// The scenario's rules, each named (a rule without a name is called after its place, "rule [3]"),
/// and no two with one name: a clash is a problem naming both rules' JSON paths. rule_parse.cpp
void rules_at(checker& c, const json& root, scenario& s);
std::optional<action> action_at(checker& c, const json& j, const std::string& path,
                                const protocol::error_table& errors);                  // fault_parse.cpp
void protocol_table(checker& c, const json& j, const std::string& path, scenario& s);  // protocol_parse.cpp
/// An error given as a code, a catalogue name, or {"code": N, "message": "..."}.
std::optional<protocol::error_value> error_ref(checker& c, const json& j, const std::string& path,
                                               const protocol::error_table& errors);  // protocol_parse.cpp

}  // namespace fortisim::core::parse
