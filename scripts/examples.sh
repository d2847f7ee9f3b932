#!/bin/sh
# Runs the examples as another project would use fortisim (CI runs this after the tests, reusing
# build/): installs build/ into a temporary prefix, builds examples/cpp-fixture against it with
# find_package(fortisim) and runs its doctest suite, checks that the same project configures
# with add_subdirectory() of this checkout, then runs examples/pytest against the installed
# binary, from another folder. Installs python3-pytest and python3-requests when missing.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FORTISIM_BUILD:-$root/build}
missing=""
for p in python3-pytest python3-requests; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "fortisim examples: installing$missing" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
[ -x "$build/fortisim" ] || sh "$root/scripts/build.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/fortisim-examples-XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
echo "examples: cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null

echo "examples: examples/cpp-fixture against the install (find_package)"
cmake -S "$root/examples/cpp-fixture" -B "$work/cpp-fixture" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cpp-fixture" -j "$(nproc)" >/dev/null
(cd "$work/cpp-fixture" && ctest --output-on-failure --timeout 120)

echo "examples: examples/cpp-fixture with add_subdirectory (configure only)"
cmake -S "$root/examples/cpp-fixture" -B "$work/cpp-fixture-subdir" -DFORTISIM_SOURCE_DIR="$root" >/dev/null

echo "examples: examples/pytest against the installed binary"
cd "$work"
# Debian's python3, the one python3-pytest belongs to (a pyenv or venv python3 on PATH lacks it).
python=/usr/bin/python3
[ -x "$python" ] || python=python3
FORTISIM_BIN="$prefix/bin/fortisim" "$python" -m pytest -q -p no:cacheprovider "$root/examples/pytest"
