// The scenario loader's checker: typed reads of a JSON document that record every problem with
// its JSON path instead of stopping at the first.
#include "protocol/formats.hpp"
#include "server/core/scenario/parse.hpp"

#include <algorithm>

namespace fortisim::core::parse {

std::optional<std::string_view> closest(std::string_view key, const std::vector<std::string_view>& known) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    return row[b.size()];
  };
  std::optional<std::string_view> best;
  std::size_t best_distance = std::max<std::size_t>(2, key.size() / 3) + 1;
  for (auto k : known)
    if (auto d = distance(key, k); d < best_distance) {
      best = k;
      best_distance = d;
    }
  return best;
}

void checker::only_keys(const json& j, const std::string& path, std::initializer_list<std::string_view> allowed) {
  only_keys(j, path, std::vector<std::string_view>(allowed));
}

void checker::only_keys(const json& j, const std::string& path, const std::vector<std::string_view>& allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    auto near = closest(key, allowed);
    fail(path + protocol::json_path_key(key),
         "unknown key" + (near ? "; did you mean \"" + std::string(*near) + "\"?" : std::string()) +
             " (expected one of: " + list + ")");
  }
}

bool checker::is_object(const json& j, const std::string& path) {
  if (j.is_object()) return true;
  fail(path, std::string("expected an object, got ") + j.type_name());
  return false;
}

std::optional<std::string> checker::string_at(const json& j, const char* key, const std::string& path, bool required) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) fail(path + "." + key, "missing (expected a string)");
    return std::nullopt;
  }
  if (!it->is_string()) {
    fail(path + "." + key, std::string("expected a string, got ") + it->type_name());
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::optional<std::int64_t> checker::int_at(const json& j, const char* key, const std::string& path, std::int64_t min,
                                            std::int64_t max, bool required) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) fail(path + "." + key, "missing (expected an integer)");
    return std::nullopt;
  }
  // An unsigned value above INT64_MAX is out of every range we accept.
  if (!it->is_number_integer() || (it->is_number_unsigned() && it->get<std::uint64_t>() > INT64_MAX)) {
    fail(path + "." + key, it->is_number_integer() ? "expected " + std::to_string(min) + " to " + std::to_string(max)
                                                   : std::string("expected an integer, got ") + it->type_name());
    return std::nullopt;
  }
  auto v = it->get<std::int64_t>();
  if (v < min || v > max) {
    fail(path + "." + key,
         "expected " + std::to_string(min) + " to " + std::to_string(max) + ", got " + std::to_string(v));
    return std::nullopt;
  }
  return v;
}

std::optional<double> checker::number_at(const json& j, const char* key, const std::string& path, double min,
                                         double max) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (!it->is_number() || it->get<double>() < min || it->get<double>() > max) {
    fail(path + "." + key, "expected a number from " + json(min).dump() + " to " + json(max).dump() + got(*it));
    return std::nullopt;
  }
  return it->get<double>();
}

std::optional<bool> checker::bool_at(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (!it->is_boolean()) {
    fail(path + "." + key, std::string("expected true or false, got ") + it->type_name());
    return std::nullopt;
  }
  return it->get<bool>();
}

std::optional<std::int64_t> checker::time_at(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  auto t = parse_time(*it);
  if (!t)
    fail(path + "." + key,
         "expected a date \"YYYY-MM-DD\", a time \"YYYY-MM-DDThh:mm:ssZ\" or unix seconds, from 1970 to 9999" +
             got(*it));
  return t;
}

std::string checker::secret_at(const json& j, const char* key, const std::string& path) {
  auto s = string_at(j, key, path);
  if (!s) return {};
  auto raw = protocol::hex_decode(*s);
  if (!raw || raw->size() != 20) {
    fail(path + "." + key, "expected 40 hex digits (a 20-byte secret)");
    return {};
  }
  return *raw;
}

std::optional<std::vector<std::string>> checker::strings_at(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (!it->is_array() || !std::all_of(it->begin(), it->end(), [](const json& v) { return v.is_string(); })) {
    fail(path + "." + key, "expected an array of strings");
    return std::nullopt;
  }
  return it->get<std::vector<std::string>>();
}

}  // namespace fortisim::core::parse
