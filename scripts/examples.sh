#!/bin/sh
# Runs the examples as another project would use fortisim (CI runs this after the tests, reusing
# build/): installs build/ into a temporary prefix, builds examples/cpp-fixture against it with
# find_package(fortisim) and runs its doctest suite, checks that the same project configures
# with add_subdirectory() of this checkout, then runs the pytest plugin's tests and
# examples/pytest against the installed binary, from another folder (scripts/plugin-test.sh, which
# installs the plugin in a fresh venv and the Debian packages it needs).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FORTISIM_BUILD:-$root/build}
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

echo "examples: the pytest plugin and examples/pytest against the installed binary"
FORTISIM_BIN="$prefix/bin/fortisim" sh "$root/scripts/plugin-test.sh"
