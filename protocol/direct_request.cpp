#include "protocol/direct_request.hpp"

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

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

/// The keys each operation's decoder reads.
constexpr std::uint32_t fields_of(operation op) {
  switch (op) {
    case operation::activation_license: return envelope_fields | bit(f_license_activation_code);
    case operation::polling:
    case operation::provision:
    case operation::hardware_activation: return envelope_fields | bit(f_tokens);
    case operation::mobile_provision:
      return bit(f_type) | bit(f_version) | bit(f_mobile_id) | bit(f_token_activation_code) | bit(f_registration_id) |
             bit(f_reg_id) | bit(f_device_version) | bit(f_os_ver) | bit(f_device_build);
  }
  return 0;
}

/// The keys of an object in a list: {"sn": ...} in "__clustered_sns"; {"token": ...} in "tokens",
/// with a ProvisionRequest's other keys (docs/protocol.md §4.4). Text first, then numbers.
enum item_key : std::uint8_t {
  i_token,
  i_seed,
  i_type,
  i_activation_code,
  i_code_expire,
  i_period,
  i_digits,
  item_keys
};
constexpr std::array<std::string_view, item_keys> item_key_names{"token",       "seed",   "type",  "activation_code",
                                                                 "code_expire", "period", "digits"};
constexpr int item_texts = i_code_expire;

/// One entry of a list: a plain string (its text as the token's), or an object's keys, each at most once.
struct item {
  bool object = false;
  std::uint8_t seen = 0;  ///< bits of item_key
  std::array<std::string_view, item_texts> text{};
  std::array<std::int64_t, item_keys - item_texts> number{};
  bool has(item_key k) const { return (seen >> k) & 1; }
  /// Whether it is a bare serial, as a poll's or a hardware activation's decoder reads it: a
  /// string, or an object with "token" alone (the tree reads no other key of those).
  bool serial_only() const { return !object || seen == (1u << i_token); }
};

/// The events of `{"d": {...}}`: keeps the fields of "d" (as views into the body) and declines
/// (returns false, which stops the reading) at the first thing outside the plain shape. Levels:
/// 1 the body's object, 2 "d", 3 a list in "d", 4 an object in that list ({"sn": ...} or
/// {"token": ...}).
struct reader {
  /// A list's items: as many as a FortiGate sends (20 tokens at most) without an allocation.
  using list_type = boost::container::small_vector<item, 24>;
  std::array<std::string_view, field_count> text;
  list_type sns, tokens;
  std::uint32_t seen = 0;
  int level = 0;
  int current = -1;  ///< the key of "d" whose value comes next, or whose list is open
  int member = -1;   ///< in a level-4 object: the key whose value comes next (item_key), or -1
  bool d_seen = false;
  bool d_next = false;  ///< the key "d" was read: its object comes next

  list_type& list() { return current == f_clustered_sns ? sns : tokens; }
  /// A list past max_list_entries is declined: the tree path refuses it with its field.
  bool room() { return list().size() < max_list_entries; }

  bool start_object() {
    if (level == 3) {
      if (!room()) return false;
      list().push_back(item{true});
      member = -1;
    } else if (!(level == 0 || (level == 1 && d_next))) {
      return false;
    }
    d_next = false;
    ++level;
    return true;
  }
  bool end_object() {
    if (level == 4 && !list().back().has(i_token)) return false;  // {"sn": ...} or {"token": ...} needs it
    if (--level == 1) current = -1;
    return true;
  }
  bool key(std::string_view k) {
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
    if (level == 4 && member == -1) {
      auto& it = list().back();
      member =
          current == f_clustered_sns
              ? (k == "sn" ? i_token : item_keys)
              : static_cast<int>(std::find(item_key_names.begin(), item_key_names.end(), k) - item_key_names.begin());
      if (member == item_keys || it.has(static_cast<item_key>(member))) return false;  // unknown, or twice
      it.seen = static_cast<std::uint8_t>(it.seen | (1u << member));
      return true;
    }
    return false;
  }
  bool string(std::string_view v) {
    bool list_field = current == f_clustered_sns || current == f_tokens;
    if (level == 2 && current >= 0 && !list_field) {
      text[static_cast<std::size_t>(current)] = v;
      return true;
    }
    if (level == 3 && current == f_tokens) {
      if (!room()) return false;
      list().push_back(item{false, 1u << i_token, {v}});
      return true;
    }
    if (level == 4 && member >= 0 && member < item_texts) {
      list().back().text[static_cast<std::size_t>(member)] = v;
      member = -1;
      return true;
    }
    return false;
  }
  /// A number (a plain non-negative integer of a few digits): only a provisioned token's numbers.
  bool number(std::int64_t v) {
    if (level != 4 || member < item_texts || member >= item_keys) return false;
    list().back().number[static_cast<std::size_t>(member - item_texts)] = v;
    member = -1;
    return true;
  }
  bool start_array() {
    if (level != 2 || (current != f_clustered_sns && current != f_tokens)) return false;
    level = 3;
    return true;
  }
  bool end_array() {
    level = 2;
    return true;
  }

  /// `a`, or `b` when `a` is empty: how the phone's newer and older names are read.
  std::string_view first_of(key_index a, key_index b) const { return text[text[a].empty() ? b : a]; }
};

/// Reads a body as JSON, calling `reader` for each event, when it is written with nothing but
/// objects, arrays, strings of printable ASCII without escapes and integers of at most nine digits
/// without sign, fraction or exponent: all the devices send, and a grammar small enough to check
/// here in full. False at anything else (another number, an escape, a literal, a byte that is not
/// printable ASCII, a syntax error), which the caller leaves to nlohmann's parser; nesting is
/// bounded by the reader, which declines a fifth level.
class plain_json {
 public:
  plain_json(std::string_view body, reader& r) : p_(body.data()), end_(body.data() + body.size()), r_(r) {}
  bool document() {
    if (!value()) return false;
    skip_space();
    return p_ == end_;
  }

 private:
  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool eat(char c) {
    skip_space();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool string(std::string_view& out) {
    if (!eat('"')) return false;
    const char* start = p_;
    for (; p_ < end_ && *p_ != '"'; ++p_)
      if (*p_ < 0x20 || *p_ > 0x7e || *p_ == '\\') return false;  // bytes >= 0x7f fail one test, signed or not
    if (p_ == end_) return false;
    out = std::string_view(start, static_cast<std::size_t>(p_++ - start));
    return true;
  }
  bool value() {
    skip_space();
    if (p_ == end_) return false;
    if (*p_ == '{') return object();
    if (*p_ == '[') return array();
    if (*p_ >= '0' && *p_ <= '9') return number();
    std::string_view v;
    return string(v) && r_.string(v);
  }
  bool number() {
    const char* start = p_;
    std::int64_t v = 0;
    for (; p_ < end_ && *p_ >= '0' && *p_ <= '9'; ++p_)
      if (p_ - start < 9) v = v * 10 + (*p_ - '0');
    auto digits = p_ - start;
    if (digits > 9 || (digits > 1 && *start == '0')) return false;            // long, or a leading zero (not JSON)
    if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;  // a fraction or an exponent
    return r_.number(v);
  }
  bool object() {
    ++p_;
    if (!r_.start_object()) return false;
    if (eat('}')) return r_.end_object();
    std::string_view k;
    do
      if (!string(k) || !r_.key(k) || !eat(':') || !value()) return false;
    while (eat(','));
    return eat('}') && r_.end_object();
  }
  bool array() {
    ++p_;
    if (!r_.start_array()) return false;
    if (eat(']')) return r_.end_array();
    do
      if (!value()) return false;
    while (eat(','));
    return eat(']') && r_.end_array();
  }
  const char* p_;
  const char* end_;
  reader& r_;
};

// What follows writes the fields into a request that may hold an earlier one: every field is
// assigned (absent ones made empty), so nothing of the earlier request stays, and each string keeps
// its storage, so a connection's next request of the same kind allocates nothing.

void assign(std::vector<std::string>& to, std::span<const item> from) {
  to.resize(from.size());
  for (std::size_t i = 0; i < from.size(); ++i) to[i].assign(from[i].text[i_token]);
}

/// A ProvisionRequest's token as decode_provisioned reads it: absent keys take its defaults.
void assign(provisioned_token& to, const item& from) {
  auto text = [&](item_key k, std::string_view absent) { return from.has(k) ? from.text[k] : absent; };
  auto number = [&](item_key k, std::int64_t absent) { return from.has(k) ? from.number[k - item_texts] : absent; };
  to.token.assign(from.text[i_token]);
  to.seed.assign(text(i_seed, ""));
  to.code_expire = number(i_code_expire, 0);
  to.type.assign(text(i_type, "totp"));
  to.period = static_cast<int>(number(i_period, 60));
  to.digits = static_cast<int>(number(i_digits, 6));
  to.activation_code.assign(text(i_activation_code, ""));
}

/// Whether decode_provisioned accepts `t` (an object with its token, each number in its range);
/// what it refuses is left to the tree, which says why.
bool provisionable(const item& t) {
  auto in = [&](item_key k, std::int64_t low, std::int64_t high) {
    auto v = t.number[k - item_texts];
    return !t.has(k) || (v >= low && v <= high);
  };
  return t.object && in(i_code_expire, 0, 366LL * 24 * 60) && in(i_period, 1, 3600) && in(i_digits, 6, 8);
}

void assign(envelope& e, const reader& r) {
  e.type.assign(r.text[f_type]);
  e.version.assign(r.text[f_version]);
  e.serial_number.assign(r.text[f_serial_number]);
  e.device_version.assign(r.text[f_device_version]);
  e.device_build.assign(r.text[f_device_build]);
  assign(e.clustered_sns, r.sns);
}

/// `out` as a `T`, kept as it is when it already is one.
template <class T>
T& as(request& out) {
  if (!std::holds_alternative<T>(out)) out.emplace<T>();
  return std::get<T>(out);
}

void build(operation op, const reader& r, request& out) {
  switch (op) {
    case operation::activation_license: {
      auto& m = as<activation_license_request>(out);
      assign(m.env, r);
      m.license_activation_code.assign(r.text[f_license_activation_code]);
      return;
    }
    case operation::polling: {
      auto& m = as<polling_request>(out);
      assign(m.env, r);
      assign(m.tokens, r.tokens);
      return;
    }
    case operation::hardware_activation: {
      auto& m = as<hardware_activation_request>(out);
      assign(m.env, r);
      assign(m.tokens, r.tokens);
      return;
    }
    case operation::provision: {
      auto& m = as<provision_request>(out);
      assign(m.env, r);
      m.tokens.resize(r.tokens.size());
      for (std::size_t i = 0; i < r.tokens.size(); ++i) assign(m.tokens[i], r.tokens[i]);
      return;
    }
    default: break;
  }
  auto& m = as<mobile_provision_request>(out);
  m.type.assign(r.text[f_type]);
  m.version.assign(r.text[f_version]);
  m.mobile_id.assign(r.text[f_mobile_id]);
  m.token_activation_code.assign(r.text[f_token_activation_code]);
  m.registration_id.assign(r.first_of(f_registration_id, f_reg_id));
  m.device_version.assign(r.first_of(f_device_version, f_os_ver));
  m.device_build.assign(r.text[f_device_build]);
}

/// The fields decode_request requires of `op`.
constexpr std::uint32_t required_of(operation op) {
  switch (op) {
    case operation::activation_license: return bit(f_license_activation_code);
    case operation::mobile_provision: return bit(f_mobile_id) | bit(f_token_activation_code);
    case operation::provision:
    case operation::hardware_activation: return bit(f_tokens);
    default: return 0;
  }
}

}  // namespace

bool read_request_direct(std::string_view body, const message_names& names, bool mobile, request& out) {
  reader r;
  if (!plain_json(body, r).document() || !r.d_seen) return false;
  auto op = names.find(r.text[f_type]);
  if (!op && r.text[f_type].empty() && mobile) op = operation::mobile_provision;  // the app's endpoint
  if (!op) return false;
  if ((r.seen & ~fields_of(*op)) != 0 || (r.seen & required_of(*op)) != required_of(*op)) return false;
  // The tokens as the operation's decoder reads them: serials, or a ProvisionRequest's objects.
  if (!std::all_of(r.tokens.begin(), r.tokens.end(),
                   [&](const item& t) { return *op == operation::provision ? provisionable(t) : t.serial_only(); }))
    return false;
  build(*op, r, out);
  return true;
}

std::optional<request> read_request_direct(std::string_view body, const message_names& names, bool mobile) {
  request out;
  if (!read_request_direct(body, names, mobile, out)) return std::nullopt;
  return out;
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
