#!/bin/sh
# Runs the examples as another project would use fortisim (CI runs this after the tests, reusing
# build/): installs build/ into a temporary prefix, builds examples/cpp-fixture against it with
# find_package(fortisim) and runs its doctest suite, then again against libfortisim.so alone
# when build/ has it (-DFORTISIM_SHARED=ON; CI's does, and FORTISIM_REQUIRE_TOOLS=1 makes its
# absence a failure), checks that the same project configures
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

echo "examples: examples/cpp-fixture against libfortisim.so alone (find_package COMPONENTS shared)"
if ls "$prefix"/lib*/cmake/fortisim/fortisimSharedTargets.cmake >/dev/null 2>&1; then
  # It may ask for no dependency but nlohmann_json: every other find_package here fails.
  cmake -S "$root/examples/cpp-fixture" -B "$work/cpp-fixture-shared" -DCMAKE_PREFIX_PATH="$prefix" \
    -DFORTISIM_EXAMPLE_SHARED=ON -DCMAKE_DISABLE_FIND_PACKAGE_OpenSSL=ON -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON \
    -DCMAKE_DISABLE_FIND_PACKAGE_PNG=ON -DCMAKE_DISABLE_FIND_PACKAGE_SQLite3=ON -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=ON \
    -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON -DCMAKE_DISABLE_FIND_PACKAGE_Threads=ON >/dev/null
  cmake --build "$work/cpp-fixture-shared" -j "$(nproc)" >/dev/null
  readelf -d "$work/cpp-fixture-shared/licence_tests" | grep -q 'NEEDED.*\[libfortisim\.so' ||
    { echo "examples: licence_tests does not load libfortisim.so" >&2 && exit 1; }
  (cd "$work/cpp-fixture-shared" && ctest --output-on-failure --timeout 120)
elif [ "${FORTISIM_REQUIRE_TOOLS:-0}" = 1 ]; then
  echo "examples: $build has no libfortisim.so: configure it with -DFORTISIM_SHARED=ON" >&2
  exit 1
else
  echo "examples: skipped: $build was configured without -DFORTISIM_SHARED=ON (no libfortisim.so)"
fi

echo "examples: examples/cpp-fixture with add_subdirectory (configure only)"
cmake -S "$root/examples/cpp-fixture" -B "$work/cpp-fixture-subdir" -DFORTISIM_SOURCE_DIR="$root" >/dev/null

echo "examples: the pytest plugin and examples/pytest against the installed binary"
FORTISIM_BIN="$prefix/bin/fortisim" sh "$root/scripts/plugin-test.sh"
