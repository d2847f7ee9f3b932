#pragma once
// `fortisim state check FILE`: the start-up check of a --state database, without serving. The
// same problems, named by table, row and column, that would refuse `fortisim serve --state FILE`.

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>

namespace fortisim {

/// Adds `state check FILE` to `app`; FILE goes to `file`.
CLI::App* add_state_check(CLI::App& app, std::string& file);
/// Checks `file` read-only: "FILE: ok: …" and 0, or each problem ("FILE: tokens[FTKMOB…].period:
/// …") and 1.
int run_state_check(const std::string& file, std::ostream& out);

}  // namespace fortisim
