#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz/) with clang, AddressSanitizer and UBSan into
# build-fuzz/, and runs each for FUZZ_SECONDS (default 30) from its seed corpus. A crash, a leak,
# undefined behaviour or a malformed reply fails the run and leaves the input in build-fuzz/.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FORTISIM_FUZZ_BUILD:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-30}
sh "$root/scripts/install-deps.sh"
if ! command -v clang++ >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'install ok'; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
CXX=clang++ cmake -S "$root" -B "$build" -DFORTISIM_FUZZ=ON -DFORTISIM_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target fortisim_fuzz_request fortisim_fuzz_scenario
cd "$build"
for target in request scenario; do
  mkdir -p "corpus-$target"
  echo "fuzzing $target for ${seconds}s"
  status=0
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "./fortisim_fuzz_$target" -max_total_time="$seconds" -max_len=8192 \
    -timeout=10 -print_final_stats=1 "corpus-$target" "$root/tests/fuzz/corpus/$target" >"fuzz-$target.log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 60 "fuzz-$target.log"
    echo "fuzzing $target FAILED (exit $status); the input is in $build" >&2
    exit "$status"
  fi
  grep -E '^(Done|stat::)' "fuzz-$target.log"
done
