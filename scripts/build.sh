#!/bin/sh
# Installs what is missing, then configures and builds fortisim into build/ (or $FORTISIM_BUILD).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FORTISIM_BUILD:-$root/build}
sh "$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" ${FORTISIM_CMAKE_ARGS:-} >/dev/null
# Progress goes to stderr: stdout carries only what fortisim prints (its ready line first).
cmake --build "$build" -j "$(nproc)" >&2
