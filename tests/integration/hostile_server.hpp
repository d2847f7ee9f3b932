#pragma once
// A server that answers every request on 127.0.0.1:0 with one canned HTTP body over TLS (the lab
// leaves of a temporary folder): what `fortisim client` meets when a lab points it at something
// that is not fortisim, or at an attacker.

#include "../support/temp_folder.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fortisim::test {

class hostile_server {
 public:
  /// Serves `body` (as application/json, status 200) to every request until destroyed.
  explicit hostile_server(std::string body);
  ~hostile_server();
  hostile_server(const hostile_server&) = delete;
  hostile_server& operator=(const hostile_server&) = delete;

  /// 127.0.0.1:PORT.
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  /// The CA its leaf chains to (PEM file).
  const std::string& ca() const { return ca_; }
  /// Every request received so far, byte for byte (head and body).
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve();
  temp_folder folder_{"hostile"};
  std::string body_, ca_, cert_, key_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

}  // namespace fortisim::test
