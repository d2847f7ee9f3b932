#pragma once
// The per-request fast path: a FortiGate's or the phone's request body read straight into its
// request struct, without a JSON tree. It reads only the plain shape the devices send
// (docs/protocol.md §3, §4), written as they write it (objects, arrays, strings of printable
// ASCII, a ProvisionRequest's small integers), and declines anything else, so that whatever it accepts decodes exactly
// as decode_request does over nlohmann's tree; the caller takes the tree path for the rest (errors, escapes, numbers
// other than a ProvisionRequest's, rules that read arbitrary fields).

#include "protocol/messages.hpp"

#include <optional>
#include <string_view>

namespace fortisim::protocol {

/// The request `body` carries, or nothing when the body is not in the plain shape: exactly
/// `{"d": {...}}`, every key of "d" one its operation reads (at most once, strings where
/// decode_request reads strings, no nulls), `__type` naming an operation of `names` (none on the
/// `mobile` endpoint means the phone's request), the required fields present, and a
/// ProvisionRequest's tokens objects of its keys whose numbers are in range. Declining is never an
/// error: it only means "take the tree path".
std::optional<request> read_request_direct(std::string_view body, const message_names& names, bool mobile);

/// The same, read into `out`, which may hold an earlier request: every field is written (nothing of
/// the earlier one stays), and when `out` already holds this kind of request its strings keep
/// their storage, so a connection's next request allocates nothing. False (and `out` unchanged)
/// where the other form gives nothing.
bool read_request_direct(std::string_view body, const message_names& names, bool mobile, request& out);

/// The `__type` a decoded request carries ("" for none).
const std::string& request_type(const request& r);

}  // namespace fortisim::protocol
