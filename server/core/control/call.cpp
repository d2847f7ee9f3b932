// Strict readers for a control call's query and body.
#include "server/core/control/call.hpp"

#include <algorithm>
#include <charconv>

namespace fortisim::core::control {

namespace {

std::string listed(std::span<const std::string_view> allowed) {
  std::string out;
  for (auto a : allowed) out += (out.empty() ? "" : ", ") + std::string(a);
  return out.empty() ? "none" : out;
}

}  // namespace

void call::only_query(std::span<const std::string_view> allowed) const {
  for (const auto& [key, value] : query)
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      throw bad_call("unknown parameter \"" + key + "\" (expected: " + listed(allowed) + ")");
}

void call::announce(std::string_view action, const json& given) const {
  json fields{{"action", action}};
  fields.update(given);
  engine.notice("control", std::move(fields));
}

void call::only_keys(std::initializer_list<std::string_view> allowed) const {
  for (auto it = body.begin(); it != body.end(); ++it)
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
      throw bad_call("unknown key \"" + it.key() + "\" (expected: " + listed({allowed.begin(), allowed.size()}) + ")");
}

std::optional<std::string> call::text(const char* key) const {
  auto it = body.find(key);
  if (it == body.end()) return std::nullopt;
  if (!it->is_string()) throw bad_call(std::string(key) + ": expected a string, got " + it->type_name());
  return it->get<std::string>();
}

std::optional<std::int64_t> call::integer(const char* key, std::int64_t min, std::int64_t max) const {
  auto it = body.find(key);
  if (it == body.end()) return std::nullopt;
  bool in_range = it->is_number_integer() && !(it->is_number_unsigned() && it->get<std::uint64_t>() > INT64_MAX) &&
                  it->get<std::int64_t>() >= min && it->get<std::int64_t>() <= max;
  if (!in_range)
    throw bad_call(std::string(key) + ": expected an integer from " + std::to_string(min) + " to " +
                   std::to_string(max) + ", got " + it->dump());
  return it->get<std::int64_t>();
}

std::optional<std::string> call::query_text(std::string_view key) const {
  auto it = query.find(key);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::optional<std::int64_t> call::query_integer(std::string_view key, std::int64_t min, std::int64_t max) const {
  auto v = query_text(key);
  if (!v) return std::nullopt;
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < min || n > max)
    throw bad_call(std::string(key) + ": expected an integer from " + std::to_string(min) + " to " +
                   std::to_string(max) + ", got \"" + *v + "\"");
  return n;
}

}  // namespace fortisim::core::control
