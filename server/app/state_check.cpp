#include "server/app/state_check.hpp"

#include "server/core/model/store.hpp"

#include <algorithm>
#include <ostream>
#include <string_view>

namespace fortisim {

CLI::App* add_state_check(CLI::App& app, std::string& file) {
  auto* state = app.add_subcommand("state", "Inspect a --state database");
  state->require_subcommand(1);
  auto* check = state->add_subcommand(
      "check", "Check a --state database as start-up does (pages, tables, rows, relations), read-only");
  check->add_option("file", file, "The state database")->required();
  return state;
}

int run_state_check(const std::string& file, std::ostream& out) {
  try {
    core::store db(file, core::store::access::check);
    auto loaded = db.load();
    if (auto* problems = std::get_if<std::vector<core::problem>>(&loaded)) {
      for (const auto& p : *problems) out << file << ": " << p.path << ": " << p.reason << "\n";
      return 1;
    }
    const auto& c = std::get<core::store::contents>(loaded);
    auto consumed = std::count_if(c.hardware.begin(), c.hardware.end(), [](const auto& h) { return h.consumed; });
    out << file << ": ok: " << c.licences.size() << " licences, " << c.tokens.size() << " tokens, " << c.hardware.size()
        << " hardware tokens (" << consumed << " locks consumed)" << (c.clock_ms ? ", the clock moved" : "") << "\n";
    return 0;
  } catch (const core::storage_error& e) {
    std::string_view why = e.what();  // some name the file already: "<file>: cannot open …"
    if (why.starts_with(file + ": ")) why.remove_prefix(file.size() + 2);
    out << file << ": $: " << why << "\n";
    return 1;
  }
}

}  // namespace fortisim
