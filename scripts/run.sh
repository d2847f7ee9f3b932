#!/bin/sh
# Quick start, command 1: install what is missing, build, and serve scenarios/default.json on
# 0.0.0.0:443. Extra arguments go to `fortisim serve` (e.g. --listen 127.0.0.1:8443).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
sh "$root/scripts/build.sh"
exec "${FORTISIM_BUILD:-$root/build}/fortisim" serve --scenario "$root/scenarios/default.json" "$@"
