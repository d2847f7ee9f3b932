#!/bin/sh
# Quick start, command 1: install what is missing, build the release binary alone (no tests) into
# build-release/ (or $FORTISIM_BUILD), and serve scenarios/default.json on 0.0.0.0:443. Extra
# arguments go to `fortisim serve` (e.g. --listen 127.0.0.1:8443); a --scenario among them serves
# that scenario instead of the default one.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FORTISIM_BUILD:-$root/build-release}
sh "$root/scripts/install-deps.sh" build run
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFORTISIM_TESTS=OFF ${FORTISIM_CMAKE_ARGS:-} >/dev/null
# Progress goes to stderr: stdout carries only what fortisim prints (its ready line first).
cmake --build "$build" -j "$(nproc)" --target fortisim >&2
given=false
for arg in "$@"; do
  case $arg in --scenario | --scenario=*) given=true ;; esac
done
$given || set -- --scenario "$root/scenarios/default.json" "$@"
exec "$build/fortisim" serve "$@"
