#pragma once
// The log for people (`fortisim serve --log-format text`, the default when stderr is a terminal):
// one line per exchange or event, the time first, then what a lab engineer scans for — who asked,
// under which SNI, what, and what they got. `--log-format json` keeps the machine form (the
// journal's fields, journal::write_line); both carry the same facts.
//   2026-11-28T20:41:02.123Z http #3.1 192.0.2.10 sni=directregistration.fortinet.com POST
//     /SoftToken/Provisioning.asmx/Process SoftToken.ActivationLicenseRequest -> 200 error 14 …
//   2026-11-28T20:41:05.000Z listener listening=false for_ms=5000

#include "server/core/observe/journal.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace fortisim::core {

/// How the log writes its lines: `json` one JSON object a line, `text` one readable line.
enum class log_format { json, text };

/// One exchange as a readable line (no newline), appended to `out`: the client certificate by its
/// subject; with `bodies`, the request's body too, its seeds as `s` says (without, a line fits a
/// terminal row; the journal always has the body).
void write_text_line(const journal_entry& e, std::string& out, secrets s = secrets::hidden, bool bodies = false);

/// One event that is not an exchange ({"event": "reload", "ok": true}) as a readable line:
/// the time, the event, then `key=value` for each field (strings with spaces quoted as JSON).
std::string text_notice(std::string_view event, const protocol::json& fields, std::int64_t time_ms);

/// `time_ms` (since the epoch, UTC) as 2026-11-28T20:41:02.123Z, appended to `out`.
void append_time(std::int64_t time_ms, std::string& out);

}  // namespace fortisim::core
