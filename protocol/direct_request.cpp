#include "protocol/direct_request.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace fortisim::protocol {

namespace {

/// The keys of "d", indexed as request_field_names.
enum key_index : std::uint8_t {
  f_type,
  f_version,
  f_serial_number,
  f_device_version,
  f_device_build,
  f_clustered_sns,
  f_license_activation_code,
  f_tokens,
  f_mobile_id,
  f_token_activation_code,
  f_registration_id,
  f_os_ver,
  f_reg_id,
  field_count
};
static_assert(field_count == request_field_names.size());

constexpr std::uint32_t bit(key_index f) { return 1u << f; }

constexpr std::uint32_t envelope_fields = bit(f_type) | bit(f_version) | bit(f_serial_number) | bit(f_device_version) |
                                          bit(f_device_build) | bit(f_clustered_sns);

/// The keys each operation's decoder reads (the provision request is always left to the tree).
constexpr std::uint32_t fields_of(operation op) {
  switch (op) {
    case operation::activation_license: return envelope_fields | bit(f_license_activation_code);
    case operation::polling:
    case operation::hardware_activation: return envelope_fields | bit(f_tokens);
    case operation::mobile_provision:
      return bit(f_type) | bit(f_version) | bit(f_mobile_id) | bit(f_token_activation_code) | bit(f_registration_id) |
             bit(f_reg_id) | bit(f_device_version) | bit(f_os_ver) | bit(f_device_build);
    case operation::provision: return 0;
  }
  return 0;
}

/// A SAX handler for `{"d": {...}}` that keeps the fields of "d" and declines (returns false,
/// which stops the parser) at the first thing outside the plain shape. Levels: 1 the body's
/// object, 2 "d", 3 a list in "d", 4 an object in that list ({"sn": ...} or {"token": ...}).
struct reader {
  std::array<std::string, field_count> text;
  std::vector<std::string> sns, tokens;
  std::uint32_t seen = 0;
  int level = 0;
  int current = -1;  ///< the key of "d" whose value comes next, or whose list is open
  int member = 0;    ///< in a level-4 object: 0 before its key, 1 before its value, 2 done
  bool d_seen = false;
  bool d_next = false;  ///< the key "d" was read: its object comes next

  std::vector<std::string>& list() { return current == f_clustered_sns ? sns : tokens; }

  bool start_object(std::size_t) {
    if (level == 0 || (level == 1 && d_next) || level == 3) {
      member = 0;
      d_next = false;
      ++level;
      return true;
    }
    return false;
  }
  bool end_object() {
    if (level == 4 && member != 2) return false;  // {"sn": ...} needs its one key
    if (--level == 1) current = -1;
    return true;
  }
  bool key(std::string& k) {
    if (level == 1) {
      if (k != "d" || d_seen) return false;
      d_seen = d_next = true;
      return true;
    }
    if (level == 2) {
      auto it = std::find(request_field_names.begin(), request_field_names.end(), k);
      if (it == request_field_names.end()) return false;
      current = static_cast<int>(it - request_field_names.begin());
      if (seen & (1u << current)) return false;  // a repeated key: the tree keeps the last one
      seen |= 1u << current;
      return true;
    }
    if (level == 4 && member == 0) {
      member = 1;
      return k == (current == f_clustered_sns ? "sn" : "token");
    }
    return false;
  }
  bool string(std::string& v) {
    bool list_field = current == f_clustered_sns || current == f_tokens;
    if (level == 2 && current >= 0 && !list_field) {
      text[static_cast<std::size_t>(current)].swap(v);
      return true;
    }
    if ((level == 3 && current == f_tokens) || (level == 4 && member == 1)) {
      list().push_back(std::move(v));
      member = 2;
      return true;
    }
    return false;
  }
  bool start_array(std::size_t) {
    if (level != 2 || (current != f_clustered_sns && current != f_tokens)) return false;
    level = 3;
    return true;
  }
  bool end_array() {
    level = 2;
    return true;
  }
  // Nothing the plain shape holds is a number, a boolean or null.
  bool null() { return false; }
  bool boolean(bool) { return false; }
  bool number_integer(json::number_integer_t) { return false; }
  bool number_unsigned(json::number_unsigned_t) { return false; }
  bool number_float(json::number_float_t, const std::string&) { return false; }
  bool binary(json::binary_t&) { return false; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

  envelope take_envelope() {
    return {std::move(text[f_type]),           std::move(text[f_version]),      std::move(text[f_serial_number]),
            std::move(text[f_device_version]), std::move(text[f_device_build]), std::move(sns)};
  }
  /// `a`, or `b` when `a` is empty: how the phone's newer and older names are read.
  std::string first_of(key_index a, key_index b) { return std::move(text[text[a].empty() ? b : a]); }
};

request build(operation op, reader& r) {
  switch (op) {
    case operation::activation_license: {
      std::string code = std::move(r.text[f_license_activation_code]);
      return activation_license_request{r.take_envelope(), std::move(code)};
    }
    case operation::polling: return polling_request{r.take_envelope(), std::move(r.tokens)};
    case operation::hardware_activation: return hardware_activation_request{r.take_envelope(), std::move(r.tokens)};
    default: break;
  }
  mobile_provision_request m;
  m.type = std::move(r.text[f_type]);
  m.version = std::move(r.text[f_version]);
  m.mobile_id = std::move(r.text[f_mobile_id]);
  m.token_activation_code = std::move(r.text[f_token_activation_code]);
  m.registration_id = r.first_of(f_registration_id, f_reg_id);
  m.device_version = r.first_of(f_device_version, f_os_ver);
  m.device_build = std::move(r.text[f_device_build]);
  return m;
}

/// The fields decode_request requires of `op`.
constexpr std::uint32_t required_of(operation op) {
  switch (op) {
    case operation::activation_license: return bit(f_license_activation_code);
    case operation::mobile_provision: return bit(f_mobile_id) | bit(f_token_activation_code);
    case operation::hardware_activation: return bit(f_tokens);
    default: return 0;
  }
}

}  // namespace

std::optional<request> read_request_direct(std::string_view body, const message_names& names, bool mobile) {
  reader r;
  if (!json::sax_parse(body.begin(), body.end(), &r) || !r.d_seen) return std::nullopt;
  auto op = names.find(r.text[f_type]);
  if (!op && r.text[f_type].empty() && mobile) op = operation::mobile_provision;  // the app's endpoint
  if (!op || *op == operation::provision) return std::nullopt;
  if ((r.seen & ~fields_of(*op)) != 0 || (r.seen & required_of(*op)) != required_of(*op)) return std::nullopt;
  return build(*op, r);
}

const std::string& request_type(const request& r) {
  return std::visit(
      [](const auto& m) -> const std::string& {
        if constexpr (requires { m.env; })
          return m.env.type;
        else
          return m.type;
      },
      r);
}

}  // namespace fortisim::protocol
