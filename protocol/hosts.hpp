#pragma once
// The Fortinet host names a FortiGate, a FortiAuthenticator or the FortiToken Mobile app resolve
// to reach FortiCare and FortiGuard (docs/protocol.md §6): written once, here. The lab server
// certificate names them (server/net/certs.cpp) and the DNS responder answers them
// (server/net/dns.cpp), together with the names a scenario adds ("dns": {"names": […]}).

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fortisim::protocol {

/// Every Fortinet name of docs/protocol.md §6, lower case, without a trailing dot:
/// "directregistration.fortinet.com", "fds1.fortinet.com", "globalftm.fortinet.net", …
const std::vector<std::string>& fortinet_host_names();

/// Which of them: all, or the token path's alone: the names a FortiGate, a FortiAuthenticator or
/// the app reach FortiCare's token service at (directregistration, globalftm, fortinet-ca2,
/// fortitokenmobile), without FortiGuard's update and licence names.
enum class host_names { all, token };

/// The names of `which`, in the order of fortinet_host_names().
const std::vector<std::string>& host_names_of(host_names which);

/// `name` as names are compared: lower case (ASCII), without the trailing dot of an absolute name.
/// "FDS1.Fortinet.COM." -> "fds1.fortinet.com"; the root "." -> "".
std::string canonical_host_name(std::string_view name);

/// Whether two names are the same host: case-insensitive (ASCII, as DNS compares), with or
/// without a trailing dot.
bool same_host_name(std::string_view a, std::string_view b);

/// Whether `name` is a Fortinet name of `which` or one of `extra` (a scenario's "dns.names").
bool is_known_host_name(std::string_view name, std::span<const std::string> extra = {},
                        host_names which = host_names::all);

/// A host name a scenario may list: labels of 1 to 63 letters, digits, '-' or '_', separated by
/// dots (a trailing dot allowed), 253 characters at most. "lab.example.net" yes; "a..b", "*.x" no.
bool is_host_name(std::string_view name);

}  // namespace fortisim::protocol
