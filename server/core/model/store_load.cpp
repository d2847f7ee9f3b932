// Loading the stored world, validated row by row: a state that does not read back exactly is a
// problem named by its row and column, never a silent default (a lock spelled "Consumed" must not
// release a lock; a secret that is not hex must not become an empty one).
#include "protocol/bounded_json.hpp"
#include "protocol/formats.hpp"
#include "protocol/printable.hpp"
#include "server/core/model/store_statement.hpp"

#include <map>
#include <set>

namespace fortisim::core {

namespace {

/// A stored value as a message shows it: control bytes as \xNN (a terminal reads no escape
/// sequence from a damaged file), at most 64 bytes of it.
std::string printable(std::string_view v) { return protocol::printable(v, 64); }

/// Reads one row's columns, collecting problems under "table[key].column".
struct row_reader {
  const statement& st;
  std::string where;
  std::vector<problem>& problems;

  void fail(const char* column, std::string why) { problems.push_back({where + "." + column, std::move(why)}); }
  std::string text(int col) const { return st.text(col); }
  /// A key: text, never NULL (SQLite lets a TEXT PRIMARY KEY be NULL).
  std::string key(int col, const char* column) {
    if (!st.is_text(col)) fail(column, "expected text, not " + std::string(st.null(col) ? "NULL" : "a number"));
    return st.text(col);
  }
  std::vector<std::string> list(int col, const char* column) {
    auto parsed = protocol::parse_bounded(st.text(col));
    auto* j = std::get_if<protocol::json>(&parsed);
    if (!j || !j->is_array() || !std::all_of(j->begin(), j->end(), [](const auto& v) { return v.is_string(); })) {
      fail(column, "expected a JSON array of strings");
      return {};
    }
    return j->get<std::vector<std::string>>();
  }
  std::string secret(int col, const char* column) {
    auto raw = protocol::hex_decode(st.text(col));
    if (!raw || raw->size() != 20) fail(column, "expected 40 hex digits (a 20-byte secret)");
    return raw.value_or("");
  }
  /// An integer from `min` to `max`, stored as one: 30.5 is not read as 30.
  std::int64_t number(int col, const char* column, std::int64_t min, std::int64_t max) {
    auto v = st.integer(col);
    if (!st.is_integer(col) || v < min || v > max)
      fail(column, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                       (st.null(col) ? "NULL" : printable(st.text(col))));
    return v;
  }
};

void licences(sqlite3* db, store::contents& out, std::vector<problem>& problems) {
  statement st(db, "SELECT code, serial, tokens, valid_until, bound_to, registered_to FROM licences");
  while (st.next_row()) {
    licence_record l;
    row_reader r{st, "licences[" + printable(st.text(0)) + "]", problems};
    l.code = r.key(0, "code");
    // A trial licence is keyed by the device that took it: "TRIAL:" and that device's serial.
    if (!protocol::is_license_activation_code(l.code) && !(l.code.starts_with("TRIAL:") && l.code.size() > 6))
      r.fail("code", "expected a licence activation code (\"DA8C-0508-1F31-4CF7-C990\") or \"TRIAL:\" and a serial");
    l.serial = r.text(1);
    if (l.serial.empty() || l.serial.size() > 31) r.fail("serial", "expected 1 to 31 characters");
    l.tokens = r.list(2, "tokens");
    for (const auto& t : l.tokens)
      if (!protocol::is_mobile_token_serial(t)) r.fail("tokens", "\"" + printable(t) + "\" is not an FTKMOB serial");
    if (!st.null(3)) l.valid_until = r.number(3, "valid_until", 0, last_time_s);
    l.bound_to = r.list(4, "bound_to");
    if (!std::is_sorted(l.bound_to.begin(), l.bound_to.end())) r.fail("bound_to", "expected serials in order");
    l.registered_to = r.text(5);
    out.licences.push_back(std::move(l));
  }
}

void tokens(sqlite3* db, store::contents& out, std::vector<problem>& problems) {
  statement st(db,
               "SELECT serial, license, status, activation, secret, digits, period, expire, issuer, mobile_id, "
               "os_ver, reg_id, provisions, type, counter FROM tokens");
  while (st.next_row()) {
    token_record t;
    row_reader r{st, "tokens[" + printable(st.text(0)) + "]", problems};
    t.serial = r.key(0, "serial");
    if (!protocol::is_mobile_token_serial(t.serial)) r.fail("serial", "expected \"FTKMOB\" + 10 letters or digits");
    t.license = r.text(1);
    auto status = status_from_text(r.text(2));
    if (!status) r.fail("status", "expected \"new\", \"provisioning\", \"provisioned\" or \"provision timeout\"");
    t.status = status.value_or(token_status::fresh);
    t.activation = r.text(3);
    if (!t.activation.empty() && !protocol::is_lower_hex(t.activation, 16))
      r.fail("activation", "expected 16 lowercase hex digits, or empty");
    t.secret = t.status == token_status::fresh && r.text(4).empty() ? "" : r.secret(4, "secret");
    t.digits = static_cast<int>(r.number(5, "digits", 6, 8));
    t.period = static_cast<int>(r.number(6, "period", 1, 3600));  // as a scenario may set it
    t.expire = r.number(7, "expire", 0, last_time_s);
    t.issuer = r.text(8);
    t.mobile_id = r.text(9);
    t.os_ver = r.text(10);
    t.reg_id = r.text(11);
    t.provisions = static_cast<std::uint64_t>(r.number(12, "provisions", 0, INT64_MAX));
    auto type = protocol::otp_type_from_text(r.text(13));
    if (!type) r.fail("type", "expected \"totp\" or \"hotp\"");
    t.type = type.value_or(protocol::otp_type::totp);
    t.counter = static_cast<std::uint64_t>(r.number(14, "counter", 0, INT64_MAX));
    out.tokens.push_back(std::move(t));
  }
}

void hardware(sqlite3* db, store::contents& out, std::vector<problem>& problems) {
  statement st(db, "SELECT serial, secret, lock, activated_by FROM hardware");
  while (st.next_row()) {
    hardware_record h;
    row_reader r{st, "hardware[" + printable(st.text(0)) + "]", problems};
    h.serial = r.key(0, "serial");
    if (!protocol::is_hardware_token_serial(h.serial)) r.fail("serial", "expected \"FTK200\" or \"FTK220\" + 10");
    h.secret = r.secret(1, "secret");
    auto lock = r.text(2);
    if (lock != "available" && lock != "consumed") r.fail("lock", "expected \"available\" or \"consumed\"");
    h.consumed = lock != "available";  // never release a lock on a misspelling
    h.activated_by = r.text(3);
    out.hardware.push_back(std::move(h));
  }
}

/// The relations between the tables: no two licences share a serial, no two tokens a code, no
/// token belongs to two licences, every stored token's licence is stored and lists it, and a token a licence lists
/// names that licence. (A licence may list tokens that are not stored: those the scenario
/// defines, never changed.)
void relations(const store::contents& c, std::vector<problem>& problems) {
  std::map<std::string, std::string> owner;    // token -> the code of the licence that lists it
  std::map<std::string, std::string> serials;  // a licence's own serial, "EFTM…", as tokens name it -> its code
  for (const auto& l : c.licences) {
    if (auto [it, fresh] = serials.emplace(l.serial, l.code); !fresh)
      problems.push_back(
          {"licences[" + l.code + "].serial", l.serial + " is the serial of licence " + it->second + " too"});
    for (const auto& t : l.tokens)
      if (auto [it, fresh] = owner.emplace(t, l.code); !fresh)
        problems.push_back({"licences[" + l.code + "].tokens", t + " is listed by licence " + it->second + " too"});
  }
  std::map<std::string, std::string> codes;  // a token's activation code -> the token
  for (const auto& t : c.tokens) {
    if (!t.activation.empty())
      if (auto [it, fresh] = codes.emplace(t.activation, t.serial); !fresh)
        problems.push_back({"tokens[" + t.serial + "].activation",
                            "is token " + it->second + "'s code too (a phone's code names one token)"});
    if (t.license.empty()) {
      if (auto listed = owner.find(t.serial); listed != owner.end())
        problems.push_back({"tokens[" + t.serial + "].license",
                            "names no licence, but licence " + listed->second + " lists this token among its tokens"});
      continue;
    }
    auto licence = serials.find(t.license);
    if (licence == serials.end())
      problems.push_back({"tokens[" + t.serial + "].license", "no stored licence has the serial " + t.license});
    else if (auto listed = owner.find(t.serial); listed == owner.end() || listed->second != licence->second)
      problems.push_back(
          {"tokens[" + t.serial + "].license", "licence " + t.license + " does not list this token among its tokens"});
  }
}

/// The clock row: the virtual and real times within 1970 to 9999.
void clock(sqlite3* db, store::contents& out, std::vector<problem>& problems) {
  statement st(db, "SELECT now_ms, real_ms FROM clock WHERE id = 1");
  if (!st.next_row()) return;
  row_reader r{st, "clock[1]", problems};
  out.clock_ms = r.number(0, "now_ms", 0, last_time_s * 1000 + 999);
  out.clock_real_ms = r.number(1, "real_ms", 0, last_time_s * 1000);
}

/// SQLite's own check of its pages and indexes: "ok", or what is damaged.
void pages(sqlite3* db, std::vector<problem>& problems) {
  statement st(db, "PRAGMA quick_check");
  std::string damage;
  while (st.next_row())
    if (auto line = st.text(0); line != "ok") damage += (damage.empty() ? "" : "; ") + line;
  if (!damage.empty()) problems.push_back({"$", "the database is damaged (PRAGMA quick_check): " + damage});
}

}  // namespace

std::variant<store::contents, std::vector<problem>> store::load() {
  contents out;
  std::vector<problem> problems;
  // One read transaction: every table as of one moment, though a server writes beside a check.
  struct read_end {
    sqlite3* db;
    ~read_end() { sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr); }
  };
  try {
    exec("BEGIN");
    read_end end{db_};
    pages(db_, problems);
    if (!problems.empty()) return problems;  // rows read from damaged pages would only mislead
    licences(db_, out, problems);
    tokens(db_, out, problems);
    hardware(db_, out, problems);
    relations(out, problems);
    clock(db_, out, problems);  // the virtual clock goes on from where it was moved
  } catch (const storage_error& e) {
    problems.push_back({"$", std::string("cannot read: ") + e.what()});
  }
  if (!problems.empty()) return problems;
  return out;
}

}  // namespace fortisim::core
