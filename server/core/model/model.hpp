#pragma once
// The FortiCare model: licences bound to devices, FTM tokens and their phones, hardware tokens
// and their one-time activation locks, on a virtual clock. One lock guards it all, so every
// operation (above all the consumption of a hardware lock) is atomic; the operations that only
// read (a poll, most imports) share it, and one that writes waits for no new reader. Every
// change is a set of records (records.hpp), visible at once and written to disk (with --state,
// store.hpp) outside the lock, in one transaction with every other change waiting (a group
// commit, commit.cpp). No answer leaves before every change it saw is durable: when storage
// fails, those changes are undone and their callers get storage_error.

#include "protocol/formats.hpp"
#include "protocol/messages.hpp"
#include "server/core/model/change_index.hpp"
#include "server/core/model/clock.hpp"
#include "server/core/model/records.hpp"
#include "server/core/model/store.hpp"
#include "server/core/model/writer_first_lock.hpp"
#include "server/core/scenario/scenario.hpp"

#include <atomic>
#include <charconv>
#include <concepts>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <type_traits>
#include <variant>

namespace fortisim::core {

/// The current one-time password of a token, for a test to complete a login.
struct otp_value {
  std::string token;
  std::string code;
  std::int64_t valid_for_s = 0;  ///< seconds until a TOTP code changes; 0 for HOTP (it changes when used)
  protocol::otp_params params;
};

/// What POST /tokens/<serial>/verify answers.
struct otp_check {
  bool valid = false;
  protocol::otp_params params;  ///< after the check: an accepted HOTP code moves the counter on
};

/// What a control call that provisions a token without a FortiGate returns.
struct provisioned_for_test {
  std::string token;
  std::string user_activation_code;   ///< what the user would get by mail (base32)
  std::string phone_activation_code;  ///< what the app sends (16 hex)
  std::int64_t expire = 0;
};

/// A moment in a reason, written as a date people read: "2019-12-31T00:00:00Z".
struct utc_time {
  std::int64_t unix_s = 0;
};

/// The reason an answer is being built with: appends clauses ("a; b") to a string, if one was given.
/// A clause is written from its parts (text, numbers, times) straight into that string.
class reason {
 public:
  explicit reason(std::string* out) : out_(out) {
    if (out_) out_->clear();
  }
  template <class... Parts>
  reason& operator()(const Parts&... clause) {
    if (!out_) return *this;
    if (!out_->empty()) out_->append("; ");
    (append(clause), ...);
    return *this;
  }

 private:
  void append(std::string_view text) { out_->append(text); }
  void append(const std::vector<std::string>& items) {  // "a, b, c"
    for (std::size_t i = 0; i < items.size(); ++i) (i ? out_->append(", ") : *out_).append(items[i]);
  }
  void append(utc_time t) {
    protocol::append_utc(t.unix_s, *out_);
    *out_ += 'Z';
  }
  template <std::integral N>
  void append(N n) {
    static_assert(!std::is_same_v<N, char> && !std::is_same_v<N, bool> && sizeof(N) <= 8, "text or a number");
    char digits[24];
    out_->append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
  }
  std::string* out_;
};

/// Which records a view of the world holds: `limit` of each kind (licences, tokens, hardware
/// tokens) from the `offset`th on, in key order. The default is all of them.
struct world_page {
  std::size_t offset = 0;
  std::size_t limit = SIZE_MAX;
  bool whole() const { return offset == 0 && limit == SIZE_MAX; }
};

class model {
 public:
  /// Builds the world of `s`; with `state_path`, resumes from that database (store.hpp). Throws
  /// std::runtime_error naming the file and every problem if the stored state is unusable.
  model(std::shared_ptr<const scenario> s, std::optional<std::string> state_path = std::nullopt);

  /// Adopts a reloaded scenario: new definitions are added, runtime state is kept; with
  /// `from_start`, the world becomes its start instead (a switch with a reset). Throws
  /// std::invalid_argument naming the path when a licence it declares names a serial or token
  /// another has, storage_error if the change cannot be stored; either keeps the old scenario.
  void adopt(std::shared_ptr<const scenario> s, bool from_start = false);
  /// The scenario's pinned codes that another token holds (a reload or a stored state pinned a
  /// code a token got before), a warning each with its JSON path: the pinned token gets 40 until
  /// that token gives the code up.
  std::vector<std::string> held_pins() const;

  /// The model's answer to a well-formed request of any operation, and in `why` (if given) the
  /// reason in protocol terms ("licence DA8C-… is bound to FG100F…; FG200F… is not in its
  /// cluster"). Throws storage_error.
  /// The answer is written into `out`: a reply of the same kind as the last one keeps its strings'
  /// storage, so a worker answering request after request allocates no reply. After storage_error,
  /// `out` is not an answer to send (it may tell of the change undone).
  void answer(const protocol::request& r, protocol::response& out, std::string* why = nullptr);
  protocol::activation_license_response import_license(const protocol::activation_license_request& r,
                                                       std::string* why = nullptr);
  void import_license(const protocol::activation_license_request& r, protocol::activation_license_response& out,
                      std::string* why = nullptr);
  protocol::provision_response provision(const protocol::provision_request& r, std::string* why = nullptr);
  /// The provisioning answered into `out`, over the last such reply, whose strings keep their storage.
  void provision(const protocol::provision_request& r, protocol::provision_response& out, std::string* why = nullptr);
  protocol::mobile_provision_response mobile_provision(const protocol::mobile_provision_request& r,
                                                       std::string* why = nullptr);
  /// The phone's request answered into `out`, over the last such reply (no allocation when the
  /// phone asks again).
  void mobile_provision(const protocol::mobile_provision_request& r, protocol::mobile_provision_response& out,
                        std::string* why = nullptr);
  protocol::polling_response poll(const protocol::polling_request& r, std::string* why = nullptr);
  /// The poll written into `out`, over the last poll's reply (no allocation when it is alike).
  void poll(const protocol::polling_request& r, protocol::polling_response& out, std::string* why = nullptr);
  protocol::hardware_activation_response activate_hardware(const protocol::hardware_activation_request& r,
                                                           std::string* why = nullptr);

  // ---- control calls ----
  std::optional<otp_value> otp(std::string_view token) const;
  /// The activation code of a token provisioned and waiting for its phone (neither activated nor
  /// expired), as the user gets it: what GET /tokens/<serial>/qr draws. None for any other token.
  std::optional<std::string> pending_activation_code(std::string_view token) const;
  /// Checks `code` as a verifier would (otp.hpp's windows); an accepted HOTP code moves the token's
  /// counter past it, durably. Nothing for a token without a seed. Throws storage_error.
  std::optional<otp_check> verify_otp(std::string_view token, std::string_view code);
  /// Releases a consumed hardware lock; false if the token is unknown.
  bool release_lock(std::string_view token);
  /// Provisions an FTM token as a FortiGate would (a new serial if `token` is empty).
  std::variant<provisioned_for_test, std::string> provision_for_test(std::string token);
  const virtual_clock& clock() const { return clock_; }
  /// Back to the scenario's start: every binding, token, lock and the clock. Throws storage_error.
  void reset();
  /// What POST /reset can reset one of.
  enum class reset_target { licence, token, device, hardware };
  /// What a reset of one thing did: done; `unknown`, fortisim knows no such thing; or `refused`,
  /// with why (a token's start code is another token's now: a phone's code names one token).
  struct reset_result {
    enum { done, unknown, refused } outcome = done;
    std::string why;
  };
  /// Puts one licence (by activation code), token, device (its bindings) or hardware token back
  /// as the scenario starts it. Throws storage_error.
  reset_result reset_one(reset_target what, const std::string& key);
  void advance_clock(std::int64_t ms);
  /// The world (or one page of it, with "page": {"offset", "limit", and each kind's total}) as
  /// JSON, as the control API shows it; with `with_otps`, each FortiToken Mobile token's current OTP
  /// too ("otp": {"code", "valid_for_s", "period"} or null). The records are copied under the
  /// shared lock, once, and written as JSON after it is let go: a large world never holds up a
  /// change (a writer waits only for the copy), and requests go on meanwhile.
  protocol::json snapshot(bool with_otps = false, world_page page = {}) const;
  /// With --state, how the writes went: {"file", "changes" written, "commits" (transactions, one
  /// fsync each: fewer than the changes when changes waited together), "undone" (changes a failed
  /// write took back), "checkpoints" (copies of the WAL into the file)}; null without --state.
  protocol::json state_status() const;
  /// Whether changes are written to disk (--state): then an answer may wait for its commit.
  bool durable() const { return store_.has_value(); }

 private:
  /// Runs `body` under the exclusive lock, then, outside it, waits until its change and every
  /// change it saw are durable, writing them (with all others queued) if no thread is writing.
  /// Throws storage_error when that write failed: its changes are undone.
  template <class Body>
  auto write_durably(Body&& body);
  /// Runs `body` under the shared lock, then waits until every change it saw is durable: an answer
  /// never tells of a change a failed write undoes. Throws storage_error when one was undone.
  template <class Body>
  auto read_durably(Body&& body) const;
  /// Notes the last change queued into `seen` as the lock goes, even when the body throws: the
  /// number write_durably and read_durably then wait for.
  struct note_seen {
    std::uint64_t& seen;
    const std::uint64_t& staged;
    ~note_seen() { seen = staged; }
  };
  /// Applies `c` now and, with --state, queues it to be written (commit.cpp).
  void commit_locked(const change& c);
  /// Applies `c` to the records in memory (and their indexes).
  void apply_in_memory_locked(const change& c);
  /// The change that undoes `c`: the records it replaces or drops as they are now.
  change inverse_locked(const change& c) const;
  /// Waits until change `seq` is durable, writing the queue if no thread is: the group commit.
  void await_durable(std::uint64_t seq);
  /// Waits until change `seq` is durable or undone, writing nothing (its writer writes it).
  void wait_durable(std::uint64_t seq) const;
  /// Writes every queued change in one transaction; on failure, undoes them and every change
  /// queued since. Called with commit_mutex_ held (`l`), which it lets go while writing.
  void write_queue(std::unique_lock<std::mutex>& l);
  /// Throws storage_error if change `seq` was undone (with commit_mutex_ held).
  void throw_if_undone(std::uint64_t seq) const;
  std::optional<otp_value> otp_locked(std::string_view token) const;
  std::optional<otp_check> verify_otp_locked(std::string_view token, std::string_view code);
  /// The OTP of a secret at `now_s` (unix seconds of the virtual clock).
  static otp_value otp_at(const std::string& serial, const std::string& secret, const protocol::otp_params& p,
                          std::int64_t now_s);
  void apply_locked(const licence_record& l);
  void apply_locked(const token_record& t);
  /// Drops `l`'s serial and tokens from the indexes (before it is replaced or dropped).
  void forget_locked(const licence_record& l);
  /// What `s` declares that is not there yet; with `from_scratch`, all of it (the start of the world).
  /// With `from_scratch` and `clear_of_runtime` (one licence reset), serials derived anew are clear
  /// of those that records the scenario does not declare have now: the reset one's are not taken.
  change definitions_locked(const scenario& s, bool from_scratch = false, bool clear_of_runtime = false) const;
  /// Why the world cannot take `s`: a licence it declares names a serial or token another licence
  /// or token already has (as "$.licenses[N].tokens[M]: …"); "" when it can.
  std::string clash_locked(const scenario& s) const;
  /// Why `c` cannot be made: a token it gives a code that a token it leaves alone holds; or "".
  std::string code_clash_locked(const change& c) const;
  /// The change that makes the world `s`'s start (a reset).
  change start_locked(const scenario& s) const;
  /// The change that puts licence `code` (and its tokens) back as the scenario starts it.
  void reset_licence_locked(const std::string& code, const change& start, change& c) const;
  /// Whether a serial is in use already (a new one must not be): the world's, or those of a
  /// change being built.
  using serial_taken = std::function<bool(const std::string&)>;
  /// `prefix` + digits derived from `key`; when those are taken, from `key#1`, `key#2`, …: the same
  /// world always gives the same serial, and no two records share one (10 digits collide, by the
  /// birthday bound, after some 100,000 licences).
  static std::string unique_serial(std::string_view prefix, const std::string& key, const serial_taken& taken);
  /// Whether a licence or token has `serial`: a stored token, one an unredeemed licence lists, or a
  /// licence's serial.
  bool serial_in_use_locked(const std::string& serial) const;
  /// The code of the licence whose serial or token `serial` is ("" for a token of no licence), or
  /// nothing when no record has it.
  std::optional<std::string_view> owner_locked(const std::string& serial) const;
  /// Adds `count` tokens derived from `key#0`, `key#1`, … to `l`: none `taken`, none twice.
  static void add_tokens(licence_record& l, const std::string& key, int count, const serial_taken& taken);
  /// A licence for `code`: its serial given or derived, its tokens derived; none `taken`.
  static licence_record new_licence(std::string_view code, const std::string& serial, int count,
                                    std::optional<std::int64_t> valid_until, const serial_taken& taken);
  /// The licence `code` names: the stored one (not copied: most imports only read it), or a new
  /// one made into `made` (trial, or an unknown code the scenario accepts), its serials derived
  /// only with `serials` (the shared pass needs its code and date alone); null when refused.
  const licence_record* licence_for_locked(std::string_view code, const protocol::envelope& env,
                                           protocol::error_id& refusal, std::optional<licence_record>& made,
                                           bool serials) const;
  token_status status_now_locked(const token_record& t) const;
  /// Whether `t` belongs to a licence some device redeemed (so a reset token starts fresh, not gone).
  bool owns_token_of_redeemed_licence_locked(const token_record& t) const;
  /// Whether the requester (or its cluster, as the scenario says) may provision `t`.
  bool owns_locked(const token_record& t, const protocol::envelope& env) const;
  /// Why a requester that does not own `t` does not (for the journal).
  std::string ownership_locked(const token_record& t, const protocol::envelope& env) const;
  /// Under licence_use registered_listed, a request that lists members of `t`'s cluster but not the
  /// serial its licence is registered to: those members' entries say "Product is not registered"
  /// [inferred: KB 424201's reply is KB 308115's].
  void mark_unregistered_members_locked(const token_record& t, protocol::reply_head& head) const;
  /// `s`'s pinned codes, by token and by code.
  void pin_locked(const scenario& s);
  /// The change a provisioning fills: the last one's, emptied, its token records kept aside.
  change& provisioning_change_locked();
  /// `from`, copied into `c` over a record kept aside when there is one (its strings' storage reused).
  token_record& copy_into_locked(change& c, const token_record& from);
  void provision_one_locked(const protocol::provisioned_token& p, const protocol::envelope& env,
                            protocol::reply_head& head, change& c, reason& why, protocol::provisioned_result& out);
  /// The token that keeps `code` from `t`: its holder as `c` (found through `index`) leaves the
  /// world, or the token the scenario pins it to (`pinned`); no token when the code is free for `t`.
  struct code_holder {
    std::string_view token;
    bool pinned = false;
  };
  code_holder code_holder_locked(const protocol::activation_bytes& code, const token_record& t, const change& c,
                                 const change_index& index) const;
  /// The 8 bytes of `t`'s next activation code: pinned by the scenario, given by the client (none
  /// when that is malformed, or another token's or pinned to another), or derived from the seed,
  /// the token and its provisioning count (and never one in use or pinned to another).
  std::optional<protocol::activation_bytes> next_code_locked(const token_record& t, const std::string& client_code,
                                                             const change& c, const change_index& index) const;
  void head_locked(const protocol::envelope& env, protocol::operation op, protocol::reply_head& out) const;
  /// The import, under a lock: the shared one when `may_change` is false, and then false (no
  /// answer) when the import would change the world.
  bool import_locked(const protocol::activation_license_request& r, protocol::activation_license_response& out,
                     std::string* why, bool may_change);

  mutable writer_first_lock mutex_;
  std::shared_ptr<const scenario> scenario_;
  virtual_clock clock_;
  std::optional<store> store_;
  std::map<std::string, licence_record, std::less<>> licences_;   // by activation code (upper case)
  std::map<std::string, token_record, std::less<>> tokens_;       // by serial
  std::map<std::string, hardware_record, std::less<>> hardware_;  // by serial
  /// A hardware token's first TOTP step a verifier still accepts (its record holds no counter):
  /// replay protection for as long as the process runs.
  std::map<std::string, std::uint64_t, std::less<>> hardware_steps_;
  std::map<std::string, std::string, std::less<>> by_activation_;  // 16 hex -> token serial
  std::map<std::string, std::string, std::less<>> licence_codes_;  // licence serial -> activation code
  /// Token serial -> the code of the unredeemed licence that lists it. A redeemed licence's tokens
  /// are all in tokens_ (its import stored them), so first imports add nothing here.
  std::map<std::string, std::string, std::less<>> unredeemed_tokens_;
  std::map<std::string, std::string, std::less<>> pinned_;          // token -> user code (the scenario's)
  std::map<std::string, std::string, std::less<>> pinned_by_code_;  // a pinned code's 16 hex -> its token
  std::uint64_t test_tokens_ = 0;
  /// What a provisioning works in, kept with its storage from one to the next (under the exclusive
  /// lock): the change it makes, a few token records of the last change for the next copies to
  /// reuse, and the seed it decodes.
  struct provisioning_scratch {
    static constexpr std::size_t kept_tokens = 8;
    change c;
    change_index index;  ///< of c
    std::vector<token_record> spare;
    std::string seed;
  } provisioning_;

  // The group commit (commit.cpp), with --state.
  struct queued_change {
    std::uint64_t seq;
    change forward, inverse;
  };
  struct undone_range {
    std::uint64_t first, last;
    std::string why;
  };
  std::uint64_t staged_seq_ = 0;  ///< the last change queued (under mutex_)
  mutable std::mutex commit_mutex_;
  mutable std::condition_variable committed_;
  std::vector<queued_change> queue_;  ///< under commit_mutex_: applied, not yet being written
  bool writing_ = false;              ///< under commit_mutex_: a thread is writing a batch
  static constexpr std::size_t max_undone_ranges = 65536;
  std::deque<undone_range> undone_;   ///< under commit_mutex_: the last failed writes (max_undone_ranges)
  std::uint64_t forgotten_upto_ = 0;  ///< under commit_mutex_: the last change of the failures dropped from undone_
  std::uint64_t changes_written_ = 0, commits_ = 0, changes_undone_ = 0;  ///< under commit_mutex_
  std::atomic<std::uint64_t> resolved_seq_{0};  ///< every change up to it is durable or undone
  std::atomic<std::uint64_t> undone_upto_{0};   ///< the last change undone
};

template <class Body>
auto model::write_durably(Body&& body) {
  std::uint64_t seen = 0;
  auto locked = [&] {
    std::lock_guard lock(mutex_);
    note_seen note{seen, staged_seq_};
    return body();
  };
  // A change queued by a body that then threw is still written: a reader may be waiting for it.
  auto settle = [&] {
    try {
      await_durable(seen);
    } catch (const storage_error&) {
    }
  };
  if constexpr (std::is_void_v<decltype(body())>) {
    try {
      locked();
    } catch (...) {
      settle();
      throw;
    }
    await_durable(seen);
  } else {
    auto out = [&] {
      try {
        return locked();
      } catch (...) {
        settle();
        throw;
      }
    }();
    await_durable(seen);
    return out;
  }
}

template <class Body>
auto model::read_durably(Body&& body) const {
  std::uint64_t seen = 0;
  auto locked = [&] {
    std::shared_lock lock(mutex_);
    note_seen note{seen, staged_seq_};
    return body();
  };
  if constexpr (std::is_void_v<decltype(body())>) {
    locked();
    wait_durable(seen);
  } else {
    auto out = locked();
    wait_durable(seen);
    return out;
  }
}

}  // namespace fortisim::core
