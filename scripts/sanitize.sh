#!/bin/sh
# Builds fortisim and its tests with AddressSanitizer and UndefinedBehaviorSanitizer (Debug) into
# build-asan/ and runs every test there: memory errors, leaks and undefined behaviour fail the run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
FORTISIM_BUILD=${FORTISIM_BUILD:-$root/build-asan} \
FORTISIM_CMAKE_ARGS="-DFORTISIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug" \
  sh "$root/scripts/build.sh"
cd "${FORTISIM_BUILD:-$root/build-asan}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
exec ctest --output-on-failure --timeout 600 -j "$(nproc)"
