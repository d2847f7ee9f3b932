#pragma once
// Test support without sockets: the captures, scenarios from text, files, request bodies. Unit
// tests use only this (they build against core and protocol); integration support adds a server
// and a client (tests/integration/support.hpp).

#include "server/core/scenario/scenario.hpp"

#include <memory>
#include <string>
#include <vector>

namespace fortisim::test {

/// The captured licence-import request of docs/protocol.md §4.1 and its captured error-14 reply.
extern const std::string captured_request;
extern const std::string captured_reply;

/// FortiOS 7.4.10's captured request headers (docs/protocol.md §2), for a body of `length` bytes.
std::string fortigate_headers(std::size_t length);
/// The ProvisionRequest of the FortiOS 7.4.10 debug log, and its reply with "qr_code" replaced by
/// "QR" (ours has the captured pixels; the deflate stream is the encoder's).
extern const std::string provision_7410_request;
extern const std::string provision_7410_reply;
/// That reply's "qr_code" as captured: a 249-byte base64 PNG of EEIAI6ZLEYIRKOYV.
extern const std::string provision_7410_qr_code;
/// KB 308115's ProvisionRequest, and its reply (a token that is not the requester's).
extern const std::string kb308115_request;
extern const std::string kb308115_reply;

/// A scenario from text, failing the test if it does not load.
std::shared_ptr<const core::scenario> scenario_from(const std::string& json_text);
std::string read_file(const std::string& path);
/// A shipped scenario file's text (scenarios/NAME).
std::string shipped(const std::string& name);

/// An activation request body for `code` from `serial` (and optional HA members).
std::string import_request(const std::string& code, const std::string& serial = "FG4H0ETB20900993",
                           std::vector<std::string> members = {});

}  // namespace fortisim::test
