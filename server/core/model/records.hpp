#pragma once
// The records of the FortiCare world, one per licence, token and hardware token: what the model
// holds, what the control API shows, and what --state stores, row for row (store.hpp). A change
// to the world is a set of new records, durable before it is visible.

#include "protocol/otp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fortisim::core {

/// A token's life (docs/protocol.md §4.2), named as FortiOS names it: the scenario's
/// `protocol.status_words` decide what a poll reply says for each.
enum class token_status { fresh, provisioning, provisioned, timed_out };
std::string_view status_text(token_status s);  ///< "new", "provisioning", "provisioned", "provision timeout"
/// The status named by `text`; "pending", fortisim's word in 0.1, reads as provisioning.
std::optional<token_status> status_from_text(std::string_view text);

struct licence_record {
  std::string code;                         ///< the activation code, upper case; "TRIAL:<serial>" for a trial
  std::string serial;                       ///< "EFTM…", or "FTMTRIAL…"
  std::vector<std::string> tokens;          ///< its FTKMOB serials
  std::optional<std::int64_t> valid_until;  ///< unix seconds; past it an unredeemed code gets 14
  std::vector<std::string> bound_to;        ///< the device or cluster, sorted; empty: not yet redeemed
  std::string registered_to;                ///< the serial of the device that redeemed it
  friend bool operator==(const licence_record&, const licence_record&) = default;
};

struct token_record {
  std::string serial;
  std::string license;                        ///< its licence's serial, "" for one provisioned without a licence
  token_status status = token_status::fresh;  ///< as stored: a provisioning code past `expire` reads as timed out
  std::string activation;                     ///< the 8 code bytes as 16 hex, "" until provisioned
  std::string secret;                         ///< raw 20 bytes
  int digits = 6;
  int period = 60;
  protocol::otp_type type = protocol::otp_type::totp;
  std::uint64_t counter = 0;  ///< HOTP: the counter of the code the token shows next
  std::int64_t expire = 0;    ///< unix seconds the activation code lasts until
  std::string issuer;
  std::string mobile_id;  ///< the phone's key: the first 16 bytes of its mobile_id
  std::string os_ver;
  std::string reg_id;
  std::uint64_t provisions = 0;  ///< how often a FortiGate provisioned it (new codes replay by count)
  friend bool operator==(const token_record&, const token_record&) = default;
};

/// The activation code the user gets for `t`'s current activation (base32, the text FortiCare's
/// `qr_code` holds, docs/protocol.md §4.4); "" when it has none.
std::string user_activation_code(const token_record& t);

/// What makes a token's OTPs.
inline protocol::otp_params otp_params_of(const token_record& t) { return {t.type, t.digits, t.period, t.counter}; }
/// A FortiToken-200's: TOTP, 6 digits, 60 s [doc].
inline constexpr protocol::otp_params hardware_otp_params{protocol::otp_type::totp, 6, 60, 0};

/// A token FortiCare knows (its licence was imported) that no FortiGate has provisioned yet.
inline token_record fresh_token(std::string serial, std::string license) {
  token_record t;
  t.serial = std::move(serial);
  t.license = std::move(license);
  return t;
}

struct hardware_record {
  std::string serial;
  std::string secret;  ///< raw 20 bytes
  bool consumed = false;
  std::string activated_by;  ///< the device that consumed the lock
  friend bool operator==(const hardware_record&, const hardware_record&) = default;
};

/// One change to the world: the records it writes (whole) or removes, and the clock if it moved.
struct change {
  bool wipe = false;  ///< everything goes first (a reset), then what follows is written
  std::vector<licence_record> licences;
  std::vector<token_record> tokens;
  std::vector<hardware_record> hardware;
  std::vector<std::string> dropped_licences;  ///< by code
  std::vector<std::string> dropped_tokens;    ///< by serial
  std::vector<std::string> dropped_hardware;  ///< by serial
  std::optional<std::int64_t> clock_ms;
  bool empty() const {
    return !wipe && licences.empty() && tokens.empty() && hardware.empty() && dropped_licences.empty() &&
           dropped_tokens.empty() && dropped_hardware.empty() && !clock_ms;
  }
};

}  // namespace fortisim::core
