#pragma once
// Skipping a check whose tool is missing, so that ctest says "Skipped" rather than "Passed": a test
// case that calls skip_test() and returns makes the test program exit 77 (each ctest entry runs one
// test case; tests/CMakeLists.txt sets SKIP_RETURN_CODE 77). With FORTISIM_REQUIRE_TOOLS=1 (CI), a
// skip is a failure instead.

#include <string>

namespace fortisim::test {

/// True when FORTISIM_REQUIRE_TOOLS is set to anything but "" or "0": every skip is then a failure.
bool tools_required();

/// Ends the running test case as skipped, for `why` (printed): the caller returns right after.
/// Under FORTISIM_REQUIRE_TOOLS it fails the test case instead (and throws, as REQUIRE does).
void skip_test(const std::string& why);

/// The same for a tool no Debian 12 package provides (hadolint): always a skip, never a failure,
/// since no machine of the project can have it.
void skip_test_without_package(const std::string& why);

/// The exit status of the test program: doctest's when something failed, 77 when every test case
/// that ran was skipped, 0 otherwise.
int exit_status(int doctest_status);

}  // namespace fortisim::test
