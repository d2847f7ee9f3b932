// Loading a scenario: the file, its JSON, and the world it declares (licences, tokens, locks, the
// clock, policies). Rules and the protocol table have their own parsers (rule_parse.cpp,
// protocol_parse.cpp); every problem is collected with its JSON path.
#include "protocol/bounded_json.hpp"
#include "protocol/formats.hpp"
#include "protocol/hosts.hpp"
#include "protocol/printable.hpp"
#include "protocol/seed_crypto.hpp"
#include "server/core/scenario/parse.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

namespace fortisim::core {

namespace parse {
namespace {

void clock(checker& c, const json& j, scenario& s) {
  if (!c.is_object(j, "$.clock")) return;
  c.only_keys(j, "$.clock", {"now", "rate"});
  if (auto t = c.time_at(j, "now", "$.clock")) s.clock_start_ms = *t * 1000;
  if (auto r = c.number_at(j, "rate", "$.clock", 0.0, 1e6)) s.clock_rate = *r;
}

void policies(checker& c, const json& root, scenario& s) {
  if (auto v = c.int_at(root, "activation_expiry_hours", "$", 1, 168)) s.activation_expiry_s = *v * 3600;
  if (auto u = root.find("unknown_codes"); u != root.end() && c.is_object(*u, "$.unknown_codes")) {
    c.only_keys(*u, "$.unknown_codes", {"answer", "token_count", "valid_until"});
    s.unknown_codes.valid_until = c.time_at(*u, "valid_until", "$.unknown_codes");
    if (auto a = c.string_at(*u, "answer", "$.unknown_codes")) {
      if (*a == "accept")
        s.unknown_codes.accept = true;
      else if (*a == "card_not_found")
        s.unknown_codes.accept = false;
      else
        c.fail("$.unknown_codes.answer", "expected \"accept\" or \"card_not_found\"" + c.got(*a));
    }
    if (auto n = c.int_at(*u, "token_count", "$.unknown_codes", 1, 1000))
      s.unknown_codes.token_count = static_cast<int>(*n);
  }
  if (auto t = root.find("trial"); t != root.end() && c.is_object(*t, "$.trial")) {
    c.only_keys(*t, "$.trial", {"available", "token_count"});
    if (auto a = c.bool_at(*t, "available", "$.trial")) s.trial_available = *a;
    if (auto n = c.int_at(*t, "token_count", "$.trial", 1, 100)) s.trial_token_count = static_cast<int>(*n);
  }
  if (auto h = root.find("unknown_hardware"); h != root.end()) {
    if (*h == "accept")
      s.accept_unknown_hardware = true;
    else if (*h == "not_found")
      s.accept_unknown_hardware = false;
    else
      c.fail("$.unknown_hardware", "expected \"accept\" or \"not_found\"");
  }
}

bool user_code(checker& c, const json& j, const char* key, const std::string& path, std::string& out) {
  auto v = c.string_at(j, key, path);
  if (!v) return false;
  if (!protocol::parse_user_activation_code(*v)) {
    std::string why =
        "\"" + protocol::printable(*v, 64) +
        "\": expected 16 base32 characters (A-Z, 2-7) starting with \"EE\" (bytes 0x21, 0x10|0x00, then 8)";
    if (auto phone = protocol::parse_phone_activation_code(*v))  // copied from GET /world's "activation"
      why += "; that is the phone's hex form, whose user's code is " + protocol::activation_code_for_user(*phone);
    c.fail(path + "." + key, why);
    return false;
  }
  if (auto period = protocol::base32_decode(*v)->at(1); period != 0x10 && period != 0x00) {
    c.fail(path + "." + key, "its second byte, the period's, is 0x" + protocol::hex_encode(std::string(1, period)) +
                                 ": expected 0x10 (60 s) or 0x00 (30 s)");
    return false;
  }
  out = protocol::upper_case(*v);
  return true;
}

/// A licence's token: "FTKMOB…", or {"token": "FTKMOB…", "activation_code": "EE…"} to pin its code.
/// Adds a token of licence `l`; false when it is malformed.
bool licence_token(checker& c, const json& t, const std::string& path, license_spec& l, scenario& s) {
  std::string serial;
  if (t.is_object()) {
    c.only_keys(t, path, {"token", "activation_code"});
    serial = c.string_at(t, "token", path, true).value_or("");
    if (pinned_code pin{serial, {}}; user_code(c, t, "activation_code", path, pin.activation_code))
      s.pinned_codes.push_back(std::move(pin));
  } else if (t.is_string()) {
    serial = t.get<std::string>();
  }
  if (!protocol::is_mobile_token_serial(serial)) {
    c.fail(t.is_object() ? path + ".token" : path, "expected \"FTKMOB\" + 10 letters or digits");
    return false;
  }
  l.tokens.push_back(serial);
  return true;
}

void clusters(checker& c, const json& j, scenario& s) {
  if (!c.is_object(j, "$.clusters")) return;
  c.only_keys(j, "$.clusters", {"licence_use", "not_registered"});
  if (auto v = c.string_at(j, "licence_use", "$.clusters")) {
    if (*v == "registered_listed")
      s.clusters.use = licence_use::registered_listed;
    else if (*v == "any_member")
      s.clusters.use = licence_use::any_member;
    else if (*v == "registered_serial")
      s.clusters.use = licence_use::registered_serial;
    else
      c.fail("$.clusters.licence_use", "expected \"registered_listed\", \"any_member\" or \"registered_serial\"");
  }
  if (auto v = c.strings_at(j, "not_registered", "$.clusters")) s.clusters.not_registered = *v;
}

void phone(checker& c, const json& j, scenario& s) {
  if (!c.is_object(j, "$.phone")) return;
  c.only_keys(j, "$.phone", {"long_mobile_id", "fortitoken_cloud"});
  if (auto v = c.bool_at(j, "fortitoken_cloud", "$.phone")) s.fortitoken_cloud_path = *v;
  if (auto v = c.string_at(j, "long_mobile_id", "$.phone")) {
    if (*v != "first_16" && *v != "reject") c.fail("$.phone.long_mobile_id", "expected \"first_16\" or \"reject\"");
    s.long_mobile_id_first_16 = *v != "reject";
  }
}

/// "dns": {"names": ["lab.example.net", …]}: more names for the DNS responder to answer.
void dns(checker& c, const json& j, scenario& s) {
  if (!c.is_object(j, "$.dns")) return;
  c.only_keys(j, "$.dns", {"names"});
  c.each(j, "names", "$.dns", [&](const json& n, const std::string& path) {
    if (!n.is_string() || !protocol::is_host_name(n.get_ref<const std::string&>()))
      c.fail(path, "expected a host name, e.g. \"lab.example.net\"" + c.got(n));
    else
      s.dns_names.push_back(protocol::canonical_host_name(n.get_ref<const std::string&>()));
  });
}

std::optional<ocsp_status> ocsp_at(checker& c, const json& j, const std::string& path) {
  static constexpr std::pair<std::string_view, ocsp_status> states[]{{"good", ocsp_status::good},
                                                                     {"revoked", ocsp_status::revoked},
                                                                     {"unknown", ocsp_status::unknown},
                                                                     {"none", ocsp_status::none}};
  auto v = c.string_at(j, "ocsp", path);
  if (!v) return std::nullopt;
  for (auto [name, state] : states)
    if (*v == name) return state;
  c.fail(path + ".ocsp", "expected \"good\", \"revoked\", \"unknown\" or \"none\"");
  return std::nullopt;
}

/// "tls": {"ocsp": "good", "hosts": {"fds1.fortinet.com": {"ocsp": "revoked"}}}: what the stapled
/// OCSP response says, for every host and per host (by SNI).
void tls(checker& c, const json& j, scenario& s) {
  if (!c.is_object(j, "$.tls")) return;
  c.only_keys(j, "$.tls", {"ocsp", "hosts"});
  if (auto v = ocsp_at(c, j, "$.tls")) s.tls.ocsp = *v;
  auto hosts = j.find("hosts");
  if (hosts == j.end() || !c.is_object(*hosts, "$.tls.hosts")) return;
  for (auto it = hosts->begin(); it != hosts->end(); ++it) {
    std::string path = "$.tls.hosts" + protocol::json_path_key(it.key());
    std::string name = protocol::canonical_host_name(it.key());
    if (!protocol::is_host_name(it.key()))
      c.fail(path, "expected a host name as the key, e.g. \"fds1.fortinet.com\"");
    else if (std::any_of(s.tls.hosts.begin(), s.tls.hosts.end(), [&](const auto& h) { return h.first == name; }))
      c.fail(path, "declared twice (host names compare without case)");
    if (!c.is_object(*it, path)) continue;
    c.only_keys(*it, path, {"ocsp"});
    if (auto v = ocsp_at(c, *it, path)) s.tls.hosts.emplace_back(name, *v);
  }
}

/// The codes and serials the world declared so far: no two licences may share a code, a serial or
/// a token, nor two tokens a serial (the state that stored them would not read back).
struct serials_seen {
  std::map<std::string, std::string> codes, serials, tokens;  // -> the path that declared it; codes upper case
  std::map<std::string, std::string> mobile, hardware;        // the tokens declared on their own, likewise
  std::map<std::string, std::size_t> listed_by;               // a licence's token -> its index in licenses
  std::map<std::string, std::pair<std::string, std::string>> codes_given;  // a code's 16 hex -> its token and path
  void once(checker& c, std::map<std::string, std::string>& seen, const std::string& key, const std::string& path) {
    if (auto [it, fresh] = seen.emplace(key, path); !fresh)
      c.fail(path, key + " is declared at " + it->second + " too");
  }
  /// A phone's code names one token: a code (its 8 bytes, whatever the period byte) is given to
  /// one token, as a pin or as a mobile token's code.
  void code_once(checker& c, const std::string& user_code, const std::string& token, const std::string& path) {
    auto phone = protocol::activation_code_for_phone(*protocol::parse_user_activation_code(user_code));
    if (auto [it, fresh] = codes_given.try_emplace(phone, token, path); !fresh && it->second.first != token)
      c.fail(path, "gives the code that " + it->second.second + " gives too (a phone's code names one token)");
  }
  /// Nor is a code given to one token another's derived code (a trial wrote one on purpose).
  void derived_code_once(checker& c, const scenario& s, const mobile_token_spec& m, const std::string& path) {
    auto code = start_code(s, m);
    auto given = codes_given.find(protocol::activation_code_for_phone(code));
    if (given != codes_given.end() && given->second.first != m.token)
      c.fail(path, m.token + "'s derived activation code " + protocol::activation_code_for_user(code, m.period) +
                       " is the code that " + given->second.second +
                       " gives (a phone's code names one token): give it an \"activation_code\" of its own");
  }
};

void licence(checker& c, const json& j, const std::string& path, scenario& s, serials_seen& seen) {
  if (!c.is_object(j, path)) return;
  c.only_keys(
      j, path,
      {"activation_code", "license", "tokens", "token_count", "valid_until", "bound_to", "registered_to", "comment"});
  license_spec l;
  if (auto code = c.string_at(j, "activation_code", path, true)) {
    if (!protocol::is_license_activation_code(*code))
      c.fail(path + ".activation_code", "expected 20 hex digits in 5 dashed groups, e.g. \"DA8C-0508-1F31-4CF7-C990\"");
    else
      seen.once(c, seen.codes, protocol::upper_case(*code), path + ".activation_code");
    l.activation_code = *code;
  }
  if (auto v = c.string_at(j, "license", path)) {
    if (v->empty() || v->size() > 31)
      c.fail(path + ".license", "expected 1 to 31 characters, e.g. \"EFTM000000000001\"");
    l.license = *v;
    seen.once(c, seen.serials, l.license, path + ".license");
  }
  c.each(j, "tokens", path, [&](const json& t, const std::string& tp) {
    auto pins = s.pinned_codes.size();
    if (!licence_token(c, t, tp, l, s)) return;
    if (s.pinned_codes.size() > pins)
      seen.code_once(c, s.pinned_codes.back().activation_code, s.pinned_codes.back().token, tp + ".activation_code");
    seen.once(c, seen.tokens, l.tokens.back(), tp);
    seen.listed_by.emplace(l.tokens.back(), s.licenses.size());
  });
  if (auto n = c.int_at(j, "token_count", path, 1, 1000)) l.token_count = static_cast<int>(*n);
  l.valid_until = c.time_at(j, "valid_until", path);
  if (auto v = c.strings_at(j, "bound_to", path)) l.bound_to = *v;
  l.registered_to = c.string_at(j, "registered_to", path).value_or(l.bound_to.empty() ? "" : l.bound_to.front());
  s.licenses.push_back(std::move(l));
}

/// A mobile token is declared once, and its licence is the one whose `tokens` list it: that
/// licence must be redeemed (an unredeemed one's tokens are made when a device imports it), and a
/// `license` given must be its serial. A state holding a token of a licence that does not list it
/// would not read back.
void licensed_token(checker& c, const mobile_token_spec& t, const std::string& path, const scenario& s,
                    serials_seen& seen) {
  seen.once(c, seen.mobile, t.token, path + ".token");
  auto owner = seen.listed_by.find(t.token);
  if (owner == seen.listed_by.end()) {
    if (!t.license.empty())
      c.fail(path + ".license", "no licence lists " + t.token + " among its tokens (leave \"license\" out)");
    return;
  }
  const license_spec& l = s.licenses[owner->second];
  std::string at = "$.licenses[" + std::to_string(owner->second) + "]";
  if (l.bound_to.empty())
    c.fail(path + ".token",
           at + " lists it and is not redeemed (no device in bound_to): a device's import makes its tokens; "
                "give that licence a bound_to, or drop this entry");
  else if (!t.license.empty() && t.license != l.license)
    c.fail(path + ".license", "the token is " + at + "'s: expected " +
                                  (l.license.empty() ? "no \"license\" (that licence's serial is derived)"
                                                     : "\"" + l.license + "\" or none"));
}

void mobile_token(checker& c, const json& j, const std::string& path, scenario& s, serials_seen& seen) {
  if (!c.is_object(j, path)) return;
  c.only_keys(j, path,
              {"token", "license", "activation_code", "secret", "digits", "period", "type", "counter", "expire",
               "issuer", "mobile_id", "comment"});
  mobile_token_spec t;
  if (auto v = c.string_at(j, "token", path, true)) {
    if (!protocol::is_mobile_token_serial(*v)) c.fail(path + ".token", "expected \"FTKMOB\" + 10 letters or digits");
    t.token = *v;
  }
  t.license = c.string_at(j, "license", path).value_or("");
  if (!t.token.empty()) licensed_token(c, t, path, s, seen);
  if (user_code(c, j, "activation_code", path, t.activation_code))
    seen.code_once(c, t.activation_code, t.token, path + ".activation_code");
  t.secret = c.secret_at(j, "secret", path);
  if (auto v = c.int_at(j, "digits", path, 6, 8)) t.digits = static_cast<int>(*v);
  if (auto v = c.int_at(j, "period", path, 1, 3600)) t.period = static_cast<int>(*v);
  if (auto code = protocol::parse_user_activation_code(t.activation_code); code) {
    // The phone reads the period from the code: one that says another than the token's would
    // show OTPs the server does not take (from a new user's trial: it was rewritten silently).
    auto as_period = protocol::activation_code_for_user(*code, t.period);
    if (as_period != t.activation_code)
      c.fail(path + ".activation_code",
             "announces a period of " + std::to_string(protocol::activation_code_period(t.activation_code)) +
                 " s (its second byte), and the token's \"period\" is " + std::to_string(t.period) +
                 ": give the code " + as_period +
                 ", or \"period\": " + std::to_string(protocol::activation_code_period(t.activation_code)));
  }
  if (auto v = c.string_at(j, "type", path)) {
    auto type = protocol::otp_type_from_text(*v);
    if (!type) c.fail(path + ".type", "expected \"totp\" or \"hotp\"");
    t.type = type.value_or(protocol::otp_type::totp);
  }
  if (auto v = c.int_at(j, "counter", path, 0, INT64_MAX - 1)) t.counter = static_cast<std::uint64_t>(*v);
  t.expire = c.time_at(j, "expire", path);
  t.issuer = c.string_at(j, "issuer", path).value_or("");
  if (auto v = c.string_at(j, "mobile_id", path)) {
    if (v->size() < 16) c.fail(path + ".mobile_id", "expected 16 characters or more (the first 16 are the key)");
    t.mobile_id = v->substr(0, 16);
  }
  s.mobile_tokens.push_back(std::move(t));
}

void hardware_token(checker& c, const json& j, const std::string& path, scenario& s, serials_seen& seen) {
  if (!c.is_object(j, path)) return;
  c.only_keys(j, path, {"token", "secret", "lock", "activated_by", "comment"});
  hardware_token_spec h;
  if (auto v = c.string_at(j, "token", path, true)) {
    if (!protocol::is_hardware_token_serial(*v))
      c.fail(path + ".token", "expected \"FTK200\" or \"FTK220\" + 10 letters or digits");
    h.token = *v;
    seen.once(c, seen.hardware, h.token, path + ".token");
  }
  h.secret = c.secret_at(j, "secret", path);
  if (auto v = c.string_at(j, "lock", path)) {
    if (*v != "available" && *v != "consumed") c.fail(path + ".lock", "expected \"available\" or \"consumed\"");
    h.lock_consumed = *v == "consumed";
  }
  h.activated_by = c.string_at(j, "activated_by", path).value_or("");
  s.hardware_tokens.push_back(std::move(h));
}

}  // namespace

void world(checker& c, const json& root, scenario& s) {
  if (!c.is_object(root, "$")) return;
  c.only_keys(root, "$",
              {"$schema", "name", "description", "seed", "clock", "licenses", "unknown_codes", "trial",
               "activation_expiry_hours", "mobile_tokens", "hardware_tokens", "unknown_hardware", "rules", "protocol",
               "clusters", "phone", "dns", "tls", "http"});
  s.name = c.string_at(root, "name", "$").value_or("");
  if (s.name.size() > 128) c.fail("$.name", "is " + std::to_string(s.name.size()) + " bytes; at most 128");
  s.description = c.string_at(root, "description", "$").value_or("");
  if (auto it = root.find("seed"); it != root.end()) {
    if (!it->is_number_unsigned())
      c.fail("$.seed", "expected a non-negative integer" + c.got(*it));
    else
      s.seed = it->get<std::uint64_t>();
  }
  // protocol first: error codes elsewhere resolve against its overrides.
  if (auto p = root.find("protocol"); p != root.end()) protocol_table(c, *p, "$.protocol", s);
  if (auto k = root.find("clock"); k != root.end()) clock(c, *k, s);
  if (auto k = root.find("clusters"); k != root.end()) clusters(c, *k, s);
  if (auto k = root.find("phone"); k != root.end()) phone(c, *k, s);
  if (auto k = root.find("dns"); k != root.end()) dns(c, *k, s);
  if (auto k = root.find("tls"); k != root.end()) tls(c, *k, s);
  if (auto k = root.find("http"); k != root.end()) http(c, *k, s);
  policies(c, root, s);
  serials_seen seen;
  c.each(root, "licenses", "$", [&](const json& j, const std::string& path) { licence(c, j, path, s, seen); });
  c.each(root, "mobile_tokens", "$",
         [&](const json& j, const std::string& path) { mobile_token(c, j, path, s, seen); });
  for (std::size_t i = 0; i < s.mobile_tokens.size(); ++i)  // once every given code is known
    if (s.mobile_tokens[i].activation_code.empty())
      seen.derived_code_once(c, s, s.mobile_tokens[i], "$.mobile_tokens[" + std::to_string(i) + "].token");
  c.each(root, "hardware_tokens", "$",
         [&](const json& j, const std::string& path) { hardware_token(c, j, path, s, seen); });
  rules_at(c, root, s);
}

}  // namespace parse

std::string default_http_headers() {
  std::string out;
  for (auto [name, value] : iis_headers) out.append(name).append(": ").append(value).append("\r\n");
  return out;
}

std::optional<std::int64_t> parse_time(const protocol::json& j) {
  auto within = [](std::int64_t t) { return t >= first_time_s && t <= last_time_s ? std::optional(t) : std::nullopt; };
  if (j.is_number_integer()) return within(j.get<std::int64_t>());
  if (!j.is_string()) return std::nullopt;
  const std::string& s = j.get_ref<const std::string&>();
  std::tm tm{};
  std::istringstream in(s);
  if (s.size() == 10)
    in >> std::get_time(&tm, "%Y-%m-%d");
  else if (s.size() == 20 && s.back() == 'Z')
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  else
    return std::nullopt;
  if (in.fail()) return std::nullopt;
  std::tm given = tm;
  auto t = static_cast<std::int64_t>(timegm(&tm));  // which rolls 2023-02-29 over to 03-01, so:
  if (tm.tm_mday != given.tm_mday || tm.tm_mon != given.tm_mon || tm.tm_year != given.tm_year) return std::nullopt;
  return within(t);
}

protocol::activation_bytes start_code(const scenario& s, const mobile_token_spec& m) {
  if (!m.activation_code.empty()) return *protocol::parse_user_activation_code(m.activation_code);
  auto raw = protocol::derive_bytes(s.seed, "activation:" + m.token, 8);
  protocol::activation_bytes bytes{};
  std::copy(raw.begin(), raw.end(), bytes.begin());
  return bytes;
}

std::string load_result::describe() const {
  std::string out;
  for (const auto& p : problems) out += file + ": " + p.path + ": " + p.reason + "\n";
  return out;
}

load_result parse_scenario(std::string_view text, std::string file_label) {
  load_result result;
  result.file = std::move(file_label);
  parse::checker c;
  std::vector<protocol::json_refusal> twice;
  auto parsed = protocol::parse_bounded(text, {.comments = true, .given_twice = &twice});
  for (const auto& t : twice) c.fail(t.path, t.reason);
  if (auto* why = std::get_if<protocol::json_refusal>(&parsed)) {
    using kind = protocol::json_refusal::kind;
    c.fail(why->path, why->what == kind::too_many_keys ? why->reason : "not valid JSON: " + why->reason);
    result.problems = std::move(c.problems);
    return result;
  }
  // The keys given twice and every other problem, checked as JSON kept them (the last of each).
  const auto& root = std::get<protocol::json>(parsed);
  scenario s;
  parse::world(c, root, s);
  if (!c.problems.empty()) {
    result.problems = std::move(c.problems);
    return result;
  }
  s.file = result.file;
  if (s.name.empty()) {
    auto slash = result.file.find_last_of('/');
    s.name = result.file.substr(slash == std::string::npos ? 0 : slash + 1);
    if (s.name.ends_with(".json")) s.name.resize(s.name.size() - 5);
  }
  result.value = std::move(s);
  return result;
}

std::string kind_of(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISREG(mode)) return "a file";
  return "not a regular file";
}

namespace {

/// A file's bytes, or why they could not be read.
struct file_text {
  std::string text;
  std::string why;  ///< empty when read
};

file_text unread(std::string why) { return {{}, std::move(why)}; }

/// Reads `path`, opened with O_NONBLOCK so that a FIFO nobody writes to is refused at once instead
/// of holding the thread (a reload runs on an event loop).
file_text read_regular(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return unread(std::string("cannot read the file: ") + std::strerror(errno) +
                  " (does it exist, and may fortisim read it?)");
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_it{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return unread(std::string("cannot read the file: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return unread("is " + kind_of(st.st_mode) + ", not a regular file: scenarios are files");
  auto too_big = [](std::int64_t size) {
    return unread("is " + std::to_string(size) + " bytes; a scenario may have at most " +
                  std::to_string(scenario_file_limit) + " (64 MiB)");
  };
  if (st.st_size > scenario_file_limit) return too_big(st.st_size);
  file_text out;
  out.text.resize(static_cast<std::size_t>(st.st_size));
  std::size_t have = 0;
  for (;;) {  // a file that grows while it is read is read up to the limit, and refused beyond it
    if (have == out.text.size())
      out.text.resize(std::min<std::size_t>(out.text.size() * 2 + 4096, scenario_file_limit + 1));
    auto n = ::read(fd, out.text.data() + have, out.text.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return unread(std::string("cannot read the file: ") + std::strerror(errno));
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
    if (have > static_cast<std::size_t>(scenario_file_limit)) return too_big(static_cast<std::int64_t>(have));
  }
  out.text.resize(have);
  return out;
}

}  // namespace

load_result load_scenario_file(const std::string& path) {
  auto file = read_regular(path);
  if (!file.why.empty()) {
    load_result r;
    r.file = path;
    r.problems.push_back({"$", std::move(file.why)});
    return r;
  }
  return parse_scenario(file.text, path);
}

}  // namespace fortisim::core
