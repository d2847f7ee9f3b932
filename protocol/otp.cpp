// One token's one-time passwords (see otp.hpp).
#include "protocol/otp.hpp"

#include "protocol/seed_crypto.hpp"

namespace fortisim::protocol {

std::optional<otp_type> otp_type_from_text(std::string_view text) {
  if (text == "totp") return otp_type::totp;
  if (text == "hotp") return otp_type::hotp;
  return std::nullopt;
}

std::string_view otp_type_text(otp_type t) { return t == otp_type::hotp ? "hotp" : "totp"; }

std::string otp_code(std::string_view secret, const otp_params& p, std::int64_t now_s) {
  return p.type == otp_type::hotp ? hotp(secret, p.counter, p.digits) : totp(secret, now_s, p.period, p.digits);
}

std::int64_t otp_valid_for_s(const otp_params& p, std::int64_t now_s) {
  return p.type == otp_type::hotp ? 0 : p.period - now_s % p.period;
}

otp_verdict verify_otp(std::string_view secret, const otp_params& p, std::int64_t now_s, std::string_view code) {
  if (code.size() != static_cast<std::size_t>(p.digits)) return {false, p.counter};
  if (p.type == otp_type::hotp) {
    std::uint64_t last = p.counter < max_counter - hotp_look_ahead ? p.counter + hotp_look_ahead : max_counter - 1;
    for (std::uint64_t c = p.counter; c <= last; ++c)
      if (hotp(secret, c, p.digits) == code) return {true, c + 1};
    return {false, p.counter};
  }
  std::int64_t now_step = now_s / p.period;
  for (std::int64_t step = now_step - totp_window_steps; step <= now_step + totp_window_steps; ++step)
    if (step >= 0 && static_cast<std::uint64_t>(step) >= p.counter &&
        totp(secret, step * std::int64_t{p.period}, p.period, p.digits) == code)
      return {true, static_cast<std::uint64_t>(step) + 1};
  return {false, p.counter};
}

}  // namespace fortisim::protocol
