#include "protocol/hosts.hpp"

#include <algorithm>

namespace fortisim::protocol {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view without_trailing_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

}  // namespace

const std::vector<std::string>& fortinet_host_names() {
  static const std::vector<std::string> names{
      "directregistration.fortinet.com",  // FortiGate: licence import, provisioning, polling
      "fds1.fortinet.com",                // FortiGate: FortiGuard/FortiCare
      "globalftm.fortinet.net",           // FortiGate: FTM
      "fortitokenmobile.fortinet.com",    // FortiAuthenticator, the app
      "update.fortiguard.net",            // FortiAuthenticator
      "globalupdate.fortinet.net",
      "push.fortinet.com",
      "fortinet-ca2.fortinet.com",  // the Host of FortiOS 7.4's token requests (docs/protocol.md §2)
  };
  return names;
}

const std::vector<std::string>& host_names_of(host_names which) {
  // The token path: the FortiGate's import, provisioning and polling (directregistration), its FTM
  // and 7.4 token requests (globalftm, fortinet-ca2), the app's and FortiAuthenticator's
  // (fortitokenmobile) [seen: docs/protocol.md §2 and §6]. FortiGuard's are the rest [inferred].
  static const std::vector<std::string> token{"directregistration.fortinet.com", "globalftm.fortinet.net",
                                              "fortitokenmobile.fortinet.com", "fortinet-ca2.fortinet.com"};
  return which == host_names::token ? token : fortinet_host_names();
}

std::string canonical_host_name(std::string_view name) {
  name = without_trailing_dot(name);
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool same_host_name(std::string_view a, std::string_view b) {
  a = without_trailing_dot(a);
  b = without_trailing_dot(b);
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool is_known_host_name(std::string_view name, std::span<const std::string> extra, host_names which) {
  auto same = [name](const std::string& known) { return same_host_name(name, known); };
  const auto& names = host_names_of(which);
  return std::any_of(names.begin(), names.end(), same) || std::any_of(extra.begin(), extra.end(), same);
}

bool is_host_name(std::string_view name) {
  name = without_trailing_dot(name);
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

}  // namespace fortisim::protocol
