#include "client/tokens.hpp"

#include "protocol/formats.hpp"
#include "protocol/seed_crypto.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace fortisim::client {

std::string random_secret() {
  std::string secret(20, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), static_cast<int>(secret.size())) != 1)
    throw std::runtime_error("OpenSSL has no randomness to make a seed with");
  return secret;
}

protocol::provisioned_token fortigate_token(std::string serial, std::string_view secret,
                                            std::int64_t code_expire_minutes, int period, int digits,
                                            std::string type) {
  protocol::provisioned_token t;
  t.token = std::move(serial);
  t.seed = protocol::upper_case(protocol::hex_encode(secret));
  t.code_expire = code_expire_minutes;
  t.type = std::move(type);
  t.period = period;
  t.digits = digits;
  return t;
}

std::optional<protocol::mobile_provision_request> phone_request(std::string_view user_code, std::string mobile_id) {
  auto bytes = protocol::parse_user_activation_code(user_code);
  if (!bytes) return std::nullopt;
  protocol::mobile_provision_request r;
  r.type = protocol::default_message_names().request[static_cast<std::size_t>(protocol::operation::mobile_provision)];
  r.mobile_id = std::move(mobile_id);
  r.token_activation_code = protocol::activation_code_for_phone(*bytes);
  return r;
}

otp_now otp_at(std::string_view secret, std::int64_t unix_s, const protocol::otp_params& p) {
  return {protocol::otp_code(secret, p, unix_s), protocol::otp_valid_for_s(p, unix_s)};
}

}  // namespace fortisim::client
