#pragma once
// The tree path of a request body, as the engine takes it when it does not read the body
// directly: parse, find "d" and its __type, decode_request. The request, or nothing where that
// path answers an error. Tests compare protocol::read_request_direct against it.

#include "protocol/bounded_json.hpp"
#include "protocol/messages.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace fortisim::test {

inline std::optional<protocol::request> through_tree(std::string_view body, bool mobile) {
  using protocol::json;
  auto parsed = protocol::parse_bounded(body);
  auto* tree = std::get_if<json>(&parsed);
  if (!tree || !tree->is_object()) return std::nullopt;
  auto d = tree->find("d");
  if (d == tree->end() || !d->is_object()) return std::nullopt;
  auto t = d->find("__type");
  std::string type = t != d->end() && t->is_string() ? t->get<std::string>() : "";
  auto op = protocol::default_message_names().find(type);
  if (!op && type.empty() && mobile) op = protocol::operation::mobile_provision;
  if (!op) return std::nullopt;
  auto decoded = protocol::decode_request(*op, *d);
  if (std::holds_alternative<protocol::field_error>(decoded)) return std::nullopt;
  return std::get<protocol::request>(std::move(decoded));
}

}  // namespace fortisim::test
