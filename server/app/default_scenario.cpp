#include "server/app/default_scenario.hpp"

#include <filesystem>

namespace fortisim {

namespace fs = std::filesystem;

std::vector<std::string> default_scenario_candidates() {
  std::vector<std::string> out;
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto bin = exe.parent_path();
    // FORTISIM_SCENARIOS_FROM_BIN: the install's share/fortisim/scenarios seen from its bin/ (CMake).
    out.push_back((bin / FORTISIM_SCENARIOS_FROM_BIN / "default.json").lexically_normal().string());
    out.push_back((bin / "scenarios" / "default.json").lexically_normal().string());  // a copy beside its folder
    out.push_back((bin / ".." / "scenarios" / "default.json").lexically_normal().string());
  }
  out.push_back((fs::path(FORTISIM_SOURCE_SCENARIOS) / "default.json").lexically_normal().string());
  return out;
}

std::string find_default_scenario(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) return c;
  }
  return {};
}

}  // namespace fortisim
