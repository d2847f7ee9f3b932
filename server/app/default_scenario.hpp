#pragma once
// Where `fortisim serve` finds scenarios/default.json without --scenario, from any working folder:
// beside the binary as installed (<prefix>/bin/fortisim -> <prefix>/share/fortisim/scenarios),
// in a scenarios folder beside a copied binary (<folder>/fortisim -> <folder>/scenarios), beside
// it in a build tree inside the checkout (build/fortisim -> scenarios/), then in the
// checkout it was built from.

#include <string>
#include <vector>

namespace fortisim {

/// The places looked at, in order, for the running executable.
std::vector<std::string> default_scenario_candidates();
/// The first candidate that exists; "" if none does.
std::string find_default_scenario(const std::vector<std::string>& candidates);

}  // namespace fortisim
