#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz/) with clang, AddressSanitizer and UBSan into
# build-fuzz/, and runs each from its seed corpus: for FUZZ_SECONDS (default 30) of open-ended
# exploration, or, with FUZZ_RUNS=N, exactly N inputs from seed FUZZ_SEED (default 1), the same
# inputs on every machine (what CI does, so a commit passes or fails CI the same way every time).
# Targets: request (the server's request path), scenario (the scenario loader), client_reply (what
# `fortisim client` makes of a server's reply), state (the stored state's loader, each input SQL
# that damages a real state). A crash, a leak, undefined behaviour or a malformed
# reply fails the run and leaves the input in build-fuzz/; add it to tests/fuzz/corpus/ with the fix. The scenario target is also seeded from
# the shipped scenarios (scenarios/*.json), read where they are: the corpus holds no copies.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FORTISIM_FUZZ_BUILD:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-30}
if [ -n "${FUZZ_RUNS:-}" ]; then
  budget="-runs=$FUZZ_RUNS -seed=${FUZZ_SEED:-1}"
  what="$FUZZ_RUNS inputs (seed ${FUZZ_SEED:-1})"
else
  budget="-max_total_time=$seconds"
  what="${seconds}s"
fi
sh "$root/scripts/install-deps.sh"
if ! command -v clang++ >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'install ok'; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
CXX=clang++ cmake -S "$root" -B "$build" -DFORTISIM_FUZZ=ON -DFORTISIM_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target fortisim_fuzz_request fortisim_fuzz_scenario fortisim_fuzz_client_reply \
  fortisim_fuzz_state
cd "$build"
# Two runs per target. The first mutates two inputs as large as the body limit, made here rather
# than committed (a megabyte nested deep, a megabyte of one string): each costs milliseconds, so it
# gets FUZZ_LARGE_RUNS (default 1000) inputs. The second explores from the committed corpus (and,
# for scenarios, the shipped ones) with inputs up to 64 KiB, for the budget above.
run() {  # target, log, options...
  target=$1 log=$2
  shift 2
  status=0
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "./fortisim_fuzz_$target" "$@" -timeout=10 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log"
    echo "fuzzing $target FAILED (exit $status); the input is in $build" >&2
    exit "$status"
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log"
}
# The scenario target's other seeds: libFuzzer reads folders, so the shipped scenarios are copied
# into one, afresh each run (schema.json describes them and is not one).
rm -rf shipped-scenarios
mkdir -p shipped-scenarios
for f in "$root"/scenarios/*.json; do
  [ "$(basename "$f")" = schema.json ] || cp "$f" shipped-scenarios/
done
fuzz() {  # target: its two runs, one after the other
  target=$1
  rm -rf "large-$target" "corpus-$target"
  mkdir -p "large-$target" "corpus-$target"
  python3 -c "import sys; sys.stdout.write('{\"d\":' + '[' * 524000 + ']' * 524000 + '}')" >"large-$target/deep-1mib"
  python3 -c "import sys; sys.stdout.write('{\"d\":{\"__type\":\"SoftToken.PollingRequest\",\"serial_number\":\"' + 'F' * 1048000 + '\"}}')" >"large-$target/long-1mib"
  echo "fuzzing $target: ${FUZZ_LARGE_RUNS:-1000} inputs up to 1 MiB (seed ${FUZZ_SEED:-1})"
  run "$target" "fuzz-$target-large.log" -runs="${FUZZ_LARGE_RUNS:-1000}" -seed="${FUZZ_SEED:-1}" -max_len=1048576 \
    "large-$target"
  echo "fuzzing $target: $what, inputs up to 64 KiB"
  set -- "corpus-$target" "$root/tests/fuzz/corpus/$target"
  if [ "$target" = scenario ]; then set -- "$@" shipped-scenarios; fi
  # shellcheck disable=SC2086
  run "$target" "fuzz-$target.log" $budget -max_len=65536 "$@"
}
# The targets run side by side (each libFuzzer run is one thread; a seeded run's inputs do not
# depend on what else runs), and each one's report is printed whole, in order, when all are done.
targets="request scenario client_reply state"
for target in $targets; do
  (fuzz "$target") >"fuzz-$target.out" 2>&1 &
  echo $! >"fuzz-$target.pid"
done
failed=""
for target in $targets; do
  wait "$(cat "fuzz-$target.pid")" || failed="$failed $target"
  cat "fuzz-$target.out"
done
if [ -n "$failed" ]; then
  echo "fuzzing FAILED:$failed" >&2
  exit 1
fi
