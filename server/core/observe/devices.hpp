#pragma once
// What each device did, by its client address, read from the journal as entries are recorded:
// the names it asked (DNS), whether it trusted our certificate (a request came over TLS), refused
// it (with the alert in words) or ended the handshake, the certificate it presented, its serial
// (from its requests or that certificate), and its last request and answer. Its verdict is one
// line, logged when a device is first seen and whenever its verdict changes:
//   device address=192.0.2.1 serial=FGT40FHA25099UXR verdict="refused our certificate: unknown CA"
// Bounded: at most max_devices devices, each keeping a few names and short strings.

#include "protocol/bounded_json.hpp"
#include "server/core/observe/journal_entry.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fortisim::core {

struct device_record {
  std::string address;
  std::string serial;       ///< the FortiGate's serial, once a request or its certificate named it
  std::string certificate;  ///< the subject of the certificate it presented, "" for none yet
  std::int64_t first_ms = 0, last_ms = 0;
  std::uint64_t dns_queries = 0, requests = 0, tls_failures = 0;
  std::vector<std::string> names;  ///< the names it asked, each once, the first max_names
  std::string tls;                 ///< "trusted", the refusal in words, or "" (no TLS seen)
  std::string last_request;        ///< "activation_license -> 200 error 14"
  /// In one line: "refused our certificate: unknown CA", "trusts our certificate", …
  std::string verdict() const;
};

/// A device first seen, or whose verdict (or serial) changed.
struct device_change {
  std::string address, serial, verdict;
};

class device_book {
 public:
  static constexpr std::size_t max_devices = 1024;
  static constexpr std::size_t max_names = 16;

  /// Takes one journal entry; what to log when its device is new or its verdict (or serial)
  /// changed, else nothing. Thread-safe; never blocks for long.
  std::optional<device_change> observe(const journal_entry& e);
  /// Every device, first seen first: [{"address", "serial", "verdict", …}].
  protocol::json snapshot() const;
  void clear();

 private:
  mutable std::mutex mutex_;
  std::map<std::string, device_record, std::less<>> devices_;
  std::uint64_t untracked_ = 0;  ///< entries of devices beyond max_devices
};

}  // namespace fortisim::core
