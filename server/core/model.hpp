#pragma once
// The FortiCare model: licences bound to devices, FTM tokens and their phones, hardware tokens
// and their one-time activation locks, on a virtual clock. One mutex guards it all, so every
// operation (above all the consumption of a hardware lock) is atomic. With a state file, every
// change is written through crash-safely before the reply leaves.

#include "protocol/messages.hpp"
#include "server/core/clock.hpp"
#include "server/core/scenario.hpp"

#include "protocol/formats.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

namespace fortisim::core {

/// A token's life as polling reports it (docs/protocol.md §4.2, assumed values).
enum class token_status { fresh, pending, provisioned, timed_out };
std::string_view status_text(token_status s);  ///< "new", "pending", "provisioned", "provision timeout"

/// The current one-time password of a token, for a test to complete a login.
struct otp_value {
  std::string token;
  std::string code;
  std::int64_t valid_for_s = 0;  ///< seconds until the code changes
  int digits = 6;
  int period = 60;
};

/// What a control call that provisions a token without a FortiGate returns.
struct provisioned_for_test {
  std::string token;
  std::string user_activation_code;   ///< what the user would get by mail (base32)
  std::string phone_activation_code;  ///< what the app sends (16 hex)
  std::int64_t expire = 0;
};

class model {
 public:
  /// Builds the world of `s`; with `state_path`, resumes from that file if it exists.
  /// Throws std::runtime_error naming the file and the reason if the state file is unusable.
  model(std::shared_ptr<const scenario> s, std::optional<std::string> state_path = std::nullopt);

  /// Adopts a reloaded scenario: new definitions are added, runtime state is kept.
  void adopt(std::shared_ptr<const scenario> s);

  /// The model's answer to a well-formed request of any operation.
  protocol::response answer(const protocol::request& r);
  protocol::activation_license_response import_license(const protocol::activation_license_request& r);
  protocol::provision_response provision(const protocol::provision_request& r);
  protocol::mobile_provision_response mobile_provision(const protocol::mobile_provision_request& r);
  protocol::polling_response poll(const protocol::polling_request& r);
  protocol::hardware_activation_response activate_hardware(const protocol::hardware_activation_request& r);

  // ---- control calls ----
  std::optional<otp_value> otp(std::string_view token) const;
  /// Releases a consumed hardware lock; false if the token is unknown.
  bool release_lock(std::string_view token);
  /// Provisions an FTM token as a FortiGate would (a new serial if `token` is empty).
  std::variant<provisioned_for_test, std::string> provision_for_test(std::string token);
  virtual_clock& clock() { return clock_; }
  const virtual_clock& clock() const { return clock_; }
  void advance_clock(std::int64_t ms);
  /// The whole state as JSON: the persisted form, and what the control API shows.
  protocol::json snapshot() const;

 private:
  struct licence {
    std::string code;
    std::string serial;
    std::vector<std::string> tokens;
    std::optional<std::int64_t> valid_until;
    std::vector<std::string> bound_to;  ///< sorted; empty: not yet redeemed
    std::string registered_to;          ///< the serial of the device that redeemed it
  };
  struct mobile_token {
    std::string serial;
    std::string license;
    token_status status = token_status::fresh;
    std::string activation;  ///< the 8 code bytes as 16 hex, "" until provisioned
    std::string secret;      ///< raw 20 bytes
    int digits = 6;
    int period = 60;
    std::int64_t expire = 0;
    std::string issuer;
    std::string mobile_id;  ///< the phone's key: the first 16 bytes of its mobile_id
    std::string os_ver;
    std::string reg_id;
    std::uint64_t provisions = 0;  ///< how often a FortiGate provisioned it (new codes replay by count)
  };
  struct hardware_token {
    std::string serial;
    std::string secret;
    bool consumed = false;
    std::string activated_by;
  };

  void add_definitions_locked(const scenario& s);
  licence& ensure_licence_locked(const std::string& code, const std::string& serial, int count,
                                 std::optional<std::int64_t> valid_until);
  mobile_token& ensure_token_locked(const std::string& serial, const std::string& license);
  void refresh_status_locked(mobile_token& t) const;
  /// Whether the requester (or its cluster, as the scenario says) may provision `t`.
  bool owns_locked(const mobile_token& t, const protocol::envelope& env) const;
  protocol::provisioned_result provision_one_locked(const protocol::provisioned_token& p, const protocol::envelope& env,
                                                    bool& changed);
  /// The 8 bytes of `t`'s next activation code: pinned by the scenario, given by the client, or
  /// derived from the seed, the token and its provisioning count (and never one in use).
  std::optional<protocol::activation_bytes> next_code_locked(const mobile_token& t,
                                                             const std::string& client_code) const;
  void persist_locked();
  protocol::json snapshot_locked() const;
  void restore_locked(const protocol::json& j);
  protocol::reply_head head_locked(const protocol::envelope& env, protocol::operation op) const;

  mutable std::mutex mutex_;
  std::shared_ptr<const scenario> scenario_;
  virtual_clock clock_;
  std::optional<std::string> state_path_;
  std::map<std::string, licence, std::less<>> licences_;           // by activation code (upper case)
  std::map<std::string, mobile_token, std::less<>> tokens_;        // by serial
  std::map<std::string, std::string, std::less<>> by_activation_;  // 16 hex -> serial
  std::map<std::string, hardware_token, std::less<>> hardware_;    // by serial
  std::map<std::string, std::string, std::less<>> licence_codes_;  // licence serial -> activation code
  std::map<std::string, std::string, std::less<>> pinned_;         // token -> user code (the scenario's)
  std::uint64_t test_tokens_ = 0;
};

}  // namespace fortisim::core
