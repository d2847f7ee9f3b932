#pragma once
// What a test file that drives the real binary starts with (include it first, in test files
// only): the spawn helpers, a temporary folder, skips, and the names those files use unqualified.

#include "../support/skip.hpp"
#include "../support/temp_folder.hpp"
#include "process.hpp"
#include "served_binary.hpp"
#include "startup_failure.hpp"

#include <chrono>
#include <string>

namespace fortisim::test {

/// The source tree: scenarios/, scripts/, docs/, the Dockerfile.
inline const std::string source = FORTISIM_SOURCE_DIR;

}  // namespace fortisim::test

// A test file's own names: never include this from a header.
using namespace fortisim;
using namespace fortisim::test;
using protocol::json;
using namespace std::chrono_literals;
