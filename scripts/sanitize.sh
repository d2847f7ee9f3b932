#!/bin/sh
# Builds fortisim and its tests with clang and a sanitizer, and runs the tests there:
#   sh scripts/sanitize.sh           AddressSanitizer and UndefinedBehaviorSanitizer (Debug) in
#                                    build-asan/, every test: memory errors, leaks and undefined
#                                    behaviour fail the run
#   sh scripts/sanitize.sh thread    ThreadSanitizer (RelWithDebInfo) in build-tsan/, the tests
#                                    labelled `threads` (those that start threads): a data race
#                                    fails the run
# clang, not the default g++: the tree compiles with both compilers at no extra build.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-address}
sh "$root/scripts/install-deps.sh"
# llvm-14 for llvm-symbolizer, which names a report's frames (clang without its recommended
# packages lacks it, and the sanitizers then fall back to addr2line); given by path, as Debian
# installs it under a versioned name only.
symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
if ! command -v clang++ >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'install ok' ||
  [ ! -x "$symbolizer" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev llvm-14 >/dev/null
fi
case $kind in
  address)
    build=${FORTISIM_BUILD:-$root/build-asan}
    args="-DFORTISIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"
    select=""
    targets=""
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:external_symbolizer_path=$symbolizer
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    ;;
  thread)
    build=${FORTISIM_BUILD:-$root/build-tsan}
    args="-DFORTISIM_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo"
    select="-L threads"
    targets="fortisim fortisim_unit_thread_tests fortisim_integration_tests"  # what those tests run
    export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/tsan.supp external_symbolizer_path=$symbolizer"
    ;;
  *) echo "sanitize.sh: unknown kind '$kind': expected address or thread" >&2 && exit 2 ;;
esac
CXX=${CXX:-clang++} FORTISIM_BUILD=$build FORTISIM_CMAKE_ARGS="$args ${FORTISIM_CMAKE_ARGS:-}" \
  FORTISIM_TARGETS=$targets sh "$root/scripts/build.sh"
cd "$build"
# shellcheck disable=SC2086
exec ctest --output-on-failure --timeout 600 -j "$(nproc)" $select
