#include "protocol/errors.hpp"

#include <algorithm>
#include <array>

namespace fortisim::protocol {
namespace {

// Messages of 10, 14, 40 are byte-for-byte those of the captures (KB "Troubleshooting
// FortiToken activation", the FTM app's failure reply). The 9xx messages reuse FortiOS's own
// status texts where one exists (`diag fortitoken info`, PROTOCOL.md §5).
constexpr std::array<error_entry, 12> catalogue{{
    {error_id::card_not_found, "card_not_found", 10, "forticare license card not found", false},
    {error_id::license_expired, "license_expired", 14, "forticare license expired", false},
    {error_id::activation_code_invalid, "activation_code_invalid", 40,
     "FTM token Activation Code is invalid", false},
    {error_id::registered_to_another_device, "registered_to_another_device", 901,
     "forticare license already registered to another device", true},
    {error_id::trial_already_used, "trial_already_used", 902,
     "forticare trial license already used by this device", true},
    {error_id::hardware_lock_consumed, "hardware_lock_consumed", 903,
     "token already activated, and seed won't be returned", true},
    {error_id::hardware_token_not_found, "hardware_token_not_found", 904,
     "activation error (token not exist in FortiGuard)", true},
    {error_id::token_not_found, "token_not_found", 905, "token not found", true},
    {error_id::too_many_tokens, "too_many_tokens", 906, "too many tokens in one request", true},
    {error_id::malformed_request, "malformed_request", 990, "malformed request", true},
    {error_id::unknown_type, "unknown_type", 991, "unknown request type", true},
    {error_id::invalid_field, "invalid_field", 992, "invalid request field", true},
}};

}  // namespace

std::span<const error_entry> error_catalogue() { return catalogue; }

const error_entry& catalogue_entry(error_id id) {
  return *std::find_if(catalogue.begin(), catalogue.end(),
                       [id](const error_entry& e) { return e.id == id; });
}

const error_entry* find_error(int code) {
  auto it = std::find_if(catalogue.begin(), catalogue.end(),
                         [code](const error_entry& e) { return e.code == code; });
  return it == catalogue.end() ? nullptr : &*it;
}

const error_entry* find_error(std::string_view name) {
  auto it = std::find_if(catalogue.begin(), catalogue.end(),
                         [name](const error_entry& e) { return e.name == name; });
  return it == catalogue.end() ? nullptr : &*it;
}

}  // namespace fortisim::protocol

namespace fortisim::protocol {

error_table::error_table() {
  for (const auto& e : catalogue) entries_[static_cast<std::size_t>(e.id)] = {e.code, std::string(e.message)};
}

error_value error_table::for_code(int code, std::string fallback_message) const {
  for (const auto& e : entries_)
    if (e.code == code) return fallback_message.empty() ? e : error_value{code, std::move(fallback_message)};
  if (const auto* e = find_error(code); e && fallback_message.empty()) return {code, std::string(e->message)};
  return {code, std::move(fallback_message)};
}

}  // namespace fortisim::protocol
