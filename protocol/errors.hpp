#pragma once
// The one catalogue of FortiCare errors fortisim can answer. "Where does error 14 come from?"
// Here. Codes 10, 14, 17, 31 and 40 are seen on the wire (docs/protocol.md §5); the 9xx codes are
// fortisim's own for what is not public, kept outside the observed range, and a scenario may
// renumber or reword any entry (scenario "protocol.errors").

#include <array>
#include <span>
#include <string>
#include <string_view>

namespace fortisim::protocol {

/// Names every error fortisim can put in a reply's `error` object, in catalogue order.
enum class error_id {
  card_not_found,                ///< 10, seen
  license_expired,               ///< 14, seen
  no_valid_token,                ///< 17, seen: no token of a ProvisionRequest succeeded
  product_not_registered,        ///< 21, seen: an HA member FortiCare does not know as registered
  token_not_owned,               ///< 31, seen: a token unknown, or not the requester's
  activation_code_invalid,       ///< 40, seen
  registered_to_another_device,  ///< 901, assumed
  trial_already_used,            ///< 902, assumed
  hardware_lock_consumed,        ///< 903, assumed
  hardware_token_not_found,      ///< 904, assumed
  too_many_tokens,               ///< 906, assumed
  malformed_request,             ///< 990, assumed: body is not JSON, or has no "d" object
  unknown_type,                  ///< 991, assumed: "__type" names no operation
  invalid_field,                 ///< 992, assumed: a field has the wrong type or format
};

/// One catalogue entry: the code and message a client sees, and where the fact comes from.
struct error_entry {
  error_id id;
  std::string_view name;     ///< snake_case name used in scenario files, e.g. "license_expired"
  int code;                  ///< e.g. 14
  std::string_view message;  ///< e.g. "forticare license expired"
  bool assumed;              ///< true where the code/message is fortisim's choice
};

/// The catalogue, in code order. Messages of 10, 14, 17, 21, 31 and 40 are byte for byte those of
/// the captures (KB "Troubleshooting FortiToken activation", KB 308115, the FTM app's failure reply);
/// 21's code is FortiAuthenticator's (KB 197403): on the FortiGate wire an HA member's entry is
/// the plain message.
/// The 9xx messages reuse FortiOS's own status texts where one exists (`diag fortitoken info`).
inline constexpr std::array catalogue{
    error_entry{error_id::card_not_found, "card_not_found", 10, "forticare license card not found", false},
    error_entry{error_id::license_expired, "license_expired", 14, "forticare license expired", false},
    error_entry{error_id::no_valid_token, "no_valid_token", 17, "no valid token found", false},
    error_entry{error_id::product_not_registered, "product_not_registered", 21, "Product is not registered", false},
    error_entry{error_id::token_not_owned, "token_not_owned", 31, "token does not belong to product", false},
    error_entry{error_id::activation_code_invalid, "activation_code_invalid", 40,
                "FTM token Activation Code is invalid", false},
    error_entry{error_id::registered_to_another_device, "registered_to_another_device", 901,
                "forticare license already registered to another device", true},
    error_entry{error_id::trial_already_used, "trial_already_used", 902,
                "forticare trial license already used by this device", true},
    error_entry{error_id::hardware_lock_consumed, "hardware_lock_consumed", 903,
                "token already activated, and seed won't be returned", true},
    error_entry{error_id::hardware_token_not_found, "hardware_token_not_found", 904,
                "activation error (token not exist in FortiGuard)", true},
    error_entry{error_id::too_many_tokens, "too_many_tokens", 906, "too many tokens in one request", true},
    error_entry{error_id::malformed_request, "malformed_request", 990, "malformed request", true},
    error_entry{error_id::unknown_type, "unknown_type", 991, "unknown request type", true},
    error_entry{error_id::invalid_field, "invalid_field", 992, "invalid request field", true},
};

/// Every entry sits at the index of its id, so a table indexed by error_id needs no search.
consteval bool catalogue_in_id_order() {
  for (std::size_t i = 0; i < catalogue.size(); ++i)
    if (static_cast<std::size_t>(catalogue[i].id) != i) return false;
  return true;
}
static_assert(catalogue_in_id_order());

std::span<const error_entry> error_catalogue();
const error_entry& catalogue_entry(error_id id);
const error_entry* find_error(int code);
const error_entry* find_error(std::string_view name);

/// The value of a reply's `error` object: {"error_code": code, "error_message": message}.
struct error_value {
  int code = 0;
  std::string message;
  friend bool operator==(const error_value&, const error_value&) = default;
};

/// The catalogue as a scenario sees it: every entry's code and message, some perhaps overridden
/// ("protocol.errors" in a scenario file). Indexed by error_id; copied once per scenario load.
class error_table {
 public:
  error_table();
  const error_value& operator[](error_id id) const { return entries_[static_cast<std::size_t>(id)]; }
  void set(error_id id, error_value v) { entries_[static_cast<std::size_t>(id)] = std::move(v); }
  /// The value for a code: the catalogue's (possibly overridden) message, or `fallback_message`.
  error_value for_code(int code, std::string fallback_message = {}) const;

 private:
  std::array<error_value, catalogue.size()> entries_;
};

}  // namespace fortisim::protocol
