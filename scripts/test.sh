#!/bin/sh
# Quick start, command 2: install what is missing, build, and run every test (ctest).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
sh "$root/scripts/install-deps.sh" browser  # Chromium, for the web console's browser test
sh "$root/scripts/build.sh"
cd "${FORTISIM_BUILD:-$root/build}"
exec ctest --output-on-failure --timeout 300 -j "$(nproc)"
