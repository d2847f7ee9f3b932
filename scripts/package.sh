#!/bin/sh
# Makes the Debian packages into dist/ (or the folder given):
#   fortisim_<version>_<arch>.deb      the binary, scenarios, man page, bash completion, docs,
#                                      examples and the pytest plugin's source
#   fortisim-dev_<version>_<arch>.deb  the C++ fixture's libraries, headers and CMake package
# from build/ (or $FORTISIM_BUILD), built first if it is not there (cpack itself builds nothing:
# cmake/package.cmake). Install with
#   apt-get install ./dist/fortisim_*.deb
# cmake/package.cmake says what goes where; CI installs the package in the container image
# (scripts/container-test.sh) and runs it there.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FORTISIM_BUILD:-$root/build}
out=$(mkdir -p "${1:-$root/dist}" && cd "${1:-$root/dist}" && pwd)
# A build first when there is none, or one without libfortisim.so (fortisim-dev carries it): with
# -DFORTISIM_SHARED=ON, as CI's build is configured (turning it on later rebuilds everything once,
# as position-independent code).
if [ ! -x "$build/fortisim" ] || [ ! -f "$build/fortisim.1.gz" ] || [ ! -e "$build/libfortisim.so" ]; then
  FORTISIM_BUILD=$build FORTISIM_CMAKE_ARGS="-DFORTISIM_SHARED=ON ${FORTISIM_CMAKE_ARGS:-}" sh "$root/scripts/build.sh"
fi
rm -f "$out"/fortisim_*.deb "$out"/fortisim-dev_*.deb
(cd "$build" && cpack -G DEB -B "$out" >&2)
rm -rf "$out/_CPack_Packages"
for deb in "$out"/*.deb; do
  echo "$deb: $(dpkg-deb -f "$deb" Package Version Depends | tr '\n' ' ')"
done
