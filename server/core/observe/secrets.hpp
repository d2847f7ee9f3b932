#pragma once
// Token seeds are kept out of every view unless fortisim was asked to show them
// (`fortisim serve --show-secrets`): the journal (GET /journal), the log, the console's feed and
// world, and GET /state all write "(hidden)" where a seed or secret would be. The model and the wire
// keep them: a FortiGate still gets its seed, and GET /otp/<token> still computes its code.

#include <string>
#include <string_view>

namespace fortisim::core {

/// Whether a view shows token seeds.
enum class secrets { hidden, shown };

/// Replaces the string values of the keys "seed" and "secret" in JSON text (which may be cut
/// short) with "(hidden)": {"token":"FTK1","seed":"4A…"} becomes {"token":"FTK1","seed":"(hidden)"}.
/// Keys are read as JSON reads them: "s\u0065ed" is "seed" too.
std::string hide_secrets(std::string_view json_text);

/// `text` as a view with `s` shows it: itself, or with its secrets hidden (written into
/// `scratch`). Text that cannot name a secret is returned as it is, without a copy.
std::string_view shown(std::string_view text, secrets s, std::string& scratch);

}  // namespace fortisim::core
