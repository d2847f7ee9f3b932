#!/bin/sh
# Installs what is missing, then configures and builds fortisim into build/ (or $FORTISIM_BUILD).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FORTISIM_BUILD:-$root/build}
sh "$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" ${FORTISIM_CMAKE_ARGS:-} >/dev/null
# Progress goes to stderr: stdout carries only what fortisim prints (its ready line first).
# FORTISIM_TARGETS: build only these (scripts/sanitize.sh thread builds what its tests run).
# shellcheck disable=SC2086
cmake --build "$build" -j "$(nproc)" ${FORTISIM_TARGETS:+--target $FORTISIM_TARGETS} >&2
