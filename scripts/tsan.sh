#!/bin/sh
# Builds fortisim and its tests with ThreadSanitizer into build-tsan/ and runs the tests that drive
# many threads at once (the server's workers under concurrent load, the control API beside them,
# signals during load): a data race fails the run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FORTISIM_TSAN_BUILD:-$root/build-tsan}
FORTISIM_BUILD=$build FORTISIM_CMAKE_ARGS="-DFORTISIM_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo" sh "$root/scripts/build.sh"
cd "$build"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
exec ctest --output-on-failure --timeout 600 -j "$(nproc)" -R "${FORTISIM_TSAN_TESTS:-concurren|load|lock|SIGTERM|SIGHUP|reload|worker|journal|abuse|2,000|metrics|refuse}"
