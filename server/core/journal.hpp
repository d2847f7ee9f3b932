#pragma once
// The request journal: a bounded ring of what happened to every connection and request, with the
// rule that fired and the seed in force, so a test can assert on it and a run can be replayed.

#include "protocol/messages.hpp"

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace fortisim::core {

/// One exchange: a connection-stage or TLS-stage event, or an HTTP request and its outcome.
struct journal_entry {
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;      ///< real wall-clock time
  std::string stage;             ///< "connection", "tls", "http"
  std::uint64_t connection = 0;
  std::uint64_t request = 0;
  std::string client_address;
  std::string sni;
  std::string method;
  std::string target;
  std::string type;              ///< the request's __type
  std::string rule;              ///< the rule that fired, "" for none
  std::string action;            ///< the action played, "" when answered by the model
  int status = 0;                ///< HTTP status, 0 where none was sent
  int error_code = 0;            ///< the FortiCare error code in the reply, 0 for none
  std::uint64_t seed = 0;
  std::string request_body;      ///< the first 4 KiB
};

class journal {
 public:
  explicit journal(std::size_t capacity = 1000) : capacity_(capacity) {}
  void add(journal_entry e);
  /// Entries with seq > `after`, oldest first, as JSON.
  protocol::json to_json(std::uint64_t after = 0) const;
  void clear();

 private:
  mutable std::mutex mutex_;
  std::deque<journal_entry> entries_;
  std::size_t capacity_;
  std::uint64_t next_ = 1;
};

}  // namespace fortisim::core
