#pragma once
// What `fortisim client` refuses to believe of a server: a reply of the wrong shape (a field of
// the wrong JSON type), tokens it did not ask about, and seeds that are not seeds. The server may
// be anything a lab points the client at; nothing it sends picks a file name or passes unchecked.

#include "protocol/messages.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fortisim::client {

/// Why `d` (a reply's "d") is not shaped as the protocol's replies are, or nothing: every field
/// the client reads has its JSON type or is null (strings, integers, `tokens` an array of
/// objects, `error` an object), at any depth. Fields it does not read are let be.
std::optional<std::string> wrong_shape(const protocol::json& d);

/// Why `r` cannot be believed for a request about `asked` (token serials), or nothing: a token
/// it did not ask about, or (hardware activation, the phone) a seed that is not 40 hex digits.
std::optional<std::string> unbelievable(const protocol::response& r, const std::vector<std::string>& asked);

/// A reply's body as the client takes it: the reply, or why it is not believed (`why`).
struct believed {
  std::optional<protocol::response> reply;
  std::string why;
};

/// Reads `body` as the reply to `op` about `asked`: parsed with the server's own depth bound,
/// shaped as the protocol's replies (wrong_shape), decoded, and believable (unbelievable).
believed believe(protocol::operation op, std::string_view body, const std::vector<std::string>& asked);

}  // namespace fortisim::client
